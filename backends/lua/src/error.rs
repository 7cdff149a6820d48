//! Why loading or calling a script failed.

use std::time::Duration;

use pocket_core::{Limit, Limits, NodeError};
use pocket_host::Stop;

use crate::convert::ConvertError;
use crate::limits;

/// A script could not be loaded or called.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ScriptError {
    /// Lua reported an error: a syntax error or a runtime error, as `file:line: message`.
    #[error("{0}")]
    Lua(String),
    /// A limit (or the run's cancellation) stopped the script.
    #[error("{}", stopped(.0))]
    Stopped(Stop),
    /// The script's value has no JSON form.
    #[error("{what}: {error}")]
    Convert {
        /// Which value (`output`, `config_schema`...).
        what: &'static str,
        /// Why.
        error: ConvertError,
    },
    /// The script does not have the shape its form needs.
    #[error("{0}")]
    Shape(String),
}

impl ScriptError {
    /// Reads an mlua error: the Lua message without its traceback, or the limit it reports.
    pub(crate) fn from_lua(error: &mlua::Error) -> ScriptError {
        match error {
            mlua::Error::MemoryError(_) => ScriptError::Stopped(Stop::Limit(Limit::Memory)),
            other => ScriptError::Lua(message(other)),
        }
    }

    /// The node error for a failed call of `script`.
    pub(crate) fn node_error(self, script: &str, limits: &Limits, timeout: Duration) -> NodeError {
        match self {
            ScriptError::Stopped(stop) => limits::node_error(stop, script, limits, timeout),
            other => NodeError::Failed(other.to_string()),
        }
    }
}

fn stopped(stop: &Stop) -> String {
    match stop {
        Stop::Limit(limit) => format!("{limit} limit exceeded"),
        Stop::Cancelled => "cancelled".into(),
    }
}

fn message(error: &mlua::Error) -> String {
    let text = match error {
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => m.clone(),
        mlua::Error::CallbackError { cause, .. } => return message(cause),
        mlua::Error::WithContext { context, cause } => format!("{context}: {}", message(cause)),
        other => other.to_string(),
    };
    match text.find("\nstack traceback:") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
