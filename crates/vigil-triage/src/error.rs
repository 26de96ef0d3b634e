//! Errors of triage settings: the triage config and suppression files.

/// What can go wrong loading triage settings. Every variant names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not valid TOML, or a value has the wrong type or an unknown key.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column of the offending value.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A setting of the triage config parsed but makes no sense (`bands` out of order, an
    /// empty asset pattern).
    #[error("{file}:{line}: `{field}`: {reason}")]
    Config {
        /// The file.
        file: String,
        /// 1-based line of the setting.
        line: usize,
        /// The setting (`bands.high`, `asset[2].host`).
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// A suppression rule parsed but cannot be used (it would match every detection, or a
    /// condition has no value).
    #[error("{file}:{line}: suppression rule {index}: {reason}")]
    Suppression {
        /// The file.
        file: String,
        /// 1-based line where the rule starts.
        line: usize,
        /// 1-based position of the rule among the file's `[[suppress]]` tables.
        index: usize,
        /// Why it is refused.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A parse error of `file`, placed with the span toml reports.
    pub(crate) fn parse(file: &str, text: &str, error: &toml::de::Error) -> Error {
        let (line, column) = error
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((1, 1));
        Error::Parse {
            file: file.to_string(),
            line,
            column,
            message: error.message().trim_end().to_string(),
        }
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 6));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
