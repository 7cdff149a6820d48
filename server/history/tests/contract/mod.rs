//! What every [`RunStore`] must do, whatever the database behind it.

use pocket_history::{Created, Finish, NewRun, RunFilter, RunStatus, RunStore};

fn new_run(workflow: &str, key: Option<&str>) -> NewRun {
    NewRun {
        workflow: workflow.into(),
        input: r#"{"n":1}"#.into(),
        definition: None,
        idempotency_key: key.map(String::from),
    }
}

fn created(store: &dyn RunStore, run: NewRun, at: i64) -> pocket_history::RunRecord {
    match store.create(run, at).unwrap() {
        Created::New(record) => record,
        Created::Existing(record) => panic!("expected a new run, got {record:?}"),
    }
}

fn finish(status: RunStatus, at: i64) -> Finish {
    Finish {
        status,
        output: (status == RunStatus::Succeeded).then(|| "42".into()),
        error: (status != RunStatus::Succeeded).then(|| "boom".into()),
        timeline: r#"[{"node":"a"}]"#.into(),
        at_ms: at,
    }
}

pub fn a_run_goes_from_queued_to_running_to_finished(store: &dyn RunStore) {
    let run = created(store, new_run("flow", None), 1_000);
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(store.get(&run.id).unwrap().unwrap(), run);
    assert!(store.start(&run.id, 1_100).unwrap());
    let running = store.get(&run.id).unwrap().unwrap();
    assert_eq!((running.status, running.started_ms), (RunStatus::Running, Some(1_100)));
    assert!(
        store.start(&run.id, 1_150).unwrap(),
        "a resumed run stays running, with its first start"
    );
    assert_eq!(store.get(&run.id).unwrap().unwrap().started_ms, Some(1_100));
    assert!(store.finish(&run.id, &finish(RunStatus::Succeeded, 1_200)).unwrap());
    let done = store.get(&run.id).unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.output.as_deref(), Some("42"));
    assert_eq!(done.timeline.as_deref(), Some(r#"[{"node":"a"}]"#));
    assert_eq!(done.finished_ms, Some(1_200));
    assert_eq!(done.input, r#"{"n":1}"#);
    assert!(store.get("no-such-run").unwrap().is_none());
}

pub fn a_finished_run_is_not_finished_again(store: &dyn RunStore) {
    let run = created(store, new_run("flow", None), 1_000);
    assert!(store.finish(&run.id, &finish(RunStatus::Cancelled, 1_100)).unwrap());
    assert!(!store.finish(&run.id, &finish(RunStatus::Succeeded, 1_200)).unwrap());
    assert!(!store.start(&run.id, 1_300).unwrap(), "a finished run is not started");
    assert!(!store.start("no-such-run", 1_300).unwrap());
    let record = store.get(&run.id).unwrap().unwrap();
    assert_eq!(
        record.status,
        RunStatus::Cancelled,
        "neither finish nor start undoes a cancel"
    );
    assert!(!store.finish("no-such-run", &finish(RunStatus::Failed, 1)).unwrap());
}

pub fn an_idempotency_key_returns_the_first_run(store: &dyn RunStore) {
    let first = created(store, new_run("flow", Some("order-17")), 1_000);
    match store.create(new_run("flow", Some("order-17")), 2_000).unwrap() {
        Created::Existing(record) => assert_eq!(record.id, first.id),
        Created::New(record) => panic!("the key was reused: {record:?}"),
    }
    let other = created(store, new_run("flow", Some("order-18")), 3_000);
    assert_ne!(other.id, first.id);
    let unkeyed = (
        created(store, new_run("flow", None), 4_000),
        created(store, new_run("flow", None), 4_000),
    );
    assert_ne!(unkeyed.0.id, unkeyed.1.id, "runs without keys are never merged");
}

pub fn lists_filter_and_page_newest_first(store: &dyn RunStore) {
    let mut ids = Vec::new();
    for i in 0..7 {
        let workflow = if i % 2 == 0 { "even" } else { "odd" };
        let run = created(store, new_run(workflow, None), 1_000 + i);
        if i < 3 {
            store.finish(&run.id, &finish(RunStatus::Failed, 2_000)).unwrap();
        }
        ids.push(run.id);
    }
    let all = |filter: RunFilter| {
        store
            .list(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(all(RunFilter::default()), newest_first);
    let page = all(RunFilter {
        limit: 3,
        ..RunFilter::default()
    });
    assert_eq!(page, newest_first[..3]);
    let next = all(RunFilter {
        limit: 3,
        before: page.last().cloned(),
        ..RunFilter::default()
    });
    assert_eq!(next, newest_first[3..6]);
    let even = all(RunFilter {
        workflow: Some("even".into()),
        ..RunFilter::default()
    });
    assert_eq!(
        even,
        vec![ids[6].clone(), ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let failed_odd = all(RunFilter {
        workflow: Some("odd".into()),
        status: Some(RunStatus::Failed),
        ..RunFilter::default()
    });
    assert_eq!(failed_odd, vec![ids[1].clone()]);
}

pub fn lists_keep_to_workflow_patterns_literally_and_case_sensitively(store: &dyn RunStore) {
    let names = [
        "orders-eu",
        "orders-us",
        "ORDERS-x",
        "payroll",
        "a%b",
        "axb",
        "a_b",
        "a?b",
        "a[b]",
        "a\\b",
        "a*b",
    ];
    for (i, name) in names.iter().enumerate() {
        created(store, new_run(name, None), 1_000 + i64::try_from(i).unwrap());
    }
    let listed = |patterns: &[&str]| {
        let filter = RunFilter {
            workflows: Some(patterns.iter().map(std::string::ToString::to_string).collect()),
            ..RunFilter::default()
        };
        let mut workflows: Vec<String> = store.list(&filter).unwrap().into_iter().map(|r| r.workflow).collect();
        workflows.sort();
        workflows
    };
    assert_eq!(listed(&["orders-*"]), ["orders-eu", "orders-us"]);
    assert_eq!(listed(&["orders-eu", "pay*"]), ["orders-eu", "payroll"]);
    assert_eq!(listed(&["a%b"]), ["a%b"], "% is a character, not a wildcard");
    assert_eq!(listed(&["a_b"]), ["a_b"], "_ is a character");
    assert_eq!(listed(&["a?b"]), ["a?b"], "? is a character");
    assert_eq!(listed(&["a[b]"]), ["a[b]"], "[ is a character");
    assert_eq!(listed(&["a\\b"]), ["a\\b"], "\\ is a character");
    assert_eq!(
        listed(&["a*b"]),
        ["a%b", "a*b", "a?b", "a\\b", "a_b", "axb"],
        "* matches any text"
    );
    assert!(listed(&[]).is_empty(), "no pattern, no workflow");
    let limited_page = RunFilter {
        workflows: Some(vec!["orders-*".into()]),
        limit: 1,
        ..RunFilter::default()
    };
    let page = store.list(&limited_page).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(
        page[0].workflow, "orders-us",
        "the newest matching run, not the newest run"
    );
}

pub fn unfinished_runs_are_found_after_a_restart_and_old_ones_pruned(store: &dyn RunStore) {
    let queued = created(store, new_run("flow", None), 1_000);
    let running = created(store, new_run("flow", None), 1_001);
    assert!(store.start(&running.id, 1_002).unwrap());
    let old = created(store, new_run("flow", None), 1_003);
    store.finish(&old.id, &finish(RunStatus::Succeeded, 1_004)).unwrap();
    let recent = created(store, new_run("flow", None), 1_005);
    store.finish(&recent.id, &finish(RunStatus::Succeeded, 9_000)).unwrap();
    let unfinished: Vec<_> = store
        .unfinished()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.status))
        .collect();
    assert_eq!(
        unfinished,
        vec![
            (queued.id.clone(), RunStatus::Queued),
            (running.id.clone(), RunStatus::Running)
        ]
    );
    assert_eq!(store.prune(5_000).unwrap(), 1);
    assert!(store.get(&old.id).unwrap().is_none());
    assert!(store.get(&recent.id).unwrap().is_some());
    assert!(
        store.get(&queued.id).unwrap().is_some(),
        "unfinished runs are never pruned"
    );
}

/// Runs every check on a fresh store from `open`.
pub fn check_all(open: &dyn Fn() -> Box<dyn RunStore>) {
    a_run_goes_from_queued_to_running_to_finished(&*open());
    a_finished_run_is_not_finished_again(&*open());
    an_idempotency_key_returns_the_first_run(&*open());
    lists_filter_and_page_newest_first(&*open());
    lists_keep_to_workflow_patterns_literally_and_case_sensitively(&*open());
    unfinished_runs_are_found_after_a_restart_and_old_ones_pruned(&*open());
}
