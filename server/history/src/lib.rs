//! Run history for `pocket serve`: every run's workflow, input, status,
//! output, error and per-node timeline, kept where a restart (or a `kill -9`)
//! cannot lose it.
//!
//! [`RunStore`] is the one interface; [`SqliteStore`] is the embedded default
//! (one file, WAL journal, nothing to install or run), [`PostgresStore`] the
//! one for a PostgreSQL server. Values are stored as JSON text: this crate
//! does not interpret them.
//!
//! A run moves `queued` -> `running` -> `succeeded` | `failed` | `cancelled`
//! (a queued run may also be cancelled or failed directly). [`RunStore::finish`]
//! applies only to a run that has not finished, so a cancellation racing the
//! run's own end is recorded once.

#![forbid(unsafe_code)]

mod postgres;
mod record;
mod sql;
mod sqlite;

pub use postgres::PostgresStore;
pub use record::{Created, Finish, NewRun, RunFilter, RunRecord, RunStatus};
pub use sqlite::SqliteStore;

/// A history store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("run history ({location}): {message}")]
    Database {
        /// The file or server.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A stored row could not be read back.
    #[error("run history: run `{id}` is stored in a form this version cannot read: {message}")]
    Corrupt {
        /// The run.
        id: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Where runs are recorded. Implementations are internally synchronised and
/// blocking: call them from a blocking thread (`spawn_blocking`) in async code.
pub trait RunStore: Send + Sync {
    /// Records a new queued run; with an idempotency key already used, the
    /// run recorded under it instead.
    fn create(&self, run: NewRun, now_ms: i64) -> Result<Created, StoreError>;
    /// Marks a queued run running (a running one, resumed, stays running
    /// with its first start time): `true` once the run is recorded as
    /// running, `false` if it has finished or does not exist. A caller
    /// executes a run only after this answered `true`, so a run the store
    /// still holds as queued never ran.
    fn start(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Records how a run ended; `false` if it had already finished (or does not exist).
    fn finish(&self, id: &str, finish: &Finish) -> Result<bool, StoreError>;
    /// One run.
    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError>;
    /// Runs matching `filter`, newest first.
    fn list(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError>;
    /// Runs still queued or running, oldest first: after a restart, the ones
    /// the previous process did not finish.
    fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// Deletes runs that finished before `finished_before_ms`; how many.
    fn prune(&self, finished_before_ms: i64) -> Result<u64, StoreError>;

    /// Whether calls are short local operations (an embedded database, no
    /// network): then async code may make them in place rather than hand
    /// each to a blocking thread, which costs more than the call.
    fn is_local(&self) -> bool {
        false
    }
}
