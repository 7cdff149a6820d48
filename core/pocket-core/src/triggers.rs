//! Triggers: what starts a workflow besides an explicit run. A workflow file
//! lists them under `triggers:`; `pocket serve` acts on them, other commands
//! only check them.
//!
//! ```yaml
//! triggers:
//!   - webhook: { path: /hooks/orders, method: POST }
//!   - cron: "*/5 * * * *"
//! ```

use std::str::FromStr;
use std::time::SystemTime;

use serde::Deserialize;

use crate::location::{Located, Position};

/// Where webhook paths live: a webhook's path must start with it.
pub const WEBHOOK_PREFIX: &str = "/hooks/";

/// The methods a webhook may use.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A trigger as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum TriggerSpec {
    /// An HTTP request to `path` runs the workflow, the request body its input.
    Webhook(WebhookSpec),
    /// A cron schedule, in UTC.
    Cron(Located<String>),
}

/// A webhook trigger as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// The request path, under [`WEBHOOK_PREFIX`].
    pub path: Located<String>,
    /// The HTTP method (default `POST`).
    #[serde(default)]
    pub method: Option<Located<String>>,
}

/// A checked trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Requests with `method` to `path` start a run.
    Webhook {
        /// The path, starting with [`WEBHOOK_PREFIX`].
        path: String,
        /// The method, upper-case.
        method: String,
    },
    /// Runs start at the schedule's times.
    Cron {
        /// The schedule as written.
        schedule: String,
    },
}

/// A parsed cron schedule: 5 fields (minute granularity) or 6 (seconds
/// first), `@hourly`-style aliases, `L`, `W` and `#`; evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Schedule(croner::Cron);

impl Schedule {
    /// Parses a schedule; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        croner::Cron::from_str(text.trim())
            .map(Schedule)
            .map_err(|e| format!("invalid cron schedule `{text}`: {e}"))
    }

    /// The first time after `after` that the schedule names, if any.
    pub fn next_after(&self, after: SystemTime) -> Option<SystemTime> {
        let start = jiff::Timestamp::try_from(after).ok()?.to_zoned(jiff::tz::TimeZone::UTC);
        let next = self.0.find_next_occurrence(&start, false).ok()?;
        Some(SystemTime::from(next.timestamp()))
    }
}

/// A problem with a trigger: where, what, and what to do.
pub(crate) type TriggerProblem = (Option<Position>, String, Option<String>);

/// Checks the triggers of a workflow.
pub(crate) fn check(specs: &[TriggerSpec]) -> Result<Vec<Trigger>, Vec<TriggerProblem>> {
    let mut triggers = Vec::new();
    let mut problems = Vec::new();
    for spec in specs {
        match spec {
            TriggerSpec::Webhook(hook) => {
                let path = hook.path.value.trim();
                let valid_path = path.len() > WEBHOOK_PREFIX.len()
                    && path.starts_with(WEBHOOK_PREFIX)
                    && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
                    && !path.contains("//")
                    && !path.split('/').any(|part| part == "." || part == "..");
                if !valid_path {
                    problems.push((
                        hook.path.position,
                        format!("webhook path `{path}` is not a path under {WEBHOOK_PREFIX}"),
                        Some(format!(
                            "write e.g. `{WEBHOOK_PREFIX}orders`: letters, digits, `-`, `_`, `.` and `/` only"
                        )),
                    ));
                    continue;
                }
                let method = hook
                    .method
                    .as_ref()
                    .map_or_else(|| "POST".to_string(), |m| m.value.trim().to_ascii_uppercase());
                if !METHODS.contains(&method.as_str()) {
                    let position = hook.method.as_ref().and_then(|m| m.position);
                    problems.push((
                        position,
                        format!("webhook method `{method}` is not one of {}", METHODS.join(", ")),
                        None,
                    ));
                    continue;
                }
                let trigger = Trigger::Webhook {
                    path: path.to_string(),
                    method,
                };
                if triggers.contains(&trigger) {
                    problems.push((hook.path.position, format!("webhook `{path}` is listed twice"), None));
                    continue;
                }
                triggers.push(trigger);
            }
            TriggerSpec::Cron(schedule) => match Schedule::parse(&schedule.value) {
                Ok(_) => triggers.push(Trigger::Cron {
                    schedule: schedule.value.trim().to_string(),
                }),
                Err(message) => problems.push((
                    schedule.position,
                    message,
                    Some("five fields (minute hour day month weekday), or six with seconds first".into()),
                )),
            },
        }
    }
    if problems.is_empty() {
        Ok(triggers)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn webhook(path: &str, method: Option<&str>) -> TriggerSpec {
        TriggerSpec::Webhook(WebhookSpec {
            path: Located::unplaced(path.to_string()),
            method: method.map(|m| Located::unplaced(m.to_string())),
        })
    }

    fn cron(text: &str) -> TriggerSpec {
        TriggerSpec::Cron(Located::unplaced(text.to_string()))
    }

    #[test]
    fn good_triggers_are_checked_and_normalised() {
        let triggers = check(&[
            webhook("/hooks/orders", None),
            webhook("/hooks/a/b", Some("put")),
            cron("*/5 * * * *"),
        ])
        .unwrap();
        assert_eq!(
            triggers,
            vec![
                Trigger::Webhook {
                    path: "/hooks/orders".into(),
                    method: "POST".into()
                },
                Trigger::Webhook {
                    path: "/hooks/a/b".into(),
                    method: "PUT".into()
                },
                Trigger::Cron {
                    schedule: "*/5 * * * *".into()
                },
            ]
        );
    }

    #[test]
    fn bad_paths_methods_schedules_and_duplicates_are_each_reported() {
        let problems = check(&[
            webhook("/v1/runs", None),
            webhook("/hooks/../v1", None),
            webhook("/hooks/", None),
            webhook("/hooks/x", Some("TRACE")),
            webhook("/hooks/y", None),
            webhook("/hooks/y", None),
            cron("61 * * * *"),
            cron("every day"),
        ])
        .unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|(_, m, _)| m.as_str()).collect();
        assert_eq!(messages.len(), 7, "{messages:?}");
        assert!(messages[0].contains("not a path under /hooks/"));
        assert!(messages[3].contains("TRACE"));
        assert!(messages[4].contains("listed twice"));
        assert!(messages[5].contains("invalid cron schedule `61 * * * *`"));
    }

    #[test]
    fn schedules_name_their_next_time_in_utc() {
        let every_five = Schedule::parse("*/5 * * * *").unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(3 * 60 + 7);
        assert_eq!(
            every_five.next_after(at),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(5 * 60))
        );
        let every_second = Schedule::parse("* * * * * *").unwrap();
        assert_eq!(every_second.next_after(at), Some(at + Duration::from_secs(1)));
        assert!(Schedule::parse("@hourly").is_ok());
    }
}
