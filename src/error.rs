//! The library's error type. Every variant's message names what is wrong and, where it can, how to fix it;
//! `main` maps the kind to an exit code (`2` for bad usage or input, other non-zero for internal failures).

use std::path::PathBuf;

use crate::sanitize;

/// Something wrong with one record of an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordError {
    /// 1-based line (or record number, for whole-document formats).
    pub line: u64,
    /// The offending field, as a dotted path (`usage.prompt_tokens`), when known.
    pub field: Option<String>,
    pub message: String,
}

impl RecordError {
    pub fn new(line: u64, message: impl Into<String>) -> RecordError {
        RecordError {
            line,
            field: None,
            message: message.into(),
        }
    }

    pub fn field(line: u64, field: impl Into<String>, message: impl Into<String>) -> RecordError {
        RecordError {
            line,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// The longest message of a record error shown: the rest is cut (values it quotes are cut shorter).
const MAX_RECORD_MESSAGE_CHARS: usize = 400;

impl std::fmt::Display for RecordError {
    /// `line: field 'x': message`, with every value echoed from the input cut to a short excerpt and its
    /// control characters escaped (a field name is a key from the input too).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = sanitize::shorten_quoted(&self.message, sanitize::MAX_EXCERPT_CHARS);
        let message = sanitize::cut(&message, MAX_RECORD_MESSAGE_CHARS);
        let message = sanitize::terminal(&message);
        match &self.field {
            Some(field) => write!(
                f,
                "{}: field '{}': {}",
                self.line,
                sanitize::excerpt(field),
                message
            ),
            None => write!(f, "{}: {}", self.line, message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed record: `file:line: field 'x': what is wrong`.
    #[error("{file}:{record}")]
    Input { file: String, record: RecordError },

    /// A file or folder that cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Bad flags, arguments or configuration.
    #[error("{0}")]
    Usage(String),

    /// A price table or config file that does not validate.
    #[error("{file}: {message}")]
    Config { file: String, message: String },

    /// The ledger database failed.
    #[error("ledger {path}: {message}")]
    Ledger { path: String, message: String },

    /// Writing output failed (a closed pipe is handled before this is raised).
    #[error("writing output: {0}")]
    Output(std::io::Error),

    /// A PostgreSQL server could not be reached or refused a query: `postgres://user@host:port/db: …`
    /// (never the password).
    #[error("{0}")]
    Database(String),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error (SPEC "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Io { .. } | Error::Usage(_) | Error::Config { .. } => 2,
            Error::Ledger { .. } | Error::Output(_) | Error::Database(_) => 3,
        }
    }

    /// True when the error is a closed output pipe, which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Output errors are converted here and nowhere else. An I/O error keeps its kind, so `main` can tell a
/// closed pipe (quiet success) from a real failure, whichever writer met it.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Output(e)
    }
}

/// A CSV writer's error: its I/O cause as it is (a closed pipe stays `BrokenPipe`).
impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Error {
        Error::Output(crate::output::csv::io_error(e))
    }
}

/// A JSON writer's error: serde_json keeps the I/O cause's kind when it converts.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Output(std::io::Error::from(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
