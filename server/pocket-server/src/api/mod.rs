//! The HTTP API. [`router`] is the one place that lists every route; each
//! is registered with its entry in the OpenAPI document (utoipa-axum's
//! `routes!` takes both from the handler's `#[utoipa::path]`), which the
//! server serves at `/v1/openapi.json`. Handlers live by resource (runs,
//! hooks, workflows, plugins, and the server's own service routes); what a
//! caller may see and do is decided in one place,
//! [`Access`](access::Access).

mod access;
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
use axum::{Extension, Router, middleware};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

pub use error::ApiError;

use super::app::App;
use access::authenticate;

/// The document's fixed part; the routes add their paths and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pocket server API",
        description = "`pocket serve`: runs workflows on request, keeps their history. Errors are `{\"error\": \"...\"}` with the status.",
    ),
    modifiers(&BearerToken),
    tags(
        (name = "runs", description = "Start, read, list and cancel runs"),
        (name = "webhooks", description = "Requests that start the workflow whose `webhook` trigger names their method and path"),
        (name = "workflows", description = "The workflows served by name"),
        (name = "plugins", description = "Plugins and their node types"),
        (name = "server", description = "The web page, health, readiness, metrics and this document (no token but for metrics)"),
    ),
)]
struct ApiDoc;

/// The name of the bearer-token scheme operations refer to.
const BEARER: &str = "bearer";

/// Adds the bearer-token scheme (`[[server.tokens]]`) to the document.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API token of pocket.toml's `[[server.tokens]]`, as `Authorization: Bearer TOKEN`. \
                 An operation's security requirement names the scope it needs (`run`, `read`, `admin`; \
                 `admin` has every scope). A server without tokens (which listens on loopback only) \
                 needs none.",
            ))
            .build();
        document
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// Webhooks: the methods a trigger may name, and every other method too, so
/// that the handler answers a hook's 404 or 405 (with the `Allow` of the
/// hooks the caller sees) rather than the router's 405.
fn webhooks() -> UtoipaMethodRouter<Arc<App>> {
    let (schemas, paths, methods) = routes!(hooks::webhook);
    (schemas, paths, methods.fallback(hooks::webhook))
}

/// The API's router: every route, each in the OpenAPI document.
pub fn router(app: Arc<App>, max_body: usize) -> Router {
    let authenticated = OpenApiRouter::new()
        .routes(routes!(runs::create_run, runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::cancel_run))
        .routes(webhooks())
        .routes(routes!(workflows::list_workflows))
        .routes(routes!(workflows::get_workflow))
        .routes(routes!(plugins::list_plugins))
        .routes(routes!(plugins::load_plugin))
        .routes(routes!(plugins::reload_plugin))
        .routes(routes!(plugins::unload_plugin))
        .routes(routes!(plugins::list_nodes))
        .routes(routes!(service::metrics))
        .layer(middleware::from_fn_with_state(app.clone(), authenticate));
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(authenticated)
        .routes(routes!(service::page))
        .routes(routes!(service::healthz))
        .routes(routes!(service::readyz))
        .routes(routes!(service::openapi))
        .split_for_parts();
    router
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint (see the README's Server section)",
            )
        })
        .layer(Extension(service::Document::of(api)))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}
