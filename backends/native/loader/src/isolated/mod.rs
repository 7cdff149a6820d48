//! Process isolation: a native plugin whose policy says
//! `isolation = "process"` runs in child processes, one call at a time
//! each, spoken to over their stdin and stdout.
//!
//! The host never opens the library. It starts a process with the
//! [`ChildCommand`] the loader was given (the CLI: `pocket __native-child`),
//! which runs [`serve`]: it loads the library with the in-process loader
//! and answers requests ([`protocol`]) in length-prefixed JSON frames
//! ([`pocket_host::frame`]). Host calls the plugin makes mid-call travel back up the pipe
//! and are answered by the host with the plugin's `PluginHost`
//! ([`host_calls`]): permissions, rate limits, kv namespaces and quotas are
//! all checked in the host, never in the plugin's process.
//!
//! A process that dies during a call (a segfault, `abort()`, a panic in a
//! library built with `panic = "abort"`), that breaks the protocol, or that
//! runs past the node's deadline or the plugin's `timeout` limit (killed
//! then) fails that node with a clear error and is never used again; the
//! next call starts a new one. Idle processes wait in a pool
//! (`pocket_host::Pool`), so concurrent calls do not queue behind one.
//!
//! Pipe I/O is blocking, with `poll(2)` for deadlines: describing and
//! preparing happen in synchronous code (loading, validation), so one
//! blocking implementation serves them and calls alike; calls run it
//! through `pocket_core::run_blocking`, like every other blocking body.
//! Unix only.

mod child;
mod host_calls;
mod node;
mod plugin;
mod process;
mod protocol;
mod runtime;
mod sys;

pub use child::{ChildError, serve};
pub use plugin::IsolatedPlugin;
pub(crate) use plugin::open;
pub use pocket_host::frame::{FrameError, MAX_FRAME};
pub use process::ChildCommand;
