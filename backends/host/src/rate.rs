//! Rate limits per plugin and resource: sliding windows over the plugin's
//! host calls, shared by all its instances (pocket.toml's
//! `host_calls_per_second`, `http_per_minute`, `kv_per_second`,
//! `plugin_calls_per_second`), and the log's byte budget per minute
//! (`log_bytes`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pocket_core::{Limits, RateCounts, Request};

/// At most `limit` events in any `span`: the times of the last `limit`
/// events are kept, so the window slides exactly.
#[derive(Debug)]
struct Window {
    limit: u64,
    span: Duration,
    /// What the limit is called in pocket.toml, and what it counts.
    name: &'static str,
    events: Mutex<VecDeque<Instant>>,
}

impl Window {
    fn new(limit: u64, span: Duration, name: &'static str) -> Window {
        Window {
            limit,
            span,
            name,
            events: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts one event at `now`, unless `limit` events already fell in the
    /// last `span`.
    fn take(&self, now: Instant) -> Result<(), RateLimited> {
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while events
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.span)
        {
            events.pop_front();
        }
        if events.len() as u64 >= self.limit {
            return Err(RateLimited {
                limit: self.name,
                count: self.limit,
            });
        }
        events.push_back(now);
        Ok(())
    }

    fn count(&self, now: Instant) -> u64 {
        let events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        events.iter().filter(|t| now.duration_since(**t) < self.span).count() as u64
    }
}

/// A host call went past one of the plugin's rate limits: it was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate limit exceeded: the plugin made {count} calls within its `{limit}` limit; the call was not made")]
pub struct RateLimited {
    /// The pocket.toml key of the limit.
    pub limit: &'static str,
    /// The limit.
    pub count: u64,
}

/// One plugin's rate limits.
#[derive(Debug)]
pub(crate) struct Rates {
    host_calls: Window,
    http: Window,
    kv: Window,
    plugin_calls: Window,
}

impl Rates {
    pub(crate) fn new(limits: &Limits) -> Rates {
        let second = Duration::from_secs(1);
        Rates {
            host_calls: Window::new(limits.host_calls_per_second, second, "host_calls_per_second"),
            http: Window::new(limits.http_per_minute, Duration::from_secs(60), "http_per_minute"),
            kv: Window::new(limits.kv_per_second, second, "kv_per_second"),
            plugin_calls: Window::new(limits.plugin_calls_per_second, second, "plugin_calls_per_second"),
        }
    }

    /// Counts `request` against every window it falls in.
    pub(crate) fn take(&self, request: Request<'_>) -> Result<(), RateLimited> {
        let now = Instant::now();
        match request {
            Request::Http { .. } => self.http.take(now)?,
            Request::Kv => self.kv.take(now)?,
            Request::PluginCall { .. } => self.plugin_calls.take(now)?,
            _ => {}
        }
        self.host_calls.take(now)
    }

    pub(crate) fn counts(&self) -> RateCounts {
        let now = Instant::now();
        RateCounts {
            host_calls: self.host_calls.count(now),
            http: self.http.count(now),
            kv: self.kv.count(now),
            plugin_calls: self.plugin_calls.count(now),
        }
    }
}

/// The window over which a plugin's `log_bytes` limit counts.
const LOG_WINDOW: Duration = Duration::from_secs(60);

/// How many log bytes one plugin has written in the current window.
#[derive(Debug)]
pub(crate) struct LogBudget {
    pub(crate) per_window: u64,
    pub(crate) state: Mutex<LogWindow>,
}

#[derive(Debug)]
pub(crate) struct LogWindow {
    started: Instant,
    pub(crate) written: u64,
    /// Whether the "limit reached" notice was written for this window.
    pub(crate) noticed: bool,
}

impl LogBudget {
    pub(crate) fn new(per_window: u64) -> Self {
        LogBudget {
            per_window,
            state: Mutex::new(LogWindow {
                started: Instant::now(),
                written: 0,
                noticed: false,
            }),
        }
    }

    /// Takes `bytes` from the window: `Ok(true)` to write the line,
    /// `Ok(false)` to drop it silently, `Err(())` to drop it and say so once.
    pub(crate) fn take(&self, bytes: usize) -> Result<bool, ()> {
        let mut window = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.started.elapsed() >= LOG_WINDOW {
            *window = LogWindow {
                started: Instant::now(),
                written: 0,
                noticed: false,
            };
        }
        let after = window.written.saturating_add(bytes as u64);
        if after <= self.per_window {
            window.written = after;
            return Ok(true);
        }
        if window.noticed {
            return Ok(false);
        }
        window.noticed = true;
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_slides() {
        let window = Window::new(3, Duration::from_millis(100), "x_per_second");
        let start = Instant::now();
        for _ in 0..3 {
            window.take(start).unwrap();
        }
        let refused = window.take(start + Duration::from_millis(50)).unwrap_err();
        assert_eq!(refused.count, 3);
        assert!(refused.to_string().contains("`x_per_second`"), "{refused}");
        window.take(start + Duration::from_millis(100)).unwrap();
        assert_eq!(window.count(start + Duration::from_millis(100)), 1);
    }

    #[test]
    fn every_call_counts_in_its_own_window_and_in_host_calls() {
        let rates = Rates::new(&Limits::default());
        rates.take(Request::Kv).unwrap();
        rates.take(Request::Kv).unwrap();
        rates
            .take(Request::PluginCall {
                target: "a/b",
                built_in: false,
            })
            .unwrap();
        rates.take(Request::Http { host: "example.com" }).unwrap();
        rates.take(Request::Log).unwrap();
        assert_eq!(
            rates.counts(),
            RateCounts {
                host_calls: 5,
                http: 1,
                kv: 2,
                plugin_calls: 1
            }
        );
    }

    #[test]
    fn the_budget_drops_lines_past_the_limit_and_says_so_once() {
        let budget = LogBudget::new(10);
        assert_eq!(budget.take(6), Ok(true));
        assert_eq!(budget.take(6), Err(()), "over: noticed once");
        assert_eq!(budget.take(1), Ok(true), "what still fits is written");
        assert_eq!(budget.take(6), Ok(false), "then dropped silently");
    }
}
