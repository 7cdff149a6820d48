//! The records a [`RunStore`](crate::RunStore) keeps and the queries it answers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Accepted, waiting for a slot.
    Queued,
    /// Executing.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl RunStatus {
    /// Every status, in life order.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// The lower-case name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the run has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<RunStatus, String> {
        RunStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown run status `{text}` (queued, running, succeeded, failed, cancelled)"))
    }
}

/// A run to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The workflow's name.
    pub workflow: String,
    /// The input, as JSON text.
    pub input: String,
    /// The workflow's source when it was sent inline (so a restart can run it).
    pub definition: Option<String>,
    /// The caller's key: a second run with it returns the first.
    pub idempotency_key: Option<String>,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Its id: a UUIDv7, so ids sort by creation time.
    pub id: String,
    /// The workflow's name.
    pub workflow: String,
    /// Where it is.
    pub status: RunStatus,
    /// The input, as JSON text.
    pub input: String,
    /// The workflow's source when it was sent inline.
    pub definition: Option<String>,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
    /// The output, as JSON text, once it succeeded.
    pub output: Option<String>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// The node timeline, as a JSON array, once it finished.
    pub timeline: Option<String>,
    /// When it was accepted (Unix milliseconds).
    pub created_ms: i64,
    /// When it started running.
    pub started_ms: Option<i64>,
    /// When it finished.
    pub finished_ms: Option<i64>,
}

impl RunRecord {
    /// The record of `run`, just accepted as `id` at `now_ms`.
    pub(crate) fn queued(id: String, run: NewRun, now_ms: i64) -> RunRecord {
        RunRecord {
            id,
            workflow: run.workflow,
            status: RunStatus::Queued,
            input: run.input,
            definition: run.definition,
            idempotency_key: run.idempotency_key,
            output: None,
            error: None,
            timeline: None,
            created_ms: now_ms,
            started_ms: None,
            finished_ms: None,
        }
    }
}

/// What [`RunStore::create`](crate::RunStore::create) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// Recorded a new run.
    New(RunRecord),
    /// The idempotency key was used before: this is that run.
    Existing(RunRecord),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// `Succeeded`, `Failed` or `Cancelled`.
    pub status: RunStatus,
    /// The output (JSON text), if it succeeded.
    pub output: Option<String>,
    /// The error, if it failed or was cancelled.
    pub error: Option<String>,
    /// The node timeline (a JSON array).
    pub timeline: String,
    /// When it finished (Unix milliseconds).
    pub at_ms: i64,
}

/// Which runs [`RunStore::list`](crate::RunStore::list) returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunFilter {
    /// Only this workflow's runs.
    pub workflow: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs older than this id (the previous page's last id).
    pub before: Option<String>,
    /// At most this many (capped at [`RunFilter::MAX_LIMIT`]; 0 means the default 50).
    pub limit: u32,
    /// Only runs of workflows whose name matches one of these patterns
    /// (`*` matches any text, as `pocket_core::glob_match`; case matters);
    /// `None` for every workflow.
    pub workflows: Option<Vec<String>>,
}

impl RunFilter {
    /// The largest page.
    pub const MAX_LIMIT: u32 = 500;

    /// The page size to use.
    pub fn page_size(&self) -> u32 {
        match self.limit {
            0 => 50,
            n => n.min(RunFilter::MAX_LIMIT),
        }
    }
}

/// A new run id: a UUIDv7 (time-ordered, random in its low bits).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
        }
        assert!("done".parse::<RunStatus>().unwrap_err().contains("queued, running"));
        assert!(RunStatus::Cancelled.is_finished() && !RunStatus::Running.is_finished());
    }

    #[test]
    fn pages_default_to_50_and_stop_at_500() {
        let page = |limit| {
            RunFilter {
                limit,
                ..RunFilter::default()
            }
            .page_size()
        };
        assert_eq!((page(0), page(10), page(10_000)), (50, 10, 500));
    }

    #[test]
    fn ids_sort_by_creation() {
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id() > first);
    }
}
