//! The server itself: the web page, health, readiness, metrics, and the
//! API's OpenAPI document.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::error::{ApiError, ErrorBody};
use crate::api::access::{Access, Read};
use crate::app::App;

/// The web page: one file, no build step, talking to the API from the browser.
#[utoipa::path(
    get,
    path = "/",
    tag = "server",
    responses((status = 200, description = "The web page", content_type = "text/html", body = String)),
)]
pub(super) async fn page() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, include_str!("../ui/index.html")).into_response()
}

/// 200 while the process serves.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "server",
    responses((status = 200, description = "`ok`", body = String)),
)]
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 once runs left by a previous process were recovered; 503 while stopping.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "server",
    responses(
        (status = 200, description = "`ready`", body = String),
        (status = 503, description = "`not ready`: starting or stopping", body = String),
    ),
)]
pub(super) async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::SeqCst) && !app.stopping.is_cancelled() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

/// The OpenMetrics content type of `/metrics`.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics (OpenMetrics text): runs, node executions, limit hits.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "server",
    responses(
        (status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String),
        (status = 403, description = "No `read` scope, or a token limited to some workflows (the counters name every workflow)", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn metrics(State(app): State<Arc<App>>, access: Access<Read>) -> Result<Response, ApiError> {
    access.everything("read the metrics, which count every workflow's runs")?;
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], app.metrics.encode()).into_response())
}

/// This document: the API in OpenAPI 3.1, to generate clients from. Needs
/// no token (it describes the API; it holds nothing of this server's).
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "server",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)),
)]
pub(super) async fn openapi(Extension(document): Extension<Document>) -> Response {
    Json(&*document.0).into_response()
}

/// The OpenAPI document, as served.
#[derive(Clone)]
pub struct Document(Arc<utoipa::openapi::OpenApi>);

impl Document {
    /// The document of `api`, whose paths are axum's: a catch-all `{*name}`
    /// is OpenAPI's `{name}`.
    pub(super) fn of(mut api: utoipa::openapi::OpenApi) -> Document {
        api.paths.paths = std::mem::take(&mut api.paths.paths)
            .into_iter()
            .map(|(path, item)| (path.replace("{*", "{"), item))
            .collect();
        Document(Arc::new(api))
    }
}
