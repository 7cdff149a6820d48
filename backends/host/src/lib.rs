//! Host functions that sandboxed plugins (Lua scripts, and later WASM modules)
//! call: HTTP requests, environment variables, the run's key-value store and
//! the log, each checked against the plugin's capabilities first.
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

mod http;
mod kv;
mod pool;

use std::sync::Arc;

use pocket_core::{Denied, Permissions, Request};

pub use http::{HttpRequest, HttpResponse};
pub use pool::Pool;

/// A host call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    /// The plugin lacks the capability; the text is `permission denied: <capability>`.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The call's arguments are unusable (a malformed URL, an unknown method...).
    #[error("{0}")]
    InvalidRequest(String),
    /// The HTTP request failed (connection refused, timeout, unreadable body...).
    #[error("http request failed: {0}")]
    Http(String),
    /// The call needs the run's key-value store, and there is none (outside a run).
    #[error("the key-value store is only available while a workflow runs")]
    NoStore,
}

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `log.debug`.
    Debug,
    /// `log.info`.
    Info,
    /// `log.warn`.
    Warn,
    /// `log.error`.
    Error,
}

/// One plugin's access to the host, checked against its capabilities.
#[derive(Debug, Clone)]
pub struct PluginHost {
    plugin: Arc<str>,
    permissions: Arc<Permissions>,
    client: http::ClientCell,
}

impl PluginHost {
    /// The host as seen by `plugin`, with the capabilities pocket.toml grants it.
    pub fn new(plugin: impl Into<Arc<str>>, permissions: Permissions) -> Self {
        PluginHost {
            plugin: plugin.into(),
            permissions: Arc::new(permissions),
            client: http::ClientCell::default(),
        }
    }

    /// The plugin's name, as the log and the key-value namespace use it.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The plugin's capabilities.
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }

    fn check(&self, request: Request<'_>) -> Result<(), HostError> {
        Ok(self.permissions.check(&self.plugin, request)?)
    }

    /// Writes `message` to Pocket's log (tracing target `pocket::plugin`), tagged
    /// with the plugin's name. Needs the `log` capability.
    pub fn log(&self, level: LogLevel, message: &str) -> Result<(), HostError> {
        self.check(Request::Log)?;
        let plugin = &*self.plugin;
        match level {
            LogLevel::Debug => tracing::debug!(target: "pocket::plugin", plugin, "{message}"),
            LogLevel::Info => tracing::info!(target: "pocket::plugin", plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "pocket::plugin", plugin, "{message}"),
            LogLevel::Error => tracing::error!(target: "pocket::plugin", plugin, "{message}"),
        }
        Ok(())
    }

    /// The environment variable `name`, if set and valid UTF-8. Needs an
    /// `env:<pattern>` capability whose pattern matches `name`.
    pub fn env_get(&self, name: &str) -> Result<Option<String>, HostError> {
        self.check(Request::Env { name })?;
        Ok(std::env::var(name).ok())
    }
}
