//! The HTTP API. [`router`] is the one place that lists every route.
//! Handlers live by resource (runs, hooks, workflows, plugins, and the
//! server's own service routes); what a caller may see and do is decided in
//! one place, [`Access`](super::access::Access).

mod error;
mod extract;
mod hooks;
mod plugins;
mod runs;
mod service;
mod workflows;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::{Router, middleware};

pub use error::ApiError;

use super::access::authenticate;
use super::app::App;

/// The API's router: every route.
pub fn router(app: Arc<App>, max_body: usize) -> Router {
    let authenticated = Router::new()
        .route("/v1/runs", post(runs::create_run).get(runs::list_runs))
        .route("/v1/runs/{id}", get(runs::get_run))
        .route("/v1/runs/{id}/cancel", post(runs::cancel_run))
        .route("/hooks/{*path}", any(hooks::webhook))
        .route("/v1/workflows", get(workflows::list_workflows))
        .route("/v1/workflows/{name}", get(workflows::get_workflow))
        .route("/v1/plugins", get(plugins::list_plugins))
        .route("/v1/plugins/load", post(plugins::load_plugin))
        .route("/v1/plugins/{name}/reload", post(plugins::reload_plugin))
        .route("/v1/plugins/{name}/unload", post(plugins::unload_plugin))
        .route("/v1/nodes", get(plugins::list_nodes))
        .route("/metrics", get(service::metrics))
        .layer(middleware::from_fn_with_state(app.clone(), authenticate));
    Router::new()
        .merge(authenticated)
        .route("/", get(service::page))
        .route("/healthz", get(service::healthz))
        .route("/readyz", get(service::readyz))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint (see the README's Server section)",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}
