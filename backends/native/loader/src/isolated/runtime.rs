//! [`Runtime`]: what an isolated plugin's node types share: how to start
//! its process, the pool of idle processes, its host, its timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pocket_core::{Limit, NodeError, format_duration};
use pocket_host::{PluginHost, Pool};

use super::process::{ChildCommand, ChildProcess, Ended, Wait};
use crate::copies::Staged;

/// One isolated plugin's processes and host.
pub(crate) struct Runtime {
    /// The plugin's name, for messages and its host.
    pub plugin: Arc<str>,
    /// Its name as registered (its file's), passed to its processes.
    pub registered: String,
    /// The library its processes load: the private copy of what was admitted.
    pub library: Staged,
    pub command: ChildCommand,
    /// Idle processes: a call takes one or starts one, so concurrent calls
    /// run in parallel; a process that died or was killed never returns.
    pub pool: Pool<ChildProcess>,
    /// Serves the host calls of its nodes, with its policy's checks.
    pub host: PluginHost,
    /// The plugin's `timeout` limit: no call (or preparation) runs longer.
    pub timeout: Duration,
    next_key: AtomicU64,
}

impl Runtime {
    /// The runtime of `plugin`, whose first process (the one that described
    /// it) is `first`.
    pub(crate) fn new(
        plugin: &str,
        registered: String,
        library: Staged,
        command: ChildCommand,
        host: PluginHost,
        timeout: Duration,
        first: ChildProcess,
    ) -> Runtime {
        let pool = Pool::per_core();
        pool.give(first);
        Runtime {
            plugin: plugin.into(),
            registered,
            library,
            command,
            pool,
            host,
            timeout,
            next_key: AtomicU64::new(1),
        }
    }

    /// A new key for a prepared node.
    pub(crate) fn next_key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// An idle live process, or a new one.
    pub(crate) fn process(&self) -> Result<ChildProcess, NodeError> {
        while let Some(mut process) = self.pool.take() {
            if process.is_alive() {
                return Ok(process);
            }
            tracing::debug!(plugin = &*self.plugin, "an idle plugin process had ended; dropped");
        }
        ChildProcess::spawn(&self.command, &self.library.path, &self.registered).map_err(|e| {
            NodeError::Crashed(format!(
                "native plugin `{}`: cannot start its process ({}): {e}",
                self.plugin,
                self.command.program().display()
            ))
        })
    }

    /// The wait of a call that must end by `deadline` (the node's), and in
    /// any case within the plugin's timeout; and that timeout's length.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> (Wait, Duration) {
        let now = Instant::now();
        let own = now + self.timeout;
        let deadline = deadline.map_or(own, |d| d.min(own));
        let wait = Wait {
            deadline: Some(deadline),
            ..Wait::default()
        };
        (wait, deadline.saturating_duration_since(now))
    }

    /// The node error for an exchange that ended without a reply, during
    /// `what` ("the call"); `timeout` is the time the exchange had.
    pub(crate) fn node_error(&self, ended: Ended, what: &str, timeout: Duration) -> NodeError {
        let plugin = &self.plugin;
        match ended {
            Ended::Died(how) => NodeError::Crashed(format!(
                "native plugin `{plugin}`'s process {how} during {what}; a new process serves the next call"
            )),
            Ended::Broke(why) => NodeError::Crashed(format!(
                "native plugin `{plugin}`'s process broke the pipe protocol during {what} ({why}) and was \
                 killed; a new process serves the next call"
            )),
            Ended::TimedOut => NodeError::LimitExceeded {
                limit: Limit::Timeout,
                detail: format!(
                    "native plugin `{plugin}` ran longer than {} during {what}; its process was killed",
                    format_duration(timeout)
                ),
            },
            Ended::TooLarge(len) => NodeError::Failed(format!(
                "native plugin `{plugin}`: a message of {len} bytes for its process (during {what}) is over \
                 the pipe's limit of {} bytes",
                pocket_host::frame::MAX_FRAME
            )),
            Ended::Cancelled => NodeError::Cancelled,
        }
    }
}
