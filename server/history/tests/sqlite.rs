//! The store contract on SQLite, and what only a file database shows.

mod contract;

use std::cell::Cell;

use pocket_history::{Created, NewRun, RunStore, SqliteStore};

#[test]
fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let count = Cell::new(0);
    contract::check_all(&|| {
        count.set(count.get() + 1);
        Box::new(SqliteStore::open(&dir.path().join(format!("h{}.db", count.get()))).unwrap())
    });
}

#[test]
fn runs_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/history.db");
    let id = {
        let store = SqliteStore::open(&path).unwrap();
        let run = NewRun {
            workflow: "flow".into(),
            input: "null".into(),
            definition: Some("name: flow".into()),
            idempotency_key: None,
        };
        match store.create(run, 1).unwrap() {
            Created::New(record) => record.id,
            Created::Existing(_) => unreachable!(),
        }
    };
    let reopened = SqliteStore::open(&path).unwrap();
    let record = reopened.get(&id).unwrap().unwrap();
    assert_eq!(record.definition.as_deref(), Some("name: flow"));
    assert_eq!(reopened.unfinished().unwrap().len(), 1);
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    std::fs::write(
        &path,
        "this is not SQLite, just text long enough to look like a header......",
    )
    .unwrap();
    let error = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(error.contains("history.db") && error.contains("run history"), "{error}");
}
