//! Errors of a mapping file. Each one names the file, the line and column, and the form that was
//! expected there, because the people fixing a mapping are support staff with a text editor.

use std::ops::Range;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The text is not TOML, or does not have the shape of a mapping file.
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed TOML whose content makes no sense as a mapping.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read mapping file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no built-in mapping for peer {peer:?}; built-in mappings exist for: {known}")]
    UnknownPeer { peer: String, known: String },
}

impl MappingError {
    /// `(line, column)` of the error, when it has a place in a file.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            MappingError::Parse { line, column, .. }
            | MappingError::Invalid { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Where a mapping's text came from, used to build located errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub origin: &'a str,
}

impl Source<'_> {
    pub fn invalid(&self, span: Range<usize>, message: impl Into<String>) -> MappingError {
        let (line, column) = line_column(self.text, span.start);
        MappingError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn parse_error(&self, err: &toml::de::Error) -> MappingError {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(self.text, span.start));
        MappingError::Parse {
            origin: self.origin.to_string(),
            line,
            column,
            message: format!(
                "{}{}",
                crate::config::toml_problem(err.message()),
                shape_hint(err.message())
            ),
        }
    }
}

/// serde's messages name the unexpected thing; this adds what a field rule looks like when the
/// message is about an unknown key, since that is the most common slip.
fn shape_hint(message: &str) -> &'static str {
    if message.starts_with("unknown field") {
        "; see the header of assets/mappings/repsly.toml for the file's layout"
    } else {
        ""
    }
}

/// One conversion of a byte offset to line and column, shared with the config loader.
pub(crate) use crate::config::line_column;
