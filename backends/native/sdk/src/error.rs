//! [`Error`]: why a node call or a node's setup failed, as the author
//! returns it and as it crosses the boundary ([`RError`]).

use crate::abi::{RError, RErrorKind};

/// Why a node call (or a node's setup) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: RErrorKind,
    message: String,
}

impl Error {
    /// The call ran and failed.
    pub fn failed(message: impl Into<String>) -> Error {
        Error::new(RErrorKind::Failed, message)
    }

    /// The node cannot use its input.
    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::new(RErrorKind::InvalidInput, message)
    }

    /// The node's config is unusable.
    pub fn invalid_config(message: impl Into<String>) -> Error {
        Error::new(RErrorKind::InvalidConfig, message)
    }

    fn new(kind: RErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for RError {
    fn from(error: Error) -> RError {
        RError::new(error.kind, error.message)
    }
}

impl From<RError> for Error {
    fn from(error: RError) -> Error {
        Error::new(error.kind(), error.message.into_string())
    }
}
