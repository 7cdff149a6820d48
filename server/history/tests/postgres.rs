//! The store contract on a real PostgreSQL server, started by this test
//! binary on a free 127.0.0.1 port in a temporary directory (and stopped).

mod contract;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use pocket_history::{Created, Finish, NewRun, PostgresStore, RunRecord, RunStatus, RunStore};
use pocket_test_support::postgres_server::{Server, free_port};

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

fn new_run(store: &dyn RunStore) -> RunRecord {
    let run = NewRun {
        workflow: "flow".into(),
        input: "1".into(),
        definition: None,
        idempotency_key: None,
    };
    match store.create(run, 1).unwrap() {
        Created::New(record) => record,
        Created::Existing(_) => unreachable!(),
    }
}

fn failed(at_ms: i64) -> Finish {
    Finish {
        status: RunStatus::Failed,
        output: None,
        error: Some("boom".into()),
        timeline: "[]".into(),
        at_ms,
    }
}

#[test]
fn the_store_reconnects_after_the_server_restarts() {
    let mut server = Server::start();
    let store = PostgresStore::open(&server.database("restarted")).unwrap();
    let before = new_run(&store);
    server.restart();
    // The very first call after the restart works: pooled connections are
    // checked before use, and dead ones replaced.
    assert_eq!(store.get(&before.id).unwrap().unwrap().status, RunStatus::Queued);
    let after = new_run(&store);
    assert!(store.start(&after.id, 2).unwrap());
    assert_eq!(store.unfinished().unwrap().len(), 2);
    server.restart();
    assert!(store.finish(&after.id, &failed(3)).unwrap());
    assert_eq!(store.unfinished().unwrap().len(), 1);
}

#[test]
fn a_call_waiting_on_a_lock_does_not_hold_up_the_others() {
    let server = Server::start();
    let url = server.database("concurrent");
    let store = Arc::new(PostgresStore::open(&url).unwrap());
    let (locked, free) = (new_run(&*store), new_run(&*store));
    // Another session holds run `locked`'s row until it commits.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let locker = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let lock = format!("BEGIN; SELECT id FROM runs WHERE id = '{}' FOR UPDATE", locked.id);
        client.batch_execute(&lock).await.unwrap();
        client
    });
    let waiting = std::thread::spawn({
        let store = store.clone();
        let id = locked.id.clone();
        move || store.finish(&id, &failed(2)).unwrap()
    });
    // Until the finish waits on the lock inside the server.
    runtime.block_on(async {
        let blocked = "SELECT count(*) FROM pg_locks WHERE NOT granted";
        while locker.query_one(blocked, &[]).await.unwrap().get::<_, i64>(0) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // Meanwhile another call is answered (one shared connection would wait
    // behind the finish, and the finish behind our commit: a deadlock).
    let (answer, answered) = mpsc::channel();
    std::thread::spawn({
        let store = store.clone();
        move || answer.send(store.get(&free.id).unwrap()).unwrap()
    });
    let read = answered
        .recv_timeout(Duration::from_secs(60))
        .expect("a read waited behind a call blocked on a lock");
    assert_eq!(read.unwrap().status, RunStatus::Queued);
    runtime.block_on(locker.batch_execute("COMMIT")).unwrap();
    assert!(
        waiting.join().unwrap(),
        "the waiting finish went through once the lock was released"
    );
    assert_eq!(store.get(&locked.id).unwrap().unwrap().status, RunStatus::Failed);
}
