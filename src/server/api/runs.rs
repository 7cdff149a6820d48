//! The HTTP API: routes, request parsing and JSON answers. What each caller
//! may see and do is decided in one place, [`Access`](super::access::Access).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use pocket_core::{Scope, Value};
use pocket_history::{Created, RunFilter, RunRecord, RunStatus};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::access::Access;
use super::auth::{Refusal, Tokens};
use super::idempotency;
use super::metrics::Metrics;
use super::runs::{RunManager, Submission, SubmitError};
use super::workflows::{self, WorkflowSet};
use crate::host::Host;

/// Everything the handlers share.
pub struct App {
    /// pocket.toml and the plugin registry.
    pub host: Arc<Host>,
    /// The runs.
    pub runs: Arc<RunManager>,
    /// The workflows served by name.
    pub workflows: ArcSwap<WorkflowSet>,
    /// Where they come from.
    pub workflows_dir: Option<std::path::PathBuf>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Who may call.
    pub tokens: Tokens,
    /// Set once runs left by a previous process were recovered.
    pub ready: AtomicBool,
    /// Cancelled when the server begins to stop.
    pub stopping: CancellationToken,
}

impl App {
    /// Validates every workflow file again (after plugins changed, or the
    /// files did), keeping the last good version of a file edited into a
    /// broken one.
    pub fn refresh_workflows(&self) {
        match WorkflowSet::reload(&self.workflows.load(), self.workflows_dir.as_deref(), &self.host) {
            Ok(set) => {
                tracing::info!(
                    workflows = set.loaded().count(),
                    failed = set.failed().len(),
                    "workflows reloaded"
                );
                self.workflows.store(Arc::new(set));
            }
            Err(error) => tracing::warn!("workflows not reloaded: {error}"),
        }
    }
}

/// The longest `?wait=true` may hold a request.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// How long `?wait=true` holds a request without `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// The API's router.
pub fn router(app: Arc<App>, max_body: usize) -> Router {
    let authenticated = Router::new()
        .route("/v1/runs", post(create_run).get(list_runs))
        .route("/v1/runs/{id}", get(get_run))
        .route("/v1/runs/{id}/cancel", post(cancel_run))
        .route("/v1/workflows", get(list_workflows))
        .route("/v1/workflows/{name}", get(get_workflow))
        .route("/v1/plugins", get(list_plugins))
        .route("/v1/plugins/load", post(load_plugin))
        .route("/v1/plugins/{name}/reload", post(reload_plugin))
        .route("/v1/plugins/{name}/unload", post(unload_plugin))
        .route("/v1/nodes", get(list_nodes))
        .route("/metrics", get(metrics))
        .route("/hooks/{*path}", any(webhook))
        .layer(middleware::from_fn_with_state(app.clone(), authenticate));
    Router::new()
        .merge(authenticated)
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint (see the README's Server section)",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

/// An error answer: `{"error": message}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with `status` saying `message`.
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 404 for `what`.
    pub(super) fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!("{error}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(serde_json::json!({ "error": self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> ApiError {
        match error {
            SubmitError::Busy(_) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: error.to_string(),
                retry_after: Some(1),
            },
            // Nothing was recorded, so nothing runs: the caller may retry.
            SubmitError::Store(error) => {
                tracing::error!("refusing a run: {error}");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: format!("the run was not accepted: {error}"),
                    retry_after: Some(5),
                }
            }
        }
    }
}

impl From<pocket_history::StoreError> for ApiError {
    fn from(error: pocket_history::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}

async fn authenticate(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match app.tokens.caller(authorization) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Refusal::Missing) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs an API token: send `Authorization: Bearer TOKEN`",
        )
        .into_response(),
        Err(Refusal::Unknown) => ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token").into_response(),
    }
}

/// The web page: one file, no build step, talking to the API from the browser.
async fn page() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, include_str!("ui/index.html")).into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::SeqCst) && !app.stopping.is_cancelled() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>, access: Access) -> Result<Response, ApiError> {
    access.everything(Scope::Read, "read the metrics, which count every workflow's runs")?;
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, content_type)], app.metrics.encode()).into_response())
}

/// `POST /v1/runs`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRun {
    /// A workflow served by name...
    workflow: Option<String>,
    /// ...or one sent inline (YAML or JSON text).
    definition: Option<String>,
    #[serde(default)]
    input: serde_json::Value,
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
struct WaitQuery {
    #[serde(default)]
    wait: bool,
    timeout: Option<String>,
}

/// A run as the API shows it.
#[derive(Serialize)]
struct RunView {
    id: String,
    workflow: String,
    status: RunStatus,
    input: Value,
    output: Option<Value>,
    error: Option<String>,
    timeline: Value,
    idempotency_key: Option<String>,
    created_ms: i64,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
}

/// Stored JSON text back as a value (it was written by this server).
fn stored(text: &str) -> Value {
    Value::from_json(text).unwrap_or_else(|_| Value::from(text))
}

impl RunView {
    fn of(record: RunRecord, live_timeline: Option<Vec<serde_json::Value>>) -> RunView {
        let timeline = match (record.timeline.as_deref(), live_timeline) {
            (Some(text), _) => stored(text),
            (None, Some(live)) => Value::from(serde_json::Value::Array(live)),
            (None, None) => Value::array(Vec::<Value>::new()),
        };
        let idempotency_key = record
            .idempotency_key
            .as_deref()
            .map(|key| idempotency::unscoped(&record.workflow, key));
        RunView {
            input: stored(&record.input),
            output: record.output.as_deref().map(stored),
            timeline,
            id: record.id,
            workflow: record.workflow,
            status: record.status,
            error: record.error,
            idempotency_key,
            created_ms: record.created_ms,
            started_ms: record.started_ms,
            finished_ms: record.finished_ms,
        }
    }
}

async fn fetch(app: &App, id: &str) -> Result<Option<RunRecord>, ApiError> {
    let id = id.to_string();
    Ok(app.runs.call(move |store| store.get(&id)).await?)
}

/// Run `id` as the API shows it, if `access` may see it with `scope`.
async fn view(app: &App, access: &Access, scope: Scope, id: &str) -> Result<RunView, ApiError> {
    let record = access.reach(scope, &format!("run `{id}`"), fetch(app, id).await?)?;
    let live = app.runs.live_timeline(&record.id);
    Ok(RunView::of(record, live))
}

fn body_error(rejection: BytesRejection) -> ApiError {
    ApiError::new(rejection.status(), rejection.body_text())
}

async fn create_run(
    State(app): State<Arc<App>>,
    access: Access,
    Query(query): Query<WaitQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    access.scope(Scope::Run)?;
    let body = body.map_err(body_error)?;
    let request: CreateRun = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid request body: {e}")))?;
    let idempotency_key = request.idempotency_key.or_else(|| idempotency_header(&headers));
    let (workflow, definition, inline) = match (request.workflow, request.definition) {
        (Some(name), None) => {
            let found = app.workflows.load().get(&name).cloned();
            let workflow = access.reach(Scope::Run, &format!("workflow `{name}`"), found)?;
            (name, workflow.definition(), None)
        }
        (None, Some(source)) => {
            access.everything(Scope::Run, "send a workflow inline (an inline workflow names itself)")?;
            let host = app.host.clone();
            let text = source.clone();
            let definition = tokio::task::spawn_blocking(move || workflows::inline(&text, &host))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid workflow: {e}")))?;
            (definition.graph.name().to_string(), definition, Some(source))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "give either `workflow` (a workflow's name) or `definition` (a workflow's YAML or JSON text)",
            ));
        }
    };
    let submission = Submission {
        workflow,
        definition,
        input: Value::from(request.input),
        inline,
        idempotency_key,
    };
    start(&app, &access, submission, &query).await
}

fn idempotency_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Submits a run and answers for it: 202 while it goes on, 200 once it
/// finished (`?wait=true` waits) or when an idempotency key replays it
/// (a run `access` may see: keys are scoped to their workflow).
async fn start(app: &App, access: &Access, submission: Submission, query: &WaitQuery) -> Result<Response, ApiError> {
    let wait = match &query.timeout {
        Some(text) => pocket_core::parse_duration(text)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("timeout: {e}")))?
            .min(MAX_WAIT),
        None => DEFAULT_WAIT,
    };
    let (record, replayed) = match app.runs.submit(submission).await? {
        Created::New(record) => (record, false),
        Created::Existing(record) => (access.reach(Scope::Run, "run", Some(record))?, true),
    };
    let finished = match query.wait && !replayed {
        true => tokio::select! {
            finished = app.runs.wait(&record.id, wait) => finished,
            () = app.stopping.cancelled() => None,
        },
        false => None,
    };
    let current = match finished {
        Some(Ok(finished)) => RunView::of(RunRecord::clone(&finished), None),
        Some(Err(unrecorded)) => return Err(ApiError::internal(unrecorded)),
        None => view(app, access, Scope::Run, &record.id).await?,
    };
    let status = if current.status.is_finished() || replayed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut response = (status, Json(current)).into_response();
    let location = HeaderValue::from_str(&format!("/v1/runs/{}", record.id)).map_err(ApiError::internal)?;
    response.headers_mut().insert(header::LOCATION, location);
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A webhook: the workflow whose trigger names this method and path runs
/// with the request body as input (JSON when it parses as JSON, else text).
/// Hooks of workflows the caller does not see do not exist for it, in the
/// 404 and in the 405's `Allow` alike.
async fn webhook(
    State(app): State<Arc<App>>,
    access: Access,
    Path(rest): Path<String>,
    Query(query): Query<WaitQuery>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    access.scope(Scope::Run)?;
    let path = format!("{}{rest}", pocket_core::WEBHOOK_PREFIX);
    let workflow = {
        let set = app.workflows.load();
        let visible: Vec<(&str, &Arc<workflows::Workflow>)> = set
            .hooks_at(&path)
            .filter(|(_, workflow)| access.sees(&workflow.name))
            .collect();
        match visible.iter().find(|(answers, _)| *answers == method.as_str()) {
            Some((_, workflow)) => Arc::clone(workflow),
            None if visible.is_empty() => return Err(ApiError::not_found(&format!("webhook {path}"))),
            None => {
                let allowed = visible
                    .iter()
                    .map(|(answers, _)| *answers)
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut refusal = ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("webhook {path} answers {allowed}, not {method}"),
                )
                .into_response();
                let allow = HeaderValue::from_str(&allowed).map_err(ApiError::internal)?;
                refusal.headers_mut().insert(header::ALLOW, allow);
                return Ok(refusal);
            }
        }
    };
    let body = body.map_err(body_error)?;
    let input = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(json) => Value::from(json),
            Err(e) if is_json(&headers) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid JSON body: {e}"),
                ));
            }
            Err(_) => match std::str::from_utf8(&body) {
                Ok(text) => Value::from(text),
                Err(_) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "the body is neither JSON nor UTF-8 text",
                    ));
                }
            },
        }
    };
    let submission = Submission {
        workflow: workflow.name.clone(),
        definition: workflow.definition(),
        input,
        inline: None,
        idempotency_key: idempotency_header(&headers),
    };
    start(&app, &access, submission, &query).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"))
}

async fn get_run(
    State(app): State<Arc<App>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(view(&app, &access, Scope::Read, &id).await?))
}

async fn cancel_run(State(app): State<Arc<App>>, access: Access, Path(id): Path<String>) -> Result<Response, ApiError> {
    let record = access.reach(Scope::Run, &format!("run `{id}`"), fetch(&app, &id).await?)?;
    if app.runs.cancel(&id) {
        let answer = serde_json::json!({ "id": id, "status": "cancelling" });
        return Ok((StatusCode::ACCEPTED, Json(answer)).into_response());
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        format!("run `{id}` is {} and cannot be cancelled", record.status),
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    workflow: Option<String>,
    status: Option<String>,
    before: Option<String>,
    #[serde(default)]
    limit: u32,
}

/// A run in a list: no input, output or timeline.
#[derive(Serialize)]
struct RunSummary {
    id: String,
    workflow: String,
    status: RunStatus,
    error: Option<String>,
    created_ms: i64,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
}

async fn list_runs(
    State(app): State<Arc<App>>,
    access: Access,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    access.scope(Scope::Read)?;
    let status = query
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let filter = RunFilter {
        workflow: query.workflow,
        status,
        before: query.before,
        limit: query.limit,
        workflows: access.patterns(),
    };
    let page_size = filter.page_size() as usize;
    let records = app.runs.call(move |store| store.list(&filter)).await?;
    let full = records.len() == page_size;
    let runs: Vec<RunSummary> = records
        .into_iter()
        .filter(|run| access.sees(&run.workflow))
        .map(|run| RunSummary {
            id: run.id,
            workflow: run.workflow,
            status: run.status,
            error: run.error,
            created_ms: run.created_ms,
            started_ms: run.started_ms,
            finished_ms: run.finished_ms,
        })
        .collect();
    // The store kept to the caller's workflows, so a full page is full of
    // runs it sees; the cursor is the last run shown, never a hidden one.
    let next = full.then(|| runs.last().map(|r| r.id.clone())).flatten();
    Ok(Json(serde_json::json!({ "runs": runs, "next": next })))
}

async fn list_workflows(State(app): State<Arc<App>>, access: Access) -> Result<Json<serde_json::Value>, ApiError> {
    access.scope(Scope::Read)?;
    let set = app.workflows.load();
    let loaded: Vec<serde_json::Value> = set
        .loaded()
        .filter(|w| access.sees(&w.name))
        .map(|w| {
            serde_json::json!({
                "name": w.name,
                "file": w.path,
                "nodes": w.graph.nodes().len(),
                "start": w.graph.start().name(),
            })
        })
        .collect();
    // A file that failed names no workflow anyone may be said to see.
    let failed: Vec<serde_json::Value> = if access.sees_everything() {
        set.failed()
            .iter()
            .map(|(path, error)| serde_json::json!({ "file": path, "error": error }))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(serde_json::json!({ "workflows": loaded, "failed": failed })))
}

async fn get_workflow(
    State(app): State<Arc<App>>,
    access: Access,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = app.workflows.load().get(&name).cloned();
    let workflow = access.reach(Scope::Read, &format!("workflow `{name}`"), found)?;
    Ok(Json(serde_json::json!({
        "name": workflow.name,
        "file": workflow.path,
        "source": workflow.source,
        "mermaid": crate::commands::mermaid(&workflow.graph),
        "graph": crate::commands::graph_json(&workflow.graph),
    })))
}

async fn list_plugins(State(app): State<Arc<App>>, access: Access) -> Result<Json<serde_json::Value>, ApiError> {
    access.scope(Scope::Read)?;
    let mut plugins = crate::commands::plugins_json(&app.host);
    // Statistics count the node executions of every workflow's runs.
    if !access.sees_everything() {
        return Ok(Json(serde_json::json!({ "plugins": plugins })));
    }
    let stats = app.metrics.plugin_stats();
    for plugin in &mut plugins {
        let name = plugin["name"].as_str().unwrap_or_default();
        let of_plugin = stats.get(name).cloned().unwrap_or_default();
        plugin["stats"] = serde_json::to_value(of_plugin).map_err(ApiError::internal)?;
    }
    Ok(Json(serde_json::json!({ "plugins": plugins })))
}

async fn list_nodes(State(app): State<Arc<App>>, access: Access) -> Result<Json<serde_json::Value>, ApiError> {
    access.scope(Scope::Read)?;
    let nodes: Vec<serde_json::Value> = crate::commands::node_rows(&app.host)
        .into_iter()
        .map(|[node_type, plugin, description]| {
            serde_json::json!({ "type": node_type, "plugin": plugin, "description": description })
        })
        .collect();
    Ok(Json(serde_json::json!({ "nodes": nodes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadPlugin {
    /// A plugin file on the server's machine.
    path: std::path::PathBuf,
}

/// Loads (or loads again) the plugin file at `path`, then revalidates the workflows.
async fn load_file(app: &Arc<App>, path: std::path::PathBuf) -> Result<Json<serde_json::Value>, ApiError> {
    let worker = app.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let result = worker.host.reload_plugin(&path);
        worker.refresh_workflows();
        result.map(|()| path)
    })
    .await
    .map_err(ApiError::internal)?;
    match loaded {
        Ok(path) => {
            let name = pocket_core::file_plugin_name(&path);
            let catalog = app.host.registry.catalog();
            let version = catalog.plugin(&name).map(|p| p.description().version.clone());
            Ok(Json(
                serde_json::json!({ "name": name, "status": "loaded", "version": version }),
            ))
        }
        Err(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{error} (the version loaded before, if any, keeps serving)"),
        )),
    }
}

/// What a limited token cannot do to plugins.
const CHANGE_PLUGINS: &str = "load or unload plugins (every workflow uses them)";

async fn load_plugin(
    State(app): State<Arc<App>>,
    access: Access,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    access.everything(Scope::Admin, CHANGE_PLUGINS)?;
    let request: LoadPlugin = serde_json::from_slice(&body.map_err(body_error)?)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid request body: {e}")))?;
    if !request.path.is_file() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{} is not a file on the server", request.path.display()),
        ));
    }
    load_file(&app, request.path).await
}

/// The file in the plugin directories that holds plugin `name`.
fn plugin_file(app: &App, name: &str) -> Option<std::path::PathBuf> {
    pocket_core::plugin_files(&app.host.config.plugins.directories)
        .into_iter()
        .find(|path| app.host.loader_for(path).is_some() && pocket_core::file_plugin_name(path) == name)
}

async fn reload_plugin(
    State(app): State<Arc<App>>,
    access: Access,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    access.everything(Scope::Admin, CHANGE_PLUGINS)?;
    let path = plugin_file(&app, &name)
        .ok_or_else(|| ApiError::not_found(&format!("a file for plugin `{name}` in the plugin directories")))?;
    load_file(&app, path).await
}

async fn unload_plugin(
    State(app): State<Arc<App>>,
    access: Access,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    access.everything(Scope::Admin, CHANGE_PLUGINS)?;
    if app.host.registry.catalog().plugin(&name).is_some_and(|p| p.built_in) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("`{name}` is built into Pocket"),
        ));
    }
    let worker = app.clone();
    let unloaded = tokio::task::spawn_blocking(move || {
        let unloaded = worker.host.registry.unregister(&name).is_ok();
        if unloaded {
            worker.refresh_workflows();
        }
        unloaded.then_some(name)
    })
    .await
    .map_err(ApiError::internal)?;
    match unloaded {
        Some(name) => Ok(Json(serde_json::json!({ "name": name, "status": "unloaded" }))),
        None => Err(ApiError::not_found("plugin")),
    }
}
