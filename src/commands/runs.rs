//! `pocket run --remote` and `pocket runs list|show`: runs on a server, or
//! in the local run history.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pocket_history::{PostgresStore, RunFilter, RunRecord, RunStatus, RunStore, SqliteStore};
use serde_json::{Value, json};

use crate::cli::{RemoteArgs, RunArgs, RunsCommand};
use crate::remote::Remote;

/// `pocket run WORKFLOW --remote URL`: a workflow file is sent inline, any
/// other WORKFLOW names a workflow the server serves; waits for the end.
pub fn run_remote(args: &RunArgs, remote: &RemoteArgs, url: &str) -> anyhow::Result<ExitCode> {
    let server = Remote::new(url, remote.token.clone())?;
    let input = crate::input::build(args.input.as_deref(), &args.set)?;
    let input: Value = serde_json::from_str(&input.to_json()).context("the input has no JSON form")?;
    let mut body = json!({ "input": input });
    let workflow = &args.workflow;
    if workflow.is_file() {
        let source = std::fs::read_to_string(workflow)
            .with_context(|| format!("cannot read workflow file {}", workflow.display()))?;
        body["definition"] = source.into();
    } else {
        body["workflow"] = workflow.to_string_lossy().into_owned().into();
    }
    let run = server.post("/v1/runs?wait=true&timeout=5m", &body)?;
    if args.trace {
        print_timeline(&run["timeline"]);
    }
    match run["status"].as_str() {
        Some("succeeded") => {
            println!("{}", serde_json::to_string_pretty(&run["output"])?);
            Ok(ExitCode::SUCCESS)
        }
        Some("failed" | "cancelled") => {
            let error = run["error"].as_str().unwrap_or("no reason given");
            anyhow::bail!(
                "run {} {}: {error}",
                run["id"].as_str().unwrap_or("?"),
                run["status"].as_str().unwrap_or("?")
            )
        }
        _ => {
            eprintln!(
                "run {} is still {} after 5 minutes; follow it with `pocket runs show {} --remote {url}`",
                run["id"].as_str().unwrap_or("?"),
                run["status"].as_str().unwrap_or("?"),
                run["id"].as_str().unwrap_or("?"),
            );
            Ok(ExitCode::from(2))
        }
    }
}

fn print_timeline(timeline: &Value) {
    eprintln!(
        "{:<20}  {:<20}  {:>10}  {:>10}  ACTION",
        "NODE", "TYPE", "START", "DURATION"
    );
    for entry in timeline.as_array().into_iter().flatten() {
        let outcome = match (entry["action"].as_str(), entry["error"].as_str()) {
            (Some(action), _) => action.to_string(),
            (None, Some(error)) => format!("failed: {error}"),
            _ => String::new(),
        };
        eprintln!(
            "{:<20}  {:<20}  {:>8.3}ms  {:>8.3}ms  {outcome}",
            entry["node"].as_str().unwrap_or(""),
            entry["type"].as_str().unwrap_or(""),
            entry["started_ms"].as_f64().unwrap_or(0.0),
            entry["duration_ms"].as_f64().unwrap_or(0.0),
        );
    }
}

/// `pocket runs ...`.
pub fn runs(explicit_config: Option<&Path>, command: RunsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RunsCommand::List {
            workflow,
            status,
            limit,
            remote,
        } => {
            let runs = match &remote.remote {
                Some(url) => {
                    let mut query = vec![format!("limit={limit}")];
                    query.extend(workflow.as_ref().map(|w| format!("workflow={w}")));
                    query.extend(status.as_ref().map(|s| format!("status={s}")));
                    let page = Remote::new(url, remote.token.clone())?.get(&format!("/v1/runs?{}", query.join("&")))?;
                    page["runs"].as_array().cloned().unwrap_or_default()
                }
                None => {
                    let status = status
                        .as_deref()
                        .map(str::parse::<RunStatus>)
                        .transpose()
                        .map_err(anyhow::Error::msg)?;
                    let filter = RunFilter {
                        workflow,
                        status,
                        before: None,
                        limit,
                        workflows: None,
                    };
                    local_store(explicit_config)?
                        .list(&filter)?
                        .iter()
                        .map(summary)
                        .collect()
                }
            };
            let rows: Vec<[String; 5]> = runs
                .iter()
                .map(|run| {
                    let took = match (run["started_ms"].as_i64(), run["finished_ms"].as_i64()) {
                        (Some(start), Some(end)) => format!("{} ms", end - start),
                        _ => String::new(),
                    };
                    [
                        run["id"].as_str().unwrap_or("").to_string(),
                        run["workflow"].as_str().unwrap_or("").to_string(),
                        run["status"].as_str().unwrap_or("").to_string(),
                        took,
                        run["error"]
                            .as_str()
                            .unwrap_or("")
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    ]
                })
                .collect();
            crate::report::table(&["ID", "WORKFLOW", "STATUS", "TOOK", "ERROR"], &rows);
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Show { id, remote } => {
            let run = match &remote.remote {
                Some(url) => Remote::new(url, remote.token.clone())?.get(&format!("/v1/runs/{id}"))?,
                None => {
                    let record = local_store(explicit_config)?
                        .get(&id)?
                        .with_context(|| format!("no run `{id}` in the run history"))?;
                    detail(&record)
                }
            };
            println!("{}", serde_json::to_string_pretty(&run)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The history pocket.toml's `[server]` names (its default without one).
fn local_store(explicit_config: Option<&Path>) -> anyhow::Result<Box<dyn RunStore>> {
    let config = pocket_runtime::Deployment::read_config(explicit_config)?;
    let base = match &config.path {
        Some(path) => pocket_core::directory_of(path).to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let server = config
        .server
        .unwrap_or_else(|| pocket_core::ServerConfig::defaults(&base));
    Ok(match &server.history {
        pocket_core::HistoryLocation::Sqlite(path) => {
            anyhow::ensure!(
                path.is_file(),
                "no run history at {} (pocket serve writes it; or give --remote URL)",
                path.display()
            );
            Box::new(SqliteStore::open(path)?)
        }
        pocket_core::HistoryLocation::Postgres(url) => Box::new(PostgresStore::open(url)?),
    })
}

fn summary(run: &RunRecord) -> Value {
    json!({
        "id": run.id, "workflow": run.workflow, "status": run.status, "error": run.error,
        "created_ms": run.created_ms, "started_ms": run.started_ms, "finished_ms": run.finished_ms,
    })
}

/// A stored run as the API shows it.
fn detail(run: &RunRecord) -> Value {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
    let mut value = summary(run);
    value["input"] = parse(&run.input);
    value["output"] = run.output.as_deref().map_or(Value::Null, parse);
    value["timeline"] = run.timeline.as_deref().map_or(json!([]), parse);
    value["idempotency_key"] = run
        .idempotency_key
        .as_deref()
        .map(|key| pocket_server::idempotency::unscoped(&run.workflow, key))
        .into();
    value
}
