//! [`SqliteStore`]: run history in one SQLite file (WAL journal).
//!
//! Writes go through one connection and reads through another, so readers
//! never wait for a write (WAL). `synchronous = NORMAL`: a committed run
//! survives the process being killed (the journal is in the OS's hands);
//! only a power loss can drop the last moments.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::record::new_id;
use crate::sql::{Bound, Dialect, SCHEMA, Statements, list_query};
use crate::{Created, Finish, NewRun, RunFilter, RunRecord, RunStatus, RunStore, StoreError};

/// Run history in an SQLite database file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    statements: Statements,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, and its directory.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let fail = |message: String| StoreError::Database {
            location: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create its directory: {e}")))?;
        }
        let connect = || -> rusqlite::Result<Connection> {
            let connection = Connection::open(path)?;
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            Ok(connection)
        };
        let writer = connect().map_err(|e| fail(e.to_string()))?;
        writer.execute_batch(SCHEMA).map_err(|e| fail(e.to_string()))?;
        let reader = connect().map_err(|e| fail(e.to_string()))?;
        tracing::debug!(path = %path.display(), "opened the run history");
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            statements: Statements::new(Dialect::Sqlite),
        })
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Database {
            location: self.path.display().to_string(),
            message: error.to_string(),
        }
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn query(&self, sql: &str, values: &[rusqlite::types::Value]) -> Result<Vec<RunRecord>, StoreError> {
        let reader = self.reader();
        let mut statement = reader.prepare_cached(sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params_from_iter(values), read_row)
            .map_err(|e| self.error(e))?;
        rows.map(|row| row.map_err(|e| self.error(e))?).collect()
    }
}

/// A row as a record (the status checked).
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<RunRecord, StoreError>> {
    let id: String = row.get(0)?;
    let status: String = row.get(2)?;
    let status = match status.parse::<RunStatus>() {
        Ok(status) => status,
        Err(message) => return Ok(Err(StoreError::Corrupt { id, message })),
    };
    Ok(Ok(RunRecord {
        id,
        workflow: row.get(1)?,
        status,
        input: row.get(3)?,
        definition: row.get(4)?,
        idempotency_key: row.get(5)?,
        output: row.get(6)?,
        error: row.get(7)?,
        timeline: row.get(8)?,
        created_ms: row.get(9)?,
        started_ms: row.get(10)?,
        finished_ms: row.get(11)?,
    }))
}

impl RunStore for SqliteStore {
    fn create(&self, run: NewRun, now_ms: i64) -> Result<Created, StoreError> {
        let id = new_id();
        let inserted = self
            .writer()
            .prepare_cached(&self.statements.create)
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    run.workflow,
                    run.input,
                    run.definition,
                    run.idempotency_key,
                    now_ms
                ])
            })
            .map_err(|e| self.error(e))?;
        if inserted == 1 {
            return Ok(Created::New(RunRecord::queued(id, run, now_ms)));
        }
        let key = run.idempotency_key.unwrap_or_default();
        let existing = self.query(&self.statements.by_idempotency_key, &[key.clone().into()])?;
        existing
            .into_iter()
            .next()
            .map(Created::Existing)
            .ok_or(StoreError::Database {
                location: self.path.display().to_string(),
                message: format!("idempotency key `{key}` conflicted but no run has it"),
            })
    }

    fn start(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self
            .writer()
            .prepare_cached(&self.statements.start)
            .and_then(|mut s| s.execute(params![id, now_ms]))
            .map_err(|e| self.error(e))?;
        Ok(changed == 1)
    }

    fn finish(&self, id: &str, finish: &Finish) -> Result<bool, StoreError> {
        let changed = self
            .writer()
            .prepare_cached(&self.statements.finish)
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    finish.status.as_str(),
                    finish.output,
                    finish.error,
                    finish.timeline,
                    finish.at_ms
                ])
            })
            .map_err(|e| self.error(e))?;
        Ok(changed == 1)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let reader = self.reader();
        let row = reader
            .prepare_cached(&self.statements.get)
            .and_then(|mut s| s.query_row([id], read_row).optional())
            .map_err(|e| self.error(e))?;
        row.transpose()
    }

    fn list(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        let (sql, bound) = list_query(filter, Dialect::Sqlite);
        let values: Vec<rusqlite::types::Value> = bound
            .into_iter()
            .map(|value| match value {
                Bound::Text(text) => text.to_string().into(),
                Bound::Limit(limit) => limit.into(),
            })
            .collect();
        self.query(&sql, &values)
    }

    fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.query(&self.statements.unfinished, &[])
    }

    fn prune(&self, finished_before_ms: i64) -> Result<u64, StoreError> {
        let deleted = self
            .writer()
            .execute(&self.statements.prune, [finished_before_ms])
            .map_err(|e| self.error(e))?;
        Ok(deleted as u64)
    }

    fn is_local(&self) -> bool {
        true
    }
}
