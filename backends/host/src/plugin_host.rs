//! [`PluginHost`]: one plugin's view of the host, and what its calls fail
//! with. The host functions themselves are `impl PluginHost` blocks in their
//! own modules (`http.rs`, `kv.rs`, `log.rs`, `plugin_call.rs`).

use std::sync::{Arc, OnceLock};

use pocket_core::{Denied, KvQuota, Limits, Permissions, Policy, RateCounts, Request};

use crate::rate::{LogBudget, RateLimited, Rates};

/// A host call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
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
    /// A `kv_set` would go past the plugin's `kv_bytes`, `kv_keys` or
    /// `kv_value_bytes` limit.
    #[error(transparent)]
    KvFull(#[from] pocket_core::KvFull),
    /// The plugin is over one of its rate limits; the call was not made.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// A plugin call could not be made, or the node type it ran failed.
    #[error(transparent)]
    PluginCall(#[from] pocket_core::PluginCallError),
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
    pub(crate) plugin: Arc<str>,
    pub(crate) permissions: Arc<Permissions>,
    /// The largest HTTP response body the plugin may read.
    pub(crate) http_body_limit: u64,
    /// What the plugin's entries in a run's store may take.
    pub(crate) kv_quota: KvQuota,
    /// Its rate limits, shared by all its instances.
    pub(crate) rates: Arc<Rates>,
    /// Log bytes written this minute, against `log_bytes`.
    pub(crate) log_budget: Arc<LogBudget>,
    pub(crate) client: Arc<OnceLock<reqwest::Client>>,
}

impl PluginHost {
    /// The host as seen by `plugin`, with the capabilities pocket.toml grants
    /// it and the default limits.
    pub fn new(plugin: impl Into<Arc<str>>, permissions: Permissions) -> Self {
        PluginHost::with_limits(plugin.into(), permissions, &Limits::default())
    }

    /// The host of `plugin` bound to its policy: its permissions and limits.
    pub fn bound(plugin: &str, policy: &Policy) -> Self {
        PluginHost::with_limits(plugin.into(), policy.permissions.clone(), &policy.limits)
    }

    fn with_limits(plugin: Arc<str>, permissions: Permissions, limits: &Limits) -> Self {
        PluginHost {
            plugin,
            permissions: Arc::new(permissions),
            http_body_limit: limits.http_body,
            kv_quota: KvQuota {
                bytes: limits.kv_bytes,
                keys: limits.kv_keys,
                value_bytes: limits.kv_value_bytes,
            },
            rates: Arc::new(Rates::new(limits)),
            log_budget: Arc::new(LogBudget::new(limits.log_bytes)),
            client: Arc::default(),
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

    /// How many calls the plugin made in its current rate windows.
    pub fn rate_counts(&self) -> RateCounts {
        self.rates.counts()
    }

    /// Allows `request` if the plugin may make it (declared and granted)
    /// and is within its rate limits, counting it.
    pub(crate) fn check(&self, request: Request<'_>) -> Result<(), HostError> {
        self.permissions.check(&self.plugin, request)?;
        if let Err(limited) = self.rates.take(request) {
            tracing::warn!(plugin = &*self.plugin, limit = limited.limit, "rate limit exceeded");
            return Err(limited.into());
        }
        Ok(())
    }

    /// The environment variable `name`, if set and valid UTF-8. Needs an
    /// `env:<pattern>` capability whose pattern matches `name`.
    pub fn env_get(&self, name: &str) -> Result<Option<String>, HostError> {
        self.check(Request::Env { name })?;
        Ok(std::env::var(name).ok())
    }

    /// The environment variables the plugin may read, as `(name, value)`
    /// pairs (those set, valid UTF-8 and matched by one of its `env:`
    /// capabilities): the environment a WASI guest starts with. The same
    /// rule as [`env_get`](Self::env_get), asked once per instance, so not
    /// counted against the plugin's rate limits.
    pub fn granted_environment(&self) -> Vec<(String, String)> {
        std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .filter(|(name, _)| self.permissions.refusal(Request::Env { name }).is_none())
            .collect()
    }
}
