//! Webhooks: `METHOD /hooks/...` runs the workflow whose trigger names that
//! method and path.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pocket_core::Value;

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query, RawBody};
use super::runs::{RunView, WaitQuery, idempotency_header, start};
use crate::api::access::{Access, Run};
use crate::app::App;
use crate::runs::Submission;
use crate::workflows::Workflow;

/// A webhook: the workflow whose trigger names this method and path runs
/// with the request body as input (JSON when it parses as JSON, else text).
/// Hooks of workflows the caller does not see do not exist for it, in the
/// 404 and in the 405's `Allow` alike.
#[utoipa::path(
    method(get, post, put, patch, delete),
    path = "/hooks/{*path}",
    tag = "webhooks",
    params(
        ("path" = String, Path, description = "The rest of a path a workflow's `webhook` trigger names (`/hooks/orders` is `orders`)"),
        WaitQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Starts the run once; sent again, answers the run it started"),
    ),
    request_body(
        description = "The run's input: JSON when it parses as JSON (and must, with a JSON `Content-Type`), else UTF-8 text; none for `null`",
        content(("application/json"), ("text/plain")),
    ),
    responses(
        (status = 202, description = "Accepted: the run", body = RunView),
        (status = 200, description = "The finished run (`?wait=true`), or an idempotency key's run", body = RunView),
        (status = 400, description = "A body that is not JSON where it says it is, or neither JSON nor text", body = ErrorBody),
        (status = 404, description = "No webhook at this path", body = ErrorBody),
        (status = 405, description = "The webhook answers other methods (`Allow` names them)", body = ErrorBody),
        (status = 429, description = "At capacity", body = ErrorBody),
    ),
    security(("bearer" = ["run"])),
)]
pub(super) async fn webhook(
    State(app): State<Arc<App>>,
    access: Access<Run>,
    Path(rest): Path<String>,
    Query(query): Query<WaitQuery>,
    method: Method,
    headers: HeaderMap,
    body: Result<RawBody, ApiError>,
) -> Result<Response, ApiError> {
    let path = format!("{}{rest}", pocket_core::WEBHOOK_PREFIX);
    let workflow = {
        let set = app.workflows.load();
        let visible: Vec<(&str, &Arc<Workflow>)> = set
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
    // Read after the hook is found: a hook that does not exist answers 404
    // whatever was sent to it.
    let RawBody(body) = body?;
    let submission = Submission {
        workflow: workflow.name.clone(),
        definition: workflow.definition(),
        input: input(&body, &headers)?,
        inline: None,
        idempotency_key: idempotency_header(&headers),
    };
    start(&app, &access, submission, &query).await
}

/// A webhook's body as a run's input: none is `null`, JSON is taken as JSON
/// (and must be JSON when the `Content-Type` says so), else UTF-8 text.
fn input(body: &[u8], headers: &HeaderMap) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => Ok(Value::from(json)),
        Err(e) if is_json(headers) => Err(ApiError::bad_request(format!("invalid JSON body: {e}"))),
        Err(_) => match std::str::from_utf8(body) {
            Ok(text) => Ok(Value::from(text)),
            Err(_) => Err(ApiError::bad_request("the body is neither JSON nor UTF-8 text")),
        },
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"))
}
