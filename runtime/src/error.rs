//! [`Error`]: what can go wrong opening a deployment or running a workflow
//! in it. Each variant keeps the error of the layer that failed, whose
//! message names the file, line, node or plugin.

use pocket_cluster::ClusterError;
use pocket_core::{ConfigFileError, ParseError, RegistryError, RunError, ValidationError};

/// An error from a [`Deployment`](crate::Deployment).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The current directory (where pocket.toml is looked for) cannot be read.
    #[error("cannot read the current directory: {0}")]
    CurrentDir(#[source] std::io::Error),
    /// pocket.toml cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// A plugin cannot be registered (for example, a name already taken).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A workflow file cannot be read or parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A workflow is invalid: every finding, with its file and line.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A run failed (a node failed without an `error` edge, was cancelled...).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The cluster could not take a run.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}
