//! The library's one error type.
//!
//! Every variant that concerns input data names the file and, where there is
//! one, the feature (0-based index in the layer, and its id when known) and the
//! field, so a GIS specialist can find the offending record in QGIS at once.

use std::path::PathBuf;

/// Where in an input a problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The input file.
    pub file: PathBuf,
    /// 0-based index of the feature / row / way in its layer, when the problem
    /// concerns one.
    pub feature: Option<usize>,
    /// The field (property, column, config key) concerned, when there is one.
    pub field: Option<String>,
}

impl Location {
    /// A location in `file` as a whole.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            feature: None,
            field: None,
        }
    }

    /// A location at feature `index` of `file`.
    pub fn feature(file: impl Into<PathBuf>, index: usize) -> Self {
        Location {
            file: file.into(),
            feature: Some(index),
            field: None,
        }
    }

    /// The same location narrowed to `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(i) = self.feature {
            write!(f, ", feature #{i}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in borderzone.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The input is not in the expected format (bad JSON, wrong GeoJSON type,
    /// bad CSV, bad PBF block…).
    #[error("{at}: {message}")]
    Format { at: Location, message: String },
    /// The input parses but a value is unusable (coordinate out of range, NaN,
    /// missing geometry, missing id, duplicate id, empty layer…).
    #[error("{at}: {message}")]
    Invalid { at: Location, message: String },
    /// A configuration or command-line value is wrong.
    #[error("configuration: {message}")]
    Config { message: String },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// An [`Error::Format`] at `at`.
    pub fn format(at: Location, message: impl Into<String>) -> Self {
        Error::Format {
            at,
            message: message.into(),
        }
    }

    /// An [`Error::Invalid`] at `at`.
    pub fn invalid(at: Location, message: impl Into<String>) -> Self {
        Error::Invalid {
            at,
            message: message.into(),
        }
    }

    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
