//! `log`: a plugin's lines in Pocket's log, escaped, cut and rate-capped.

use pocket_core::Request;

use crate::{HostError, LogLevel, PluginHost};

/// The longest log line a plugin writes, in bytes; longer ones are cut.
pub const MAX_LOG_LINE: usize = 4096;

/// `message` as one log line: control characters (newlines, ANSI escapes)
/// written as escapes, so that a plugin cannot forge a host log line, and cut
/// at [`MAX_LOG_LINE`] bytes.
pub fn one_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len().min(MAX_LOG_LINE));
    for c in message.chars() {
        if line.len() >= MAX_LOG_LINE {
            line.push_str(" [cut]");
            break;
        }
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

impl PluginHost {
    /// Writes `message` to Pocket's log (tracing target `pocket::plugin`), tagged
    /// with the plugin's name, as one line of at most [`MAX_LOG_LINE`] bytes.
    /// Needs the `log` capability. Past the plugin's `log_bytes` per minute,
    /// lines are dropped, and the drop is logged once per minute.
    pub fn log(&self, level: LogLevel, message: &str) -> Result<(), HostError> {
        self.check(Request::Log)?;
        let plugin = &*self.plugin;
        let line = one_line(message);
        match self.log_budget.take(line.len()) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(()) => {
                tracing::warn!(
                    target: "pocket::plugin",
                    plugin,
                    limit = self.log_budget.per_window,
                    "the plugin wrote more than its `log_bytes` limit this minute; its log lines are dropped until the minute is over"
                );
                return Ok(());
            }
        }
        match level {
            LogLevel::Debug => tracing::debug!(target: "pocket::plugin", plugin, "{line}"),
            LogLevel::Info => tracing::info!(target: "pocket::plugin", plugin, "{line}"),
            LogLevel::Warn => tracing::warn!(target: "pocket::plugin", plugin, "{line}"),
            LogLevel::Error => tracing::error!(target: "pocket::plugin", plugin, "{line}"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cannot_forge_another_and_is_cut() {
        assert_eq!(
            one_line("ok\n2026-01-01 INFO pocket: fake\x1b[31m"),
            "ok\\n2026-01-01 INFO pocket: fake\\u{1b}[31m"
        );
        let long = one_line(&"x".repeat(100_000));
        assert!(
            long.len() <= MAX_LOG_LINE + 8 && long.ends_with(" [cut]"),
            "{}",
            long.len()
        );
    }

    #[test]
    fn a_flood_of_log_calls_stays_within_the_budget_and_the_host_goes_on() {
        let host =
            crate::configured_host("[plugins.permissions]\np = [\"log\"]\n[plugins.limits.p]\nlog_bytes = \"1KiB\"\n");
        for _ in 0..10_000 {
            host.log(LogLevel::Info, &"y".repeat(1000)).unwrap();
        }
        let window = host.log_budget.state.lock().unwrap();
        assert!(window.written <= 1024 && window.noticed);
    }
}
