//! Helpers vigil's tests share.
//!
//! - [`corpus`] finds the shared corpus of real samples (`$VIGIL_CORPUS`, by default
//!   `../shared/corpus` beside the repository). Without it, tests that need it are skipped
//!   with a note, except under `CI=true`, where a missing corpus fails the test.
//! - [`fixtures`] is the repository's own `fixtures/` folder.
//! - [`snapshot_settings`] are the `insta` settings that keep snapshots free of machine
//!   paths.
//! - [`mock_llm`] is a mock LLM provider on loopback that speaks each provider's wire
//!   format.
//!
//! ```
//! if let Some(corpus) = vigil_test_support::corpus() {
//!     assert!(corpus.join("evtx").is_dir());
//! }
//! ```
#![warn(missing_docs)]

pub mod mock_llm;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    workspace_root().join("fixtures")
}

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    workspace_root().join("examples")
}

/// The shared corpus, or `None` (with a note on stderr) when it is absent and `CI` is not
/// `true`.
///
/// # Panics
/// Under `CI=true` when the corpus is missing: CI must not pass by skipping.
pub fn corpus() -> Option<PathBuf> {
    let path = match std::env::var_os("VIGIL_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join("..").join("shared").join("corpus"),
    };
    if path.is_dir() {
        return Some(path);
    }
    missing(&format!(
        "the shared corpus is missing at {} (set VIGIL_CORPUS)",
        path.display()
    ));
    None
}

/// Says that something a test needs is missing: a failure under `CI=true` (CI must not
/// pass by skipping), a note that the test is skipped otherwise.
fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what}; under CI=true this is a failure");
    }
    eprintln!("note: skipping: {what}");
}

/// Whether the command-line tool `name` (e.g. `pdftotext`, installed by `scripts/setup`) is
/// on the `PATH`; when it is not, a note on stderr says the test is skipped.
///
/// # Panics
/// Under `CI=true` when the tool is missing: CI must not pass by skipping.
pub fn tool(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()));
    if found {
        return true;
    }
    missing(&format!(
        "{name} is missing (install it with scripts/setup)"
    ));
    false
}

/// A path inside the corpus, when the corpus is present (see [`corpus`]).
///
/// # Panics
/// When the corpus is present but the path is not: a renamed sample must fail loudly.
pub fn corpus_path(relative: &str) -> Option<PathBuf> {
    let path = corpus()?.join(relative);
    assert!(path.exists(), "corpus sample missing: {}", path.display());
    Some(path)
}

/// Returns from the test early when the corpus is absent (see [`corpus`]).
#[macro_export]
macro_rules! require_corpus {
    () => {
        match $crate::corpus() {
            Some(path) => path,
            None => return,
        }
    };
}

/// All files under `dir` whose name ends with `extension`, sorted.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(extension))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `insta` settings for vigil snapshots: the corpus and repository paths are replaced with
/// `[corpus]` and `[repo]`, so snapshots read the same on every machine.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    if let Some(corpus) = corpus()
        && let Ok(corpus) = corpus.canonicalize()
    {
        settings.add_filter(&regex_escape(&corpus.display().to_string()), "[corpus]");
    }
    let root = workspace_root();
    settings.add_filter(
        &regex_escape(
            &root
                .join("..")
                .join("shared")
                .join("corpus")
                .display()
                .to_string(),
        ),
        "[corpus]",
    );
    settings.add_filter(&regex_escape(&root.display().to_string()), "[repo]");
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where `value` breaks `schema`, a JSON Schema (2020-12) using the keywords vigil's
/// documented schemas use: `$ref` (to `#/$defs/…`), `type` (one or a list), `enum`,
/// `required`, `properties`, `additionalProperties` (`false` or a schema), `items`,
/// `pattern`, `minimum` and `maximum`. Each error names the JSON path. Any other keyword
/// in a schema is itself reported, so a schema cannot silently use what is not checked.
pub fn schema_errors(schema: &serde_json::Value, value: &serde_json::Value) -> Vec<String> {
    let mut errors = Vec::new();
    check_schema(schema, schema, value, "$", &mut errors);
    errors
}

fn check_schema(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    use serde_json::Value;
    let Some(rules) = schema.as_object() else {
        errors.push(format!("{path}: the schema is not an object"));
        return;
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            "$schema" | "$id" | "$defs" | "title" | "description" => {}
            "$ref" => {
                let target = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/"))
                    .and_then(|r| root.pointer(&format!("/{r}")));
                match target {
                    Some(target) => check_schema(root, target, value, path, errors),
                    None => errors.push(format!("{path}: unresolved $ref {rule}")),
                }
            }
            "type" => {
                let allowed: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let is = |t: &str| match t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    _ => false,
                };
                if !allowed.iter().any(|t| is(t)) {
                    errors.push(format!("{path}: {value} is not of type {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|values| values.contains(value)) {
                    errors.push(format!("{path}: {value} is not one of {rule}"));
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for key in rule
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if !object.contains_key(key) {
                            errors.push(format!("{path}: missing required {key:?}"));
                        }
                    }
                }
            }
            "properties" => {
                if let (Some(object), Some(properties)) = (value.as_object(), rule.as_object()) {
                    for (key, property) in properties {
                        if let Some(v) = object.get(key) {
                            check_schema(root, property, v, &format!("{path}.{key}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                let Some(object) = value.as_object() else {
                    continue;
                };
                let known = rules.get("properties").and_then(Value::as_object);
                for (key, v) in object {
                    if known.is_some_and(|k| k.contains_key(key)) {
                        continue;
                    }
                    match rule {
                        Value::Bool(false) => {
                            errors.push(format!("{path}: undocumented key {key:?}"))
                        }
                        Value::Bool(true) => {}
                        schema => check_schema(root, schema, v, &format!("{path}.{key}"), errors),
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check_schema(root, rule, item, &format!("{path}[{i}]"), errors);
                }
            }
            "pattern" => {
                if let (Some(text), Some(pattern)) = (value.as_str(), rule.as_str()) {
                    match regex::Regex::new(pattern) {
                        Ok(re) if re.is_match(text) => {}
                        Ok(_) => errors.push(format!("{path}: {text:?} does not match {pattern}")),
                        Err(e) => errors.push(format!("{path}: bad pattern {pattern}: {e}")),
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(x), Some(bound)) = (value.as_f64(), rule.as_f64()) {
                    let ok = if keyword == "minimum" {
                        x >= bound
                    } else {
                        x <= bound
                    };
                    if !ok {
                        errors.push(format!("{path}: {x} is out of range ({keyword} {bound})"));
                    }
                }
            }
            other => errors.push(format!(
                "{path}: the checker does not know keyword {other:?}"
            )),
        }
    }
}

/// A PostgreSQL server of its own on loopback, from the machine's PostgreSQL packages
/// (`scripts/setup` installs them), in a temporary directory; stopped and removed when
/// dropped. Databases are created with [`PostgresServer::create_database`].
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PostgresServer {
    /// Starts one, or `None` (with a note) when PostgreSQL is not installed.
    ///
    /// # Panics
    /// Under `CI=true` when PostgreSQL is missing, and whenever it is present but does not
    /// start (the log is in the message).
    pub fn start() -> Option<PostgresServer> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file())
            .max();
        let Some(bin) = bin else {
            // Reports the missing tool the way `tool` does (panics under CI).
            tool("initdb");
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "vigil-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for PostgreSQL");
        // PostgreSQL refuses to run as root: then it runs as the `postgres` user.
        let as_postgres = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            let status = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let server = PostgresServer {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = server.dir.join("data");
        server.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "vigil",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            server.dir.display()
        );
        server.run(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-o",
                &options,
                "-l",
                &server.dir.join("log").display().to_string(),
                "-w",
                "start",
            ],
        );
        Some(server)
    }

    /// PostgreSQL's `program`, run as the `postgres` user when we are root.
    fn command(&self, program: &str) -> std::process::Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            std::process::Command::new(&path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .expect("PostgreSQL's tools run");
        if !output.status.success() {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            panic!(
                "{program} failed: {}{}\n{log}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// Creates database `name`.
    pub fn create_database(&self, name: &str) {
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "vigil", name],
        );
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://vigil@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_checker_catches_each_kind_of_break() {
        let schema = json!({
            "type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {
                "a": {"$ref": "#/$defs/n"},
                "b": {"type": "array", "items": {"enum": ["x", "y"]}},
                "c": {"type": "string", "pattern": "^inc-"}
            },
            "$defs": {"n": {"type": "integer", "minimum": 0, "maximum": 9}}
        });
        assert!(schema_errors(&schema, &json!({"a": 3, "b": ["x"], "c": "inc-1"})).is_empty());
        let errors = schema_errors(&schema, &json!({"a": 10, "b": ["z"], "c": "x", "d": 1}));
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_eq!(
            schema_errors(&schema, &json!({})),
            vec!["$: missing required \"a\""]
        );
        assert_eq!(
            schema_errors(&json!({"oneOf": []}), &json!(1)),
            vec!["$: the checker does not know keyword \"oneOf\""]
        );
    }
}
