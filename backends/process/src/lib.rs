//! Process plugins: any executable (Python, Node, Go, a shell script...)
//! that speaks Pocket's plugin protocol over its stdin and stdout
//! (`docs/process-protocol.md`), run in a jail.
//!
//! A process plugin is a directory in a plugin directory holding a
//! `pocket-plugin.toml` ([`ProcessManifest`]: `kind = "process"`, the
//! `command` and `args` to start, the capabilities it declares, its
//! resources) beside its program and files. [`ProcessLoader`] opens it:
//! it starts the program once to ask for its description, and keeps that
//! process for the calls that follow.
//!
//! One process serves a plugin, with up to `max_in_flight` calls at once,
//! each with its own id ([`protocol`]). Host calls the program makes mid-call
//! (log, kv, config, env, HTTP, plugin calls) are answered by
//! pocket-host under the plugin's grants, rate limits and quotas, exactly as
//! for Lua and WASM. A process that crashes, breaks the protocol or runs
//! past a call's timeout fails the calls it had and is replaced for the
//! next call, after a back-off; one that keeps crashing is marked failed.
//!
//! On Linux the program runs in a jail ([`jail`]): its own user, PID, mount,
//! IPC and network namespaces (no network at all: HTTP goes through the
//! host), killed with the host, a minimal environment, a private `/tmp`,
//! its own directory read-only and its address space capped.

mod connection;
mod host_calls;
pub mod jail;
mod loader;
mod manifest;
mod plugin;
pub mod protocol;
mod supervisor;

pub use loader::ProcessLoader;
pub use manifest::{MANIFEST, ManifestError, ProcessManifest, Resources};
pub use plugin::ProcessPlugin;
