//! Runs: start one (`POST /v1/runs`, and webhooks through [`start`]), read
//! one, list them, cancel one.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pocket_core::Value;
use pocket_history::{Created, RunFilter, RunRecord, RunStatus};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, Path, Query};
use crate::api::access::{Access, Needs, Read, Run};
use crate::app::App;
use crate::idempotency;
use crate::runs::Submission;
use crate::workflows;

/// The longest `?wait=true` may hold a request.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// How long `?wait=true` holds a request without `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// `POST /v1/runs`'s body: `workflow` or `definition`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// A workflow served by name...
    workflow: Option<String>,
    /// ...or one sent inline (its YAML or JSON text; needs a token that
    /// sees every workflow).
    definition: Option<String>,
    /// The run's input (any JSON; `null` if left out).
    #[serde(default)]
    input: serde_json::Value,
    /// A key that starts the run once: sent again for the same workflow, it
    /// answers the run it started (also the `Idempotency-Key` header).
    idempotency_key: Option<String>,
}

/// How long a request that starts a run waits for it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Hold the request until the run ends (then 200 with the finished run).
    #[serde(default)]
    wait: bool,
    /// How long `wait` waits (a duration such as `10s`; default 30s, at most 5m).
    timeout: Option<String>,
}

/// The lifecycle states of a run, as the API names them.
fn run_status() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(RunStatus::ALL.map(RunStatus::as_str)))
        .build()
}

/// A run as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct RunView {
    id: String,
    workflow: String,
    #[schema(schema_with = run_status)]
    status: RunStatus,
    input: Value,
    output: Option<Value>,
    error: Option<String>,
    /// One entry per node execution: `node`, `type`, `plugin`,
    /// `started_ms`, `duration_ms`, `attempts`, `action`, `error`; it grows
    /// while the run goes on.
    timeline: Value,
    idempotency_key: Option<String>,
    /// Unix milliseconds.
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

/// Run `id` as the API shows it, if `access` may see it.
async fn view<S: Needs>(app: &App, access: &Access<S>, id: &str) -> Result<RunView, ApiError> {
    let record = access.reach(&format!("run `{id}`"), fetch(app, id).await?)?;
    let live = app.runs.live_timeline(&record.id);
    Ok(RunView::of(record, live))
}

/// Starts a run of a served workflow, or of one sent inline.
#[utoipa::path(
    post,
    path = "/v1/runs",
    tag = "runs",
    params(WaitQuery, ("Idempotency-Key" = Option<String>, Header, description = "The body's `idempotency_key`, as a header")),
    request_body = CreateRun,
    responses(
        (status = 202, description = "Accepted: the run, `queued` or `running`", body = RunView, headers(("Location" = String))),
        (status = 200, description = "The finished run (`?wait=true`), or the run an idempotency key started before (header `Idempotent-Replayed: true`)", body = RunView),
        (status = 400, description = "An invalid body or workflow", body = ErrorBody),
        (status = 403, description = "No `run` scope, or an inline workflow from a token limited to some workflows", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 413, description = "A body over `max_body`", body = ErrorBody),
        (status = 429, description = "At capacity; `Retry-After` says when to try again", body = ErrorBody),
    ),
    security(("bearer" = ["run"])),
)]
pub(super) async fn create_run(
    State(app): State<Arc<App>>,
    access: Access<Run>,
    Query(query): Query<WaitQuery>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateRun>,
) -> Result<Response, ApiError> {
    let idempotency_key = request.idempotency_key.or_else(|| idempotency_header(&headers));
    let (workflow, definition, inline) = match (request.workflow, request.definition) {
        (Some(name), None) => {
            let found = app.workflows.load().get(&name).cloned();
            let workflow = access.reach(&format!("workflow `{name}`"), found)?;
            (name, workflow.definition(), None)
        }
        (None, Some(source)) => {
            access.everything("send a workflow inline (an inline workflow names itself)")?;
            let host = app.host.clone();
            let text = source.clone();
            let definition = tokio::task::spawn_blocking(move || workflows::inline(&text, &host))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| ApiError::bad_request(format!("invalid workflow: {e}")))?;
            (definition.graph.name().to_string(), definition, Some(source))
        }
        _ => {
            return Err(ApiError::bad_request(
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

/// The `Idempotency-Key` header.
pub(super) fn idempotency_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Submits a run and answers for it: 202 while it goes on, 200 once it
/// finished (`?wait=true` waits) or when an idempotency key replays it
/// (a run `access` may see: keys are scoped to their workflow).
pub(super) async fn start(
    app: &App,
    access: &Access<Run>,
    submission: Submission,
    query: &WaitQuery,
) -> Result<Response, ApiError> {
    let wait = match &query.timeout {
        Some(text) => pocket_core::parse_duration(text)
            .map_err(|e| ApiError::bad_request(format!("timeout: {e}")))?
            .min(MAX_WAIT),
        None => DEFAULT_WAIT,
    };
    let (record, replayed) = match app.runs.submit(submission).await? {
        Created::New(record) => (record, false),
        Created::Existing(record) => (access.reach("run", Some(record))?, true),
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
        None => view(app, access, &record.id).await?,
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

/// A run, with its input, output and timeline.
#[utoipa::path(
    get,
    path = "/v1/runs/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = RunView),
        (status = 403, description = "No `read` scope", body = ErrorBody),
        (status = 404, description = "No such run (or one of a workflow the token does not see)", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn get_run(
    State(app): State<Arc<App>>,
    access: Access<Read>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(view(&app, &access, &id).await?))
}

/// `POST /v1/runs/{id}/cancel`'s answer.
#[derive(Serialize, ToSchema)]
struct Cancelling {
    id: String,
    /// Always `cancelling`: the run ends `cancelled`.
    #[schema(value_type = String, example = "cancelling")]
    status: &'static str,
}

/// Cancels a run that has not finished.
#[utoipa::path(
    post,
    path = "/v1/runs/{id}/cancel",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 202, description = "Cancelling: the run ends `cancelled`", body = Cancelling),
        (status = 403, description = "No `run` scope", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has finished", body = ErrorBody),
    ),
    security(("bearer" = ["run"])),
)]
pub(super) async fn cancel_run(
    State(app): State<Arc<App>>,
    access: Access<Run>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = access.reach(&format!("run `{id}`"), fetch(&app, &id).await?)?;
    if app.runs.cancel(&id) {
        let answer = Cancelling {
            id,
            status: "cancelling",
        };
        return Ok((StatusCode::ACCEPTED, Json(answer)).into_response());
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        format!("run `{id}` is {} and cannot be cancelled", record.status),
    ))
}

/// `GET /v1/runs`'s filters and page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
    /// Only runs with this status (`queued`, `running`, `succeeded`, `failed`, `cancelled`).
    status: Option<String>,
    /// Only runs older than this one (the previous page's `next`).
    before: Option<String>,
    /// The page size (default 50, at most 500).
    #[serde(default)]
    limit: u32,
}

/// A run in a list: no input, output or timeline.
#[derive(Serialize, ToSchema)]
pub struct RunSummary {
    id: String,
    workflow: String,
    #[schema(schema_with = run_status)]
    status: RunStatus,
    error: Option<String>,
    created_ms: i64,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
}

/// A page of runs, newest first.
#[derive(Serialize, ToSchema)]
pub struct RunList {
    runs: Vec<RunSummary>,
    /// The page's last run, to pass as `before` for the next page; `null`
    /// once a page is not full.
    next: Option<String>,
}

/// Runs, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/runs",
    tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of runs", body = RunList),
        (status = 400, description = "An invalid filter", body = ErrorBody),
        (status = 403, description = "No `read` scope", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn list_runs(
    State(app): State<Arc<App>>,
    access: Access<Read>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RunList>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(ApiError::bad_request)?;
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
    Ok(Json(RunList { runs, next }))
}
