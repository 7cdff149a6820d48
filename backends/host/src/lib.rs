//! Host functions that plugins (Lua scripts, WASM modules, native libraries)
//! call: HTTP requests, environment variables, the run's key-value store,
//! the log, other node types and files beneath granted directories, each
//! checked against the plugin's capabilities first.
//!
//! A [`PluginHost`] is one plugin's view of the host: its name and the
//! [`Permissions`] pocket.toml grants it. Every function asks
//! [`Permissions::check`] before doing anything, so all backends refuse and
//! log exactly the same requests; a refusal is a [`HostError::Denied`] whose
//! text is `permission denied: <capability>`.
//!
//! This crate does not know any scripting engine: converting values to and
//! from Lua or WASM, and deciding how a refusal reaches the script, is the
//! backend's job. It does not enforce memory or instruction limits either; the
//! only limit it takes part in is time, through [`HttpRequest::timeout`].

#![forbid(unsafe_code)]

mod files;
pub mod frame;
mod http;
mod kv;
mod log;
mod plugin_call;
mod plugin_host;
mod pool;
mod rate;

pub use files::{DirEntry, EntryKind, FileError, GrantedDir, OpenHow, Opened};
pub use http::{HttpRequest, HttpResponse, MAX_REDIRECTS, check_url, client_builder, read_body};
pub use log::{MAX_LOG_LINE, one_line};
pub use plugin_call::PluginCall;
pub use plugin_host::{HostError, LogLevel, PluginHost};
pub use pool::{Fate, Pool, Stop};
pub use rate::RateLimited;

/// The host of plugin `p` as the pocket.toml text `toml` configures it.
#[cfg(test)]
pub(crate) fn configured_host(toml: &str) -> PluginHost {
    let config = pocket_core::PocketConfig::parse(toml, std::path::Path::new("/p/pocket.toml")).unwrap();
    PluginHost::bound("p", &config.policy("p"))
}
