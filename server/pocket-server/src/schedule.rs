//! Cron triggers: runs started at the times a workflow's `cron:` schedules
//! name (UTC), for as long as the workflow is served.
//!
//! Each fire is submitted under the idempotency key
//! `cron:WORKFLOW:SCHEDULE:UNIX_SECONDS`, so a time is never run twice, even
//! by a server restarted within that second. Times that pass while the server
//! is down are not caught up. A fire that finds the server at capacity is
//! skipped, with a warning.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pocket_core::{Schedule, Value};
use tokio_util::sync::CancellationToken;

use super::app::App;
use super::runs::Submission;

/// How often the scheduler looks at the served workflows' schedules.
const TICK: Duration = Duration::from_millis(250);

/// One workflow's schedule and its next time.
struct Entry {
    schedule: Schedule,
    next: Option<SystemTime>,
}

/// Fires cron triggers until `stopping` is cancelled.
pub async fn run(app: Arc<App>, stopping: CancellationToken) {
    let mut entries: HashMap<(String, String), Entry> = HashMap::new();
    loop {
        let now = SystemTime::now();
        let workflows = app.workflows.load_full();
        let mut seen = Vec::new();
        for (workflow, text) in workflows.schedules() {
            let key = (workflow.name.clone(), text.to_string());
            seen.push(key.clone());
            let entry = match entries.entry(key) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(vacant) => match Schedule::parse(text) {
                    Ok(schedule) => vacant.insert(Entry {
                        next: schedule.next_after(now),
                        schedule,
                    }),
                    Err(error) => {
                        tracing::warn!(workflow = %workflow.name, "{error}");
                        continue;
                    }
                },
            };
            let Some(due) = entry.next.filter(|due| *due <= now) else {
                continue;
            };
            entry.next = entry.schedule.next_after(now);
            let seconds = due.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let input = Value::object([
                ("trigger", Value::from("cron")),
                ("schedule", Value::from(text)),
                ("scheduled_at", Value::from(seconds)),
            ]);
            let submission = Submission {
                workflow: workflow.name.clone(),
                definition: workflow.definition(),
                input,
                inline: None,
                idempotency_key: Some(format!("cron:{}:{text}:{seconds}", workflow.name)),
            };
            match app.runs.submit(submission).await {
                Ok(_) => tracing::debug!(workflow = %workflow.name, schedule = text, "cron trigger fired"),
                Err(error) => tracing::warn!(workflow = %workflow.name, schedule = text, "cron run skipped: {error}"),
            }
        }
        entries.retain(|key, _| seen.contains(key));
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stopping.cancelled() => return,
        }
    }
}
