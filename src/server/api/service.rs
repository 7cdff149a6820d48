//! The server itself: the web page, health, readiness and metrics.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::server::access::{Access, Read};
use crate::server::app::App;

/// The web page: one file, no build step, talking to the API from the browser.
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
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 once runs left by a previous process were recovered; 503 while stopping.
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
pub(super) async fn metrics(State(app): State<Arc<App>>, access: Access<Read>) -> Result<Response, ApiError> {
    access.everything("read the metrics, which count every workflow's runs")?;
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], app.metrics.encode()).into_response())
}
