//! [`PostgresStore`]: run history in a PostgreSQL database, by URL.
//!
//! One connection, used by one call at a time. The table is created if it is
//! missing. The client speaks without TLS: use it on the same host, a
//! private network or through a local proxy.

use std::sync::{Mutex, MutexGuard};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row};

use crate::record::new_id;
use crate::sql::{Bound, COLUMNS, Dialect, SCHEMA, list_query};
use crate::{Created, Finish, NewRun, RunFilter, RunRecord, RunStatus, RunStore, StoreError};

/// Run history in a PostgreSQL database.
pub struct PostgresStore {
    /// The URL without its password, for messages.
    location: String,
    client: Mutex<Client>,
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
    /// creates the table if it is missing. Call it outside async code.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let location = redact(url);
        let fail = |error: postgres::Error| StoreError::Database {
            location: location.clone(),
            message: error.to_string(),
        };
        let mut client = Client::connect(url, NoTls).map_err(fail)?;
        client.batch_execute(SCHEMA).map_err(fail)?;
        tracing::debug!(location = %location, "opened the run history");
        Ok(PostgresStore {
            location,
            client: Mutex::new(client),
        })
    }

    fn error(&self, error: postgres::Error) -> StoreError {
        StoreError::Database {
            location: self.location.clone(),
            message: error.to_string(),
        }
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn query(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<Vec<RunRecord>, StoreError> {
        let rows = self.client().query(sql, values).map_err(|e| self.error(e))?;
        rows.iter().map(read_row).collect()
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
        let inserted = self
            .client()
            .execute(
                "INSERT INTO runs (id, workflow, status, input, definition, idempotency_key, created_ms) \
                 VALUES ($1, $2, 'queued', $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
                &[
                    &id,
                    &run.workflow,
                    &run.input,
                    &run.definition,
                    &run.idempotency_key,
                    &now_ms,
                ],
            )
            .map_err(|e| self.error(e))?;
        if inserted == 1 {
            return Ok(Created::New(RunRecord::queued(id, run, now_ms)));
        }
        let key = run.idempotency_key.unwrap_or_default();
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE idempotency_key = $1");
        let existing = self.query(&sql, &[&key])?;
        existing
            .into_iter()
            .next()
            .map(Created::Existing)
            .ok_or(StoreError::Database {
                location: self.location.clone(),
                message: format!("idempotency key `{key}` conflicted but no run has it"),
            })
    }

    fn start(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        self.client()
            .execute(
                "UPDATE runs SET status = 'running', started_ms = $2 WHERE id = $1 AND status = 'queued'",
                &[&id, &now_ms],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    fn finish(&self, id: &str, finish: &Finish) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .execute(
                "UPDATE runs SET status = $2, output = $3, error = $4, timeline = $5, finished_ms = $6 \
                 WHERE id = $1 AND status IN ('queued', 'running')",
                &[
                    &id,
                    &finish.status.as_str(),
                    &finish.output,
                    &finish.error,
                    &finish.timeline,
                    &finish.at_ms,
                ],
            )
            .map_err(|e| self.error(e))?;
        Ok(changed == 1)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = $1");
        Ok(self.query(&sql, &[&id])?.into_iter().next())
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
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE status IN ('queued', 'running') ORDER BY id");
        self.query(&sql, &[])
    }

    fn prune(&self, finished_before_ms: i64) -> Result<u64, StoreError> {
        self.client()
            .execute("DELETE FROM runs WHERE finished_ms < $1", &[&finished_before_ms])
            .map_err(|e| self.error(e))
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
