//! What can go wrong between Pocket and its cluster.

/// A cluster operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The NATS server could not be reached.
    #[error("cannot connect to NATS at {url}: {message} (is nats-server running with JetStream, `-js`?)")]
    Connect {
        /// The URL tried.
        url: String,
        /// Why.
        message: String,
    },
    /// A JetStream request failed.
    #[error("JetStream: cannot {action}: {message}")]
    JetStream {
        /// What was being done.
        action: String,
        /// Why it failed.
        message: String,
    },
    /// A plugin artifact could not be published, fetched or trusted.
    #[error("plugin `{plugin}`: {message}")]
    Artifact {
        /// The plugin's registered name.
        plugin: String,
        /// What went wrong.
        message: String,
    },
    /// A stored workflow, job or result does not read back.
    #[error("malformed {what}: {message}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it does not read.
        message: String,
    },
}

impl ClusterError {
    /// A JetStream failure while doing `action`.
    pub(crate) fn jetstream(action: impl Into<String>, error: impl std::fmt::Display) -> ClusterError {
        ClusterError::JetStream {
            action: action.into(),
            message: error.to_string(),
        }
    }

    pub(crate) fn malformed(what: &'static str, error: impl std::fmt::Display) -> ClusterError {
        ClusterError::Malformed {
            what,
            message: error.to_string(),
        }
    }
}
