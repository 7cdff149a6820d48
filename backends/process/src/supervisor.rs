//! [`Supervisor`]: keeps one process of a plugin running. It starts the
//! program on first use and again after it ends (a crash, a broken
//! protocol, a call that ran past its time), waiting a little longer after
//! each end in a row; a plugin whose process ended [`MAX_ENDS`] times within
//! [`END_WINDOW`] is marked failed and starts no more.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pocket_host::PluginHost;

use crate::connection::{Connection, Reply};
use crate::jail::JailSpec;
use crate::protocol::{Described, PROTOCOL, ToPlugin};

/// How many ends within [`END_WINDOW`] mark a plugin failed.
pub(crate) const MAX_ENDS: usize = 5;

/// The window [`MAX_ENDS`] counts in.
pub(crate) const END_WINDOW: Duration = Duration::from_secs(60);

/// The first wait before a restart; it doubles with each end in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// Starts and restarts one plugin's process.
pub(crate) struct Supervisor {
    name: Arc<str>,
    spec: JailSpec,
    host: PluginHost,
    start_timeout: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Connection>>,
    /// When its processes ended, within the window.
    ends: VecDeque<Instant>,
    /// Why it starts no more.
    failed: Option<String>,
}

impl Supervisor {
    /// A supervisor of `spec`'s program for plugin `name`.
    pub(crate) fn new(name: Arc<str>, spec: JailSpec, host: PluginHost, start_timeout: Duration) -> Supervisor {
        Supervisor {
            name,
            spec,
            host,
            start_timeout,
            state: Mutex::new(State::default()),
        }
    }

    /// The running process, if there is one that has not ended: what a
    /// call takes without blocking.
    pub(crate) fn running(&self) -> Option<Arc<Connection>> {
        let state = self.state.try_lock().ok()?;
        state.current.clone().filter(|current| current.ended().is_none())
    }

    /// Takes `connection`, already started and described, as the running
    /// process (the one that described the plugin at load).
    pub(crate) fn adopt(&self, connection: Arc<Connection>) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).current = Some(connection);
    }

    /// The running process, started (and described) if there is none.
    /// Blocks while it starts, and for the back-off after an end.
    pub(crate) fn connection(&self) -> Result<Arc<Connection>, String> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(why) = &state.failed {
            return Err(why.clone());
        }
        if let Some(current) = &state.current {
            match current.ended() {
                None => return Ok(current.clone()),
                Some(why) => {
                    tracing::warn!(plugin = &*self.name, why, "a process plugin ended; it is restarted");
                    state.current = None;
                    let now = Instant::now();
                    state.ends.push_back(now);
                    while state
                        .ends
                        .front()
                        .is_some_and(|&at| now.duration_since(at) > END_WINDOW)
                    {
                        state.ends.pop_front();
                    }
                    if state.ends.len() >= MAX_ENDS {
                        let why = format!(
                            "ended {MAX_ENDS} times within {} s (last: it {why}), so the plugin is marked failed: \
                             fix it and load it again",
                            END_WINDOW.as_secs()
                        );
                        tracing::error!(plugin = &*self.name, why, "a process plugin is marked failed");
                        state.failed = Some(why.clone());
                        return Err(why);
                    }
                    let exponent = u32::try_from(state.ends.len().saturating_sub(1)).unwrap_or(u32::MAX);
                    std::thread::sleep(FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(exponent)));
                }
            }
        }
        let (connection, _) = start(&self.spec, &self.name, &self.host, self.start_timeout)?;
        state.current = Some(connection.clone());
        Ok(connection)
    }

    /// Stops the running process, if any (the plugin is unloaded or reloaded).
    pub(crate) fn stop(&self) {
        let current = self.state.lock().unwrap_or_else(PoisonError::into_inner).current.take();
        if let Some(current) = current {
            current.kill("the plugin was unloaded");
        }
    }
}

/// Starts `spec`'s program for plugin `name` and asks it to describe
/// itself, within `timeout`.
pub(crate) fn start(
    spec: &JailSpec,
    name: &Arc<str>,
    host: &PluginHost,
    timeout: Duration,
) -> Result<(Arc<Connection>, Box<Described>), String> {
    let connection = Connection::start(spec, name.clone(), host.clone()).map_err(|e| {
        format!(
            "cannot start `{}` in {}: {e}",
            spec.program.display(),
            spec.dir.display()
        )
    })?;
    let (_, reply) = connection.request(|id| ToPlugin::Describe { id, protocol: PROTOCOL }, None)?;
    let answer = connection.wait_blocking(reply, timeout, "describe itself")?;
    match answer {
        Reply::Described(described, protocol) if protocol == PROTOCOL => Ok((connection, described)),
        Reply::Described(_, protocol) => {
            let why = format!("speaks protocol version {protocol}; this host speaks {PROTOCOL}");
            connection.kill(&why);
            Err(why)
        }
        Reply::Ended(why) => Err(format!("{why} before describing itself")),
        Reply::Failed { message, .. } => {
            connection.kill("it refused to describe itself");
            Err(format!("refused to describe itself: {message}"))
        }
        other => {
            let why = format!("answered `describe` with {other:?}");
            connection.kill(&why);
            Err(why)
        }
    }
}
