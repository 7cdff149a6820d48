//! Runner behaviour, driven through real parsing and validation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pocket_value::Value;

use super::*;
use crate::config::PocketConfig;
use crate::error::ConfigError;
use crate::node::{Execution, Invocation, Node};
use crate::outcome::NodeOutput;
use crate::parse::{Format, parse_str};
use crate::plugin::{NodeDescription, NodeSetup, NodeType};
use crate::registry::Registry;
use crate::testing::{StaticPlugin, fn_type};
use crate::validate::validate;

/// A node type whose calls are async and run `f`.
struct AsyncType<F> {
    description: NodeDescription,
    f: Arc<F>,
}

struct AsyncNode<F>(Arc<F>);

impl<F, Fut> NodeType for AsyncType<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<NodeOutput, NodeError>> + Send + 'static,
{
    fn description(&self) -> &NodeDescription {
        &self.description
    }
    fn prepare(&self, _: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        Ok(Arc::new(AsyncNode(self.f.clone())))
    }
}

impl<F, Fut> Node for AsyncNode<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<NodeOutput, NodeError>> + Send + 'static,
{
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        Execution::pending((self.0)(call.input))
    }
}

fn async_type<F, Fut>(name: &'static str, f: F) -> Arc<dyn NodeType>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<NodeOutput, NodeError>> + Send + 'static,
{
    Arc::new(AsyncType {
        description: NodeDescription::new(name, "async test node"),
        f: Arc::new(f),
    })
}

fn n_of(v: &Value) -> i64 {
    v.get("n").and_then(Value::as_i64).unwrap_or(0)
}

/// Test node types: `pass` (input as is, action from config `action`), `tag`
/// (`{"from": <config tag>, "input": input}`), `inc` (n+1; action `again`
/// while n < config `until`, then `done`), `fail`, `panic`.
fn registry_with(extra: Vec<Arc<dyn NodeType>>) -> Registry {
    let mut types = vec![
        fn_type("pass", |call| {
            let out = NodeOutput::new(call.input.clone());
            Ok(match call.config.get("action").and_then(Value::as_str) {
                Some(a) => out.with_action(a),
                None => out,
            })
        }),
        fn_type("tag", |call| {
            let tag = call.config.get("tag").cloned().unwrap_or_default();
            Ok(NodeOutput::new(Value::object([
                ("from", tag),
                ("input", call.input.clone()),
            ])))
        }),
        fn_type("inc", |call| {
            let n = n_of(&call.input) + 1;
            let until = call.config.get("until").and_then(Value::as_i64).unwrap_or(i64::MAX);
            let out = NodeOutput::new(Value::object([("n", Value::from(n))]));
            Ok(out.with_action(if n < until { "again" } else { "done" }))
        }),
        fn_type("fail", |_| Err(NodeError::failed("boom"))),
        fn_type("panic", |_| panic!("node bug")),
    ];
    types.extend(extra);
    let registry = Registry::new();
    registry.register(Arc::new(StaticPlugin::new("test", types))).unwrap();
    registry
}

fn graph(registry: &Registry, yaml: &str) -> Arc<Graph> {
    let file = parse_str(yaml, Format::Yaml).unwrap();
    match validate(&file, &registry.catalog(), &PocketConfig::default()) {
        Ok(v) => v.graph,
        Err(e) => panic!("invalid test workflow:\n{e}"),
    }
}

async fn run_yaml(registry: &Registry, yaml: &str, input: Value) -> Result<RunOutcome, RunError> {
    run(graph(registry, yaml), input, RunOptions::default()).await
}

fn json(text: &str) -> Value {
    Value::from_json(text).unwrap()
}

#[tokio::test]
async fn a_chain_runs_in_order_and_returns_the_last_output() {
    let r = registry_with(vec![]);
    let out = run_yaml(
        &r,
        "name: t\nstart: a\nnodes:\n- {name: a, type: inc}\n- {name: b, type: inc}\n- {name: c, type: inc}\nconnections:\n- {from: a, to: b, action: again}\n- {from: b, to: c, action: again}\n",
        json(r#"{"n": 0}"#),
    )
    .await
    .unwrap();
    assert_eq!(out.output, json(r#"{"n": 3}"#));
    assert_eq!(out.steps, 3);
}

#[tokio::test]
async fn the_action_selects_the_edge_and_default_is_the_fallback() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass, config: {action: '{{.go}}'}}\n- {name: left, type: tag, config: {tag: left}}\n- {name: other, type: tag, config: {tag: other}}\nconnections:\n- {from: a, to: left, action: left}\n- {from: a, to: other}\n";
    let out = run_yaml(&r, yaml, json(r#"{"go": "left"}"#)).await.unwrap();
    assert_eq!(out.output.get("from"), Some(&Value::from("left")));
    let out = run_yaml(&r, yaml, json(r#"{"go": "elsewhere"}"#)).await.unwrap();
    assert_eq!(out.output.get("from"), Some(&Value::from("other")));
}

#[tokio::test]
async fn an_action_naming_a_node_without_an_edge_does_not_jump_to_it() {
    // Only `conditional` jumps by name: any other node (a plugin's, say)
    // naming a node no edge leads to cannot skip ahead to it.
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass, config: {action: target}}\n- {name: target, type: tag, config: {tag: jumped}}\n";
    let out = run_yaml(&r, yaml, json("1")).await.unwrap();
    assert_eq!(out.output, json("1"), "the run ends at `a`");
    assert_eq!(out.steps, 1);
    let with_default =
        format!("{yaml}- {{name: next, type: tag, config: {{tag: next}}}}\nconnections:\n- {{from: a, to: next}}\n");
    let out = run_yaml(&r, &with_default, json("1")).await.unwrap();
    assert_eq!(
        out.output.get("from"),
        Some(&Value::from("next")),
        "the default edge, not `target`"
    );
}

#[tokio::test]
async fn node_successors_work_like_connections() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- name: a\n  type: inc\n  successors: [{action: again, target: b}]\n- {name: b, type: tag, config: {tag: b}}\n";
    let out = run_yaml(&r, yaml, json(r#"{"n": 0}"#)).await.unwrap();
    assert_eq!(out.output.get("from"), Some(&Value::from("b")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_branches_run_concurrently_and_fan_in_gets_outputs_by_source() {
    // Each branch waits for the other at a barrier: only concurrent branches finish.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let meet = async_type("meet", move |input| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            Ok(NodeOutput::new(input))
        }
    });
    let r = registry_with(vec![meet]);
    let yaml = "name: t\nstart: split\nnodes:\n- {name: split, type: pass}\n- {name: left, type: meet}\n- {name: right, type: meet}\n- {name: join, type: pass}\nconnections:\n- {from: split, to: left}\n- {from: split, to: right}\n- {from: left, to: join}\n- {from: right, to: join}\n";
    let out = tokio::time::timeout(Duration::from_secs(10), run_yaml(&r, yaml, json("7")))
        .await
        .expect("branches deadlocked: not concurrent")
        .unwrap();
    assert_eq!(out.output, json(r#"{"left": 7, "right": 7}"#));
    assert_eq!(out.steps, 4);
}

#[tokio::test]
async fn a_join_reached_by_one_branch_of_a_choice_gets_the_plain_output() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass, config: {action: x}}\n- {name: x, type: tag, config: {tag: x}}\n- {name: y, type: tag, config: {tag: y}}\n- {name: join, type: pass}\nconnections:\n- {from: a, to: x, action: x}\n- {from: a, to: y, action: y}\n- {from: x, to: join}\n- {from: y, to: join}\n";
    let out = run_yaml(&r, yaml, json("1")).await.unwrap();
    assert_eq!(out.output, json(r#"{"from": "x", "input": 1}"#));
}

#[tokio::test]
async fn a_fan_out_without_a_join_returns_each_branch_end_by_name() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass}\n- {name: b, type: tag, config: {tag: b}}\n- {name: c, type: tag, config: {tag: c}}\nconnections:\n- {from: a, to: b}\n- {from: a, to: c}\n";
    let out = run_yaml(&r, yaml, json("1")).await.unwrap();
    assert_eq!(
        out.output,
        json(r#"{"b": {"from": "b", "input": 1}, "c": {"from": "c", "input": 1}}"#)
    );
}

#[tokio::test]
async fn an_error_edge_receives_the_error_and_the_input() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: fail}\n- {name: handler, type: pass}\nconnections:\n- {from: a, to: handler, action: error}\n";
    let out = run_yaml(&r, yaml, json(r#"{"k": 1}"#)).await.unwrap();
    assert_eq!(out.output, json(r#"{"error": "boom", "input": {"k": 1}}"#));
}

#[tokio::test]
async fn a_failure_without_an_error_edge_names_node_type_and_plugin() {
    let r = registry_with(vec![]);
    let err = run_yaml(&r, "name: t\nstart: a\nnodes:\n- {name: a, type: fail}\n", Value::Null)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("node `a`")
            && text.contains("type `fail`")
            && text.contains("plugin `test`")
            && text.contains("boom"),
        "{text}"
    );
    assert!(text.contains("line 4"), "points at the node: {text}");
}

/// What a [`RunObserver`] heard of one node: its name, action, and plugin and error.
type Heard = (String, Option<String>, Option<String>);

/// Collects what a [`RunObserver`] is told.
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<Heard>>);

impl RunObserver for Collect {
    fn node_finished(&self, entry: &TraceEntry, error: Option<&NodeError>) {
        let action = entry.action.as_ref().map(ToString::to_string);
        let plugin_and_error = error.map(|e| format!("{}: {e}", entry.plugin));
        self.0
            .lock()
            .unwrap()
            .push((entry.node.to_string(), action, plugin_and_error));
    }
}

#[tokio::test]
async fn an_observer_hears_every_node_of_a_failed_run_too() {
    let r = registry_with(vec![]);
    let observer = Arc::new(Collect::default());
    let options = RunOptions {
        observer: Some(observer.clone()),
        ..RunOptions::default()
    };
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass}\n- {name: b, type: fail}\nconnections:\n- {from: a, to: b}\n";
    run(graph(&r, yaml), json("1"), options).await.unwrap_err();
    let heard = observer.0.lock().unwrap().clone();
    assert_eq!(
        heard,
        vec![
            ("a".to_string(), Some("default".to_string()), None),
            ("b".to_string(), None, Some("test: boom".to_string())),
        ]
    );
}

#[tokio::test]
async fn the_timeline_names_a_type_by_its_full_name_however_it_was_written() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: pass}\n- {name: b, type: test/pass}\nconnections:\n- {from: a, to: b}\n";
    let options = RunOptions {
        trace: true,
        ..RunOptions::default()
    };
    let out = run(graph(&r, yaml), json("1"), options).await.unwrap();
    let types: Vec<(&str, &str)> = out.timeline.iter().map(|t| (&*t.node_type, &*t.plugin)).collect();
    assert_eq!(types, [("test/pass", "test"), ("test/pass", "test")]);
}

#[tokio::test]
async fn a_panicking_node_fails_cleanly_and_the_next_run_works() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: panic}\n- {name: h, type: pass}\nconnections:\n- {from: a, to: h, action: error}\n";
    let out = run_yaml(&r, yaml, Value::Null).await.unwrap();
    assert!(
        out.output
            .get("error")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("panicked: node bug")
    );
    assert!(
        run_yaml(&r, "name: t\nstart: a\nnodes:\n- {name: a, type: pass}\n", json("1"))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_until_an_attempt_succeeds() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let flaky = async_type("flaky", move |input| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                Err(NodeError::failed("not yet"))
            } else {
                Ok(NodeOutput::new(input))
            }
        }
    });
    let r = registry_with(vec![flaky]);
    let yaml =
        "name: t\nstart: a\nnodes:\n- name: a\n  type: flaky\n  retry: {max_attempts: 3, delay: 1s, multiplier: 2}\n";
    let started = tokio::time::Instant::now();
    let out = run(
        graph(&r, yaml),
        json("5"),
        RunOptions {
            trace: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(out.output, json("5"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(out.timeline[0].attempts, 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "1s then 2s of backoff (virtual time)"
    );
}

#[tokio::test]
async fn a_node_running_in_place_past_its_timeout_fails_with_a_timeout_error() {
    // A synchronous body cannot be interrupted; it sees its deadline, and
    // ending after it is a timeout whatever it returned.
    let seen = Arc::new(std::sync::Mutex::new(None));
    let saw = seen.clone();
    let slow = fn_type("slow-sync", move |call| {
        *saw.lock().unwrap() = call.remaining();
        std::thread::sleep(Duration::from_millis(300));
        Ok(NodeOutput::new(call.input.clone()))
    });
    let r = registry_with(vec![slow]);
    let err = run_yaml(
        &r,
        "name: t\nstart: a\nnodes:\n- {name: a, type: slow-sync, timeout: 100ms}\n",
        Value::Null,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("timed out after 100ms"), "{err}");
    let remaining = seen.lock().unwrap().expect("the call carries its deadline");
    assert!(remaining <= Duration::from_millis(100), "{remaining:?}");
}

#[tokio::test(start_paused = true)]
async fn a_node_over_its_timeout_fails_with_a_timeout_error() {
    let slow = async_type("slow", |input| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(NodeOutput::new(input))
    });
    let r = registry_with(vec![slow]);
    let err = run_yaml(
        &r,
        "name: t\nstart: a\nnodes:\n- {name: a, type: slow, timeout: 2s}\n",
        Value::Null,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RunError::NodeFailed(f) if f.error == NodeError::Timeout(Duration::from_secs(2))),
        "{err}"
    );
}

#[tokio::test]
async fn loops_run_until_their_exit_action() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: count\nnodes:\n- {name: count, type: inc, config: {until: 50}}\n- {name: end, type: tag, config: {tag: done}}\nconnections:\n- {from: count, to: count, action: again}\n- {from: count, to: end, action: done}\n";
    let out = run_yaml(&r, yaml, json(r#"{"n": 0}"#)).await.unwrap();
    assert_eq!(out.output, json(r#"{"from": "done", "input": {"n": 50}}"#));
    assert_eq!(out.steps, 51);
}

#[tokio::test]
async fn an_endless_loop_stops_at_max_steps() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nmax_steps: 100\nnodes:\n- {name: a, type: inc}\nconnections:\n- {from: a, to: a, action: again}\n";
    let err = run_yaml(&r, yaml, Value::Null).await.unwrap_err();
    assert_eq!(
        err,
        RunError::MaxSteps {
            limit: 100,
            node: "a".into()
        }
    );
}

#[tokio::test]
async fn cancelling_stops_a_running_node() {
    let stuck = async_type("stuck", |_| std::future::pending());
    let r = registry_with(vec![stuck]);
    let g = graph(&r, "name: t\nstart: a\nnodes:\n- {name: a, type: stuck}\n");
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(run(
        g,
        Value::Null,
        RunOptions {
            cancel: cancel.clone(),
            ..Default::default()
        },
    ));
    tokio::task::yield_now().await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.unwrap_err(), RunError::Cancelled);
}

#[test]
fn a_long_chain_does_not_grow_the_stack() {
    let mut yaml = String::from("name: t\nstart: n0\nmax_steps: 100000\nnodes:\n");
    let count = 20_000;
    for i in 0..count {
        yaml.push_str(&format!("- {{name: n{i}, type: pass}}\n"));
    }
    yaml.push_str("connections:\n");
    for i in 1..count {
        yaml.push_str(&format!("- {{from: n{}, to: n{i}}}\n", i - 1));
    }
    let r = registry_with(vec![]);
    let g = graph(&r, &yaml);
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let out = rt.block_on(run(g, json("1"), RunOptions::default())).unwrap();
            assert_eq!(out.steps, 20_000);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Answers every attempt itself (an executor standing in for remote
/// workers): fails each execution's first attempt, then echoes the input.
#[derive(Default)]
struct Elsewhere(std::sync::Mutex<Vec<(String, u64, u32)>>);

impl NodeExecutor for Elsewhere {
    fn attempt<'a>(&'a self, job: NodeJob<'a>) -> crate::outcome::BoxFuture<'a, Result<NodeOutput, NodeError>> {
        self.0
            .lock()
            .unwrap()
            .push((job.node.name().to_string(), job.execution, job.attempt));
        let answer = match job.attempt {
            1 => Err(NodeError::failed("first attempts fail elsewhere")),
            _ => Ok(NodeOutput::new(Value::array([job.input, job.config]))),
        };
        Box::pin(async move { answer })
    }
}

#[tokio::test]
async fn an_executor_answers_every_attempt_and_the_runner_keeps_retries_and_routing() {
    let r = registry_with(vec![]);
    let yaml = "name: t\nstart: a\nnodes:\n- {name: a, type: fail, retry: {max_attempts: 2, delay: 1ms}}\n\
                - {name: b, type: fail, config: {x: '{{.}}'}, retry: {max_attempts: 2, delay: 1ms}}\n\
                connections:\n- {from: a, to: b}\n";
    let executor = Arc::new(Elsewhere::default());
    let options = RunOptions {
        executor: Some(executor.clone()),
        ..RunOptions::default()
    };
    let outcome = run(graph(&r, yaml), json("7"), options).await.unwrap();
    // `fail` never ran here: the executor's answers were routed; b's config
    // was rendered against its input before it was sent.
    assert_eq!(outcome.output.to_json(), r#"[[7,{}],{"x":[7,{}]}]"#);
    let calls = executor.0.lock().unwrap().clone();
    let names: Vec<(&str, u32)> = calls.iter().map(|(n, _, a)| (n.as_str(), *a)).collect();
    assert_eq!(names, [("a", 1), ("a", 2), ("b", 1), ("b", 2)]);
    assert_eq!(calls[0].1, calls[1].1, "one execution's attempts share its number");
    assert_ne!(calls[1].1, calls[2].1);
}
