//! [`PostgresStore`]: run history in a PostgreSQL database, by URL.
//!
//! A pool of connections (deadpool over tokio-postgres) driven by a small
//! runtime of the store's own: each call takes a connection, checked with
//! a round trip before use, so a server that restarted (or dropped the
//! connection) costs a reconnect, not every later call; and as many calls
//! run at once as the pool has connections. The table is created if it is
//! missing. The client speaks without TLS: use it on the same host, a
//! private network or through a local proxy.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls, Row};

use crate::record::new_id;
use crate::sql::{Bound, Dialect, SCHEMA, Statements, list_query};
use crate::{Created, Finish, NewRun, RunFilter, RunRecord, RunStatus, RunStore, StoreError};

/// The most connections the store opens (and so the most calls at once).
const MAX_CONNECTIONS: usize = 16;

/// How long opening a connection, checking a pooled one, or waiting for a
/// free one may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Run history in a PostgreSQL database.
pub struct PostgresStore {
    /// The URL without its password, for messages.
    location: String,
    pool: Pool,
    /// Drives the connections; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    statements: Statements,
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and
    /// creates the table if it is missing. Blocking: call it outside async
    /// code (or on a blocking thread).
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let location = redact(url);
        let fail = |message: String| StoreError::Database {
            location: location.clone(),
            message,
        };
        let mut config = Config::from_str(url).map_err(|e| fail(e.to_string()))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pocket-history-pg")
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start its runtime: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(MAX_CONNECTIONS)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let store = PostgresStore {
            location: location.clone(),
            pool,
            runtime: Some(runtime),
            statements: Statements::new(Dialect::Postgres),
        };
        store.run(async |client| client.batch_execute(SCHEMA).await)?;
        tracing::debug!(location = %location, "opened the run history");
        Ok(store)
    }

    fn error(&self, message: impl ToString) -> StoreError {
        StoreError::Database {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    /// Runs `call` with a pooled connection, blocking this thread until it ends.
    fn run<T, F>(&self, call: F) -> Result<T, StoreError>
    where
        F: AsyncFnOnce(&deadpool_postgres::Client) -> Result<T, tokio_postgres::Error>,
    {
        let runtime = self.runtime.as_ref().expect("the runtime lives as long as the store");
        runtime.block_on(async {
            let client = self.pool.get().await.map_err(|e| self.error(e))?;
            call(&client).await.map_err(|e| self.error(e))
        })
    }

    fn query(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<Vec<RunRecord>, StoreError> {
        let rows = self.run(async |client| {
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, values).await
        })?;
        rows.iter().map(read_row).collect()
    }

    fn execute(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.run(async |client| {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, values).await
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Without waiting: the store may be dropped on an async thread,
        // where a runtime must not block to shut down.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A row as a record (the status checked).
fn read_row(row: &Row) -> Result<RunRecord, StoreError> {
    let id: String = row.get(0);
    let status: String = row.get(2);
    let status = status.parse::<RunStatus>().map_err(|message| StoreError::Corrupt {
        id: id.clone(),
        message,
    })?;
    Ok(RunRecord {
        id,
        workflow: row.get(1),
        status,
        input: row.get(3),
        definition: row.get(4),
        idempotency_key: row.get(5),
        output: row.get(6),
        error: row.get(7),
        timeline: row.get(8),
        created_ms: row.get(9),
        started_ms: row.get(10),
        finished_ms: row.get(11),
    })
}

impl RunStore for PostgresStore {
    fn create(&self, run: NewRun, now_ms: i64) -> Result<Created, StoreError> {
        let id = new_id();
        let inserted = self.execute(
            &self.statements.create,
            &[
                &id,
                &run.workflow,
                &run.input,
                &run.definition,
                &run.idempotency_key,
                &now_ms,
            ],
        )?;
        if inserted == 1 {
            return Ok(Created::New(RunRecord::queued(id, run, now_ms)));
        }
        let key = run.idempotency_key.unwrap_or_default();
        let existing = self.query(&self.statements.by_idempotency_key, &[&key])?;
        existing
            .into_iter()
            .next()
            .map(Created::Existing)
            .ok_or_else(|| self.error(format!("idempotency key `{key}` conflicted but no run has it")))
    }

    fn start(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self.execute(&self.statements.start, &[&id, &now_ms])?;
        Ok(changed == 1)
    }

    fn finish(&self, id: &str, finish: &Finish) -> Result<bool, StoreError> {
        let changed = self.execute(
            &self.statements.finish,
            &[
                &id,
                &finish.status.as_str(),
                &finish.output,
                &finish.error,
                &finish.timeline,
                &finish.at_ms,
            ],
        )?;
        Ok(changed == 1)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.query(&self.statements.get, &[&id])?.into_iter().next())
    }

    fn list(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        let (sql, bound) = list_query(filter, Dialect::Postgres);
        let values: Vec<&(dyn ToSql + Sync)> = bound
            .iter()
            .map(|value| match value {
                Bound::Text(text) => text as &(dyn ToSql + Sync),
                Bound::Limit(limit) => limit as &(dyn ToSql + Sync),
            })
            .collect();
        self.query(&sql, &values)
    }

    fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.query(&self.statements.unfinished, &[])
    }

    fn prune(&self, finished_before_ms: i64) -> Result<u64, StoreError> {
        self.execute(&self.statements.prune, &[&finished_before_ms])
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/runs"),
            "postgres://app:***@db:5432/runs"
        );
        assert_eq!(redact("postgres://app@db/runs"), "postgres://app@db/runs");
        assert_eq!(redact("postgres://db/runs"), "postgres://db/runs");
    }
}
