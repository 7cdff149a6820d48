//! Workflows: the served ones listed, and one with its source and graph.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Path;
use crate::api::access::{Access, Read};
use crate::app::App;

/// A served workflow in the list.
#[derive(Serialize, ToSchema)]
pub struct WorkflowSummary {
    name: String,
    /// The file it came from.
    #[schema(value_type = String)]
    file: PathBuf,
    /// How many nodes it has.
    nodes: usize,
    /// Its start node.
    start: String,
}

/// A workflow file that did not load, and why.
#[derive(Serialize, ToSchema)]
pub struct FailedFile {
    #[schema(value_type = String)]
    file: PathBuf,
    error: String,
}

/// `GET /v1/workflows`'s answer.
#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    workflows: Vec<WorkflowSummary>,
    /// Files that failed to parse or validate (only for a token that sees
    /// every workflow).
    failed: Vec<FailedFile>,
}

/// The served workflows, and the files that failed.
#[utoipa::path(
    get,
    path = "/v1/workflows",
    tag = "workflows",
    responses(
        (status = 200, description = "The workflows the token sees", body = WorkflowList),
        (status = 403, description = "No `read` scope", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn list_workflows(State(app): State<Arc<App>>, access: Access<Read>) -> Json<WorkflowList> {
    let set = app.workflows.load();
    let workflows = set
        .loaded()
        .filter(|w| access.sees(&w.name))
        .map(|w| WorkflowSummary {
            name: w.name.clone(),
            file: w.path.clone(),
            nodes: w.graph.nodes().len(),
            start: w.graph.start().name().to_string(),
        })
        .collect();
    // A file that failed names no workflow anyone may be said to see.
    let failed = if access.sees_everything() {
        set.failed()
            .iter()
            .map(|(file, error)| FailedFile {
                file: file.clone(),
                error: error.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Json(WorkflowList { workflows, failed })
}

/// `GET /v1/workflows/{name}`'s answer.
#[derive(Serialize, ToSchema)]
pub struct WorkflowDetail {
    name: String,
    #[schema(value_type = String)]
    file: PathBuf,
    /// Its source text.
    #[schema(value_type = String)]
    source: Arc<str>,
    /// The graph as a Mermaid flowchart.
    mermaid: String,
    /// The graph as nodes and edges (what the web page draws).
    graph: serde_json::Value,
}

/// A served workflow: its source and its graph.
#[utoipa::path(
    get,
    path = "/v1/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowDetail),
        (status = 403, description = "No `read` scope", body = ErrorBody),
        (status = 404, description = "No such workflow (or one the token does not see)", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn get_workflow(
    State(app): State<Arc<App>>,
    access: Access<Read>,
    Path(name): Path<String>,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let found = app.workflows.load().get(&name).cloned();
    let workflow = access.reach(&format!("workflow `{name}`"), found)?;
    Ok(Json(WorkflowDetail {
        name: workflow.name.clone(),
        file: workflow.path.clone(),
        source: workflow.source.clone(),
        mermaid: pocket_runtime::present::mermaid(&workflow.graph),
        graph: pocket_runtime::present::graph_json(&workflow.graph),
    }))
}
