//! The store contract on a real PostgreSQL server, started by this test
//! binary on a free 127.0.0.1 port in a temporary directory (and stopped).

mod contract;
mod support {
    pub mod postgres_server;
}

use std::cell::Cell;

use pocket_history::{PostgresStore, RunStore};
use support::postgres_server::{Server, free_port};

#[test]
fn postgres_keeps_the_store_contract() {
    let server = Server::start();
    let count = Cell::new(0);
    contract::check_all(&|| {
        count.set(count.get() + 1);
        Box::new(PostgresStore::open(&server.database(&format!("h{}", count.get()))).unwrap())
    });
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let url = format!("postgres://app:s3cret@127.0.0.1:{}/runs", free_port());
    let error = PostgresStore::open(&url).err().map(|e| e.to_string()).expect("refused");
    assert!(error.contains("run history (postgres://app:***@127.0.0.1"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}

#[test]
fn runs_survive_reconnecting() {
    let server = Server::start();
    let url = server.database("reconnect");
    let id = {
        let store = PostgresStore::open(&url).unwrap();
        let run = pocket_history::NewRun {
            workflow: "flow".into(),
            input: "{\"deep\":[[[1]]]}".into(),
            definition: None,
            idempotency_key: Some("k".into()),
        };
        match store.create(run, 5).unwrap() {
            pocket_history::Created::New(record) => record.id,
            pocket_history::Created::Existing(_) => unreachable!(),
        }
    };
    let again = PostgresStore::open(&url).unwrap();
    let record = again.get(&id).unwrap().unwrap();
    assert_eq!(record.input, "{\"deep\":[[[1]]]}");
    assert_eq!(record.idempotency_key.as_deref(), Some("k"));
}
