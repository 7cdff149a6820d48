//! [`ServeError`]: why the server could not start, or stopped failing.

use pocket_cluster::ClusterError;
use pocket_history::StoreError;

/// An error that stops `pocket serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An operating-system call failed (`what` says which: listening,
    /// reading a directory, starting the runtime...).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// The settings would expose the server (listening beyond loopback
    /// without API tokens); the message says what to change.
    #[error("{0}")]
    Insecure(String),
    /// The run history cannot be opened or read.
    #[error(transparent)]
    History(#[from] StoreError),
    /// The cluster cannot be reached.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The workflows directory cannot be read.
    #[error("cannot read the workflows directory {dir}: {source}")]
    Workflows {
        /// The directory.
        dir: std::path::PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The plugin and workflow directories cannot be watched.
    #[error("cannot watch {what} for changes: {message}")]
    Watch {
        /// What was to be watched.
        what: String,
        /// Why not.
        message: String,
    },
    /// No random bytes for a token.
    #[error("cannot get random bytes: {0}")]
    Random(String),
}

impl ServeError {
    /// An [`ServeError::Io`] error.
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> ServeError {
        ServeError::Io {
            what: what.into(),
            source,
        }
    }
}
