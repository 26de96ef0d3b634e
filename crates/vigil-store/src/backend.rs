//! The two databases behind one small interface: statements with `?` placeholders and typed
//! parameters, rows of typed cells, and explicit transactions. Everything above it is
//! written once.

use crate::error::{Error, Result};

/// A statement parameter. Nulls are typed: PostgreSQL checks a parameter's type even when
/// it is null.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Text(Some(s.to_string()))
    }
}
impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Text(Some(s))
    }
}
impl From<Option<&str>> for Param {
    fn from(s: Option<&str>) -> Param {
        Param::Text(s.map(str::to_string))
    }
}
impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Param {
        Param::Text(s)
    }
}
impl From<i64> for Param {
    fn from(x: i64) -> Param {
        Param::Int(Some(x))
    }
}
impl From<f64> for Param {
    fn from(x: f64) -> Param {
        Param::Real(Some(x))
    }
}

/// A cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
}

impl Cell {
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    pub(crate) fn text_or_empty(&self) -> String {
        self.text().unwrap_or_default()
    }
    pub(crate) fn int(&self) -> i64 {
        match self {
            Cell::Int(x) => *x,
            Cell::Real(x) => *x as i64,
            _ => 0,
        }
    }
    pub(crate) fn real(&self) -> f64 {
        match self {
            Cell::Real(x) => *x,
            Cell::Int(x) => *x as f64,
            _ => 0.0,
        }
    }
}

/// One database connection.
pub(crate) trait Backend: Send {
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
    /// Runs one statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;
    /// Runs one query; its rows.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Cell>>>;
    /// Runs statements without parameters (a migration).
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Starts a transaction that writers of `table` wait for.
    fn begin_exclusive(&mut self, table: &str) -> Result<()>;
    /// Starts a transaction.
    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN")
    }
    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }
    fn rollback(&mut self) -> Result<()> {
        self.batch("ROLLBACK")
    }
}

fn db_error(backend: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Database {
        backend,
        reason: e.to_string(),
    }
}

/// SQLite through rusqlite (the library is built in: no system package needed).
pub(crate) struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    /// Opens (creating) the database file in WAL mode with full sync: a write that
    /// returned is on disk.
    pub(crate) fn open(path: &std::path::Path) -> Result<Sqlite> {
        let conn = rusqlite::Connection::open(path).map_err(|e| Error::Open {
            target: path.display().to_string(),
            reason: e.to_string(),
        })?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;",
        )
        .map_err(|e| Error::Open {
            target: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Sqlite { conn })
    }
}

fn sqlite_params(params: &[Param]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    params
        .iter()
        .map(|p| match p {
            Param::Text(Some(s)) => Value::Text(s.clone()),
            Param::Int(Some(x)) => Value::Integer(*x),
            Param::Real(Some(x)) => Value::Real(*x),
            Param::Text(None) | Param::Int(None) | Param::Real(None) => Value::Null,
        })
        .collect()
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let values = sqlite_params(params);
        self.conn
            .execute(sql, rusqlite::params_from_iter(values.iter()))
            .map(|n| n as u64)
            .map_err(|e| db_error("sqlite", e))
    }
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Cell>>> {
        use rusqlite::types::ValueRef;
        let values = sqlite_params(params);
        let mut statement = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| db_error("sqlite", e))?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(values.iter()))
            .map_err(|e| db_error("sqlite", e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| db_error("sqlite", e))? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                let cell = match row.get_ref(i).map_err(|e| db_error("sqlite", e))? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(x) => Cell::Int(x),
                    ValueRef::Real(x) => Cell::Real(x),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                };
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(out)
    }
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| db_error("sqlite", e))
    }
    fn begin_exclusive(&mut self, _table: &str) -> Result<()> {
        // IMMEDIATE takes the database's write lock now: writers queue.
        self.batch("BEGIN IMMEDIATE")
    }

    fn begin(&mut self) -> Result<()> {
        // Every transaction of the store writes. A deferred one that reads first and
        // writes later fails at once (SQLITE_BUSY, no waiting) when another connection
        // wrote in between; IMMEDIATE waits for the write lock (busy_timeout) instead.
        self.batch("BEGIN IMMEDIATE")
    }
}

/// PostgreSQL through the `postgres` client.
pub(crate) struct Postgres {
    client: postgres::Client,
}

impl Postgres {
    pub(crate) fn connect(url: &str) -> Result<Postgres> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| Error::Open {
            target: redact_url(url),
            reason: e.to_string(),
        })?;
        Ok(Postgres { client })
    }
}

/// A URL without its password, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, … (vigil's SQL has no `?` in literals).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn postgres_params(params: &[Param]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                Param::Text(s) => Box::new(s.clone()),
                Param::Int(x) => Box::new(*x),
                Param::Real(x) => Box::new(*x),
            }
        })
        .collect()
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let boxed = postgres_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        self.client
            .execute(numbered(sql).as_str(), &refs)
            .map_err(|e| db_error("postgres", e))
    }
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Cell>>> {
        use postgres::types::Type;
        let boxed = postgres_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .client
            .query(numbered(sql).as_str(), &refs)
            .map_err(|e| db_error("postgres", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i).map(|v| v.map(Cell::Int))
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|x| Cell::Int(i64::from(x))))
                } else if *ty == Type::FLOAT8 {
                    row.try_get::<_, Option<f64>>(i).map(|v| v.map(Cell::Real))
                } else {
                    row.try_get::<_, Option<String>>(i)
                        .map(|v| v.map(Cell::Text))
                }
                .map_err(|e| db_error("postgres", e))?;
                cells.push(cell.unwrap_or(Cell::Null));
            }
            out.push(cells);
        }
        Ok(out)
    }
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| db_error("postgres", e))
    }
    fn begin_exclusive(&mut self, table: &str) -> Result<()> {
        self.batch(&format!(
            "BEGIN; LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c > ? LIMIT ?"),
            "SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3"
        );
    }

    #[test]
    fn passwords_never_leave_the_url() {
        assert_eq!(
            redact_url("postgres://vigil:s3cret@db:5432/vigil"),
            "postgres://vigil:***@db:5432/vigil"
        );
        assert_eq!(
            redact_url("postgres://vigil@127.0.0.1/x"),
            "postgres://vigil@127.0.0.1/x"
        );
        assert_eq!(redact_url("host=db user=x"), "host=db user=x");
    }
}
