//! Pocket, embeddable: the host the `pocket` CLI and `pocket serve` are
//! built on, for any Rust program.
//!
//! A [`Deployment`] is a pocket.toml (read from a file, or built in code)
//! with its plugins loaded: the built-in node types, the `lua` node, and the
//! native, Lua and WASM plugins of its plugin directories, each through the
//! load gate (name rule, signature rule, the backend's two-phase load).
//! Validate a workflow against it, then run the graph:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pocket_runtime::{Deployment, Value};
//!
//! let deployment = Deployment::open(Some("pocket.toml".as_ref()))?;
//! let workflow = deployment.validate_file("hello.yaml".as_ref())?;
//! let input = Value::from_json(r#"{"name": "Ada"}"#)?;
//! let outcome = deployment.run(&workflow, input, Default::default()).await?;
//! println!("{}", outcome.output);
//! # Ok(()) }
//! ```
//!
//! [`RunOptions`] carry a cancellation token, a [`RunObserver`] that sees
//! each node start and finish, and the per-node timeline. `pocket serve`
//! (crate `pocket-server`) and `pocket worker` use the same type.

#![forbid(unsafe_code)]

mod cluster;
mod deployment;
mod error;
pub mod examples;
mod lazy;
mod package_gate;
pub mod present;
mod signal;

pub use cluster::{DeploymentInstaller, cluster_executor, new_run_id};
pub use deployment::{Builder, Deployment, FailedPlugin, Loading};
pub use error::Error;
pub use pocket_core::{
    Graph, PocketConfig, RunError, RunObserver, RunOptions, RunOutcome, TraceEntry, Validated, ValidationError, Value,
};
pub use signal::{interrupt_signal, shutdown_signal};
