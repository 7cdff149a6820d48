//! Pocket's scale-out: a run's node executions spread over worker processes
//! through NATS JetStream.
//!
//! One binary plays three roles. The default is a single process. With a
//! cluster, a *scheduler* (`pocket serve --cluster` or `pocket run --cluster`)
//! keeps each run's graph logic (config rendering, retries, routing, fan-in)
//! and sends every node attempt to the cluster through a [`ClusterExecutor`];
//! *workers* (`pocket worker`, [`Worker`]) pull attempts, run them with their
//! own plugins and write the results back.
//!
//! What lives where in JetStream (names from [`ClusterSettings::prefix`],
//! `pocket` by default):
//!
//! - **`POCKET_JOBS`**, a work-queue stream: one message per node attempt on
//!   `pocket.jobs.<kind>` (`builtin`, `lua`, `wasm`, `native`), so workers can
//!   specialise by plugin kind. Its message id is the attempt's key
//!   (`run.step.attempt`), so JetStream drops a second publish of the same
//!   attempt. A worker acks only after the result is stored; a worker that
//!   dies never acks, and after the ack wait the attempt is redelivered to
//!   another worker (at-least-once execution).
//! - **`pocket-results`**, a key-value bucket: each attempt's result under its
//!   key, written with *create*, so the first result of an attempt wins and a
//!   redelivered duplicate's result is discarded (each result is applied once).
//!   A restarted scheduler replays a run from its start, taking every result
//!   already stored instead of running the node again ([`ClusterExecutor`]).
//! - **`pocket-workflows`**, a key-value bucket: workflow sources by content
//!   digest, with the plugin artifacts each needs; **`pocket-runs`** maps a run
//!   to its workflow, for resuming.
//! - **`pocket-plugins`**, an object store: plugin files by SHA-256. A worker
//!   that lacks a plugin, or whose copy differs, fetches the scheduler's,
//!   checks its digest and loads it (through the worker's own pocket.toml:
//!   its grants, limits and signature rules).
//! - **`pocket-blobs`**, an object store: inputs, configs and results larger
//!   than [`ClusterSettings::inline_limit`]; messages carry a reference.

#![forbid(unsafe_code)]

mod abandoned;
mod artifacts;
mod connection;
mod digests;
mod error;
mod executor;
mod mailbox;
mod results;
mod settings;
mod wire;
mod worker;

pub use artifacts::WorkflowRecord;
pub use connection::Cluster;
pub use digests::{Artifact, file_digest};
pub use error::ClusterError;
pub use executor::ClusterExecutor;
pub use settings::{ClusterSettings, KINDS};
pub use worker::{PluginInstaller, Worker, WorkerOptions};
