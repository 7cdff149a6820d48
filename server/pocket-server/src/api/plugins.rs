//! Plugins and their node types: listed, loaded from a file, reloaded,
//! unloaded. Loading and unloading change what every workflow runs, so
//! they need a token that sees every workflow.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{JsonBody, Path};
use crate::api::access::{Access, Admin, Read};
use crate::app::App;

/// `GET /v1/plugins`'s answer.
#[derive(Serialize, ToSchema)]
pub struct PluginList {
    /// Every plugin, loaded or failed, as `pocket plugin list --json` shows
    /// them; each with `stats` (`calls`, `errors`, `limit_hits`, `mean_ms`)
    /// for a token that sees every workflow, and `reload_error` when a
    /// newer file failed to load while this version serves.
    #[schema(value_type = Vec<Object>)]
    plugins: Vec<serde_json::Value>,
}

/// Every plugin.
#[utoipa::path(
    get,
    path = "/v1/plugins",
    tag = "plugins",
    responses(
        (status = 200, description = "The plugins", body = PluginList),
        (status = 403, description = "No `read` scope", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn list_plugins(
    State(app): State<Arc<App>>,
    access: Access<Read>,
) -> Result<Json<PluginList>, ApiError> {
    let mut plugins = pocket_runtime::present::plugins_json(&app.host);
    // Statistics count the node executions of every workflow's runs.
    if access.sees_everything() {
        let stats = app.metrics.plugin_stats();
        for plugin in &mut plugins {
            let name = plugin["name"].as_str().unwrap_or_default();
            let of_plugin = stats.get(name).cloned().unwrap_or_default();
            plugin["stats"] = serde_json::to_value(of_plugin).map_err(ApiError::internal)?;
        }
    }
    Ok(Json(PluginList { plugins }))
}

/// A node type in the list.
#[derive(Serialize, ToSchema)]
pub struct NodeRow {
    /// Its name: bare where that name means it, else `plugin/type`.
    #[serde(rename = "type")]
    node_type: String,
    plugin: String,
    description: String,
}

/// `GET /v1/nodes`'s answer.
#[derive(Serialize, ToSchema)]
pub struct NodeList {
    nodes: Vec<NodeRow>,
}

/// Every node type.
#[utoipa::path(
    get,
    path = "/v1/nodes",
    tag = "plugins",
    responses(
        (status = 200, description = "The node types", body = NodeList),
        (status = 403, description = "No `read` scope", body = ErrorBody),
    ),
    security(("bearer" = ["read"])),
)]
pub(super) async fn list_nodes(State(app): State<Arc<App>>, _access: Access<Read>) -> Json<NodeList> {
    let nodes = pocket_runtime::present::node_rows(&app.host)
        .into_iter()
        .map(|[node_type, plugin, description]| NodeRow {
            node_type,
            plugin,
            description,
        })
        .collect();
    Json(NodeList { nodes })
}

/// `POST /v1/plugins/load`'s body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadPlugin {
    /// A plugin file on the server's machine.
    #[schema(value_type = String)]
    path: PathBuf,
}

/// A plugin loaded (again).
#[derive(Serialize, ToSchema)]
pub struct Loaded {
    /// The name it is registered under.
    name: String,
    #[schema(value_type = String, example = "loaded")]
    status: &'static str,
    /// The version it describes itself as.
    version: Option<String>,
}

/// A plugin unloaded.
#[derive(Serialize, ToSchema)]
pub struct Unloaded {
    name: String,
    #[schema(value_type = String, example = "unloaded")]
    status: &'static str,
}

/// Loads (or loads again) the plugin file at `path`, then revalidates the workflows.
async fn load_file(app: &Arc<App>, path: PathBuf) -> Result<Json<Loaded>, ApiError> {
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
            let catalog = app.host.registry().catalog();
            let version = catalog.plugin(&name).map(|p| p.description().version.clone());
            Ok(Json(Loaded {
                name,
                status: "loaded",
                version,
            }))
        }
        Err(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{error} (the version loaded before, if any, keeps serving)"),
        )),
    }
}

/// What a limited token cannot do to plugins.
const CHANGE_PLUGINS: &str = "load or unload plugins (every workflow uses them)";

/// Loads a plugin file on the server's machine, in place of the version
/// registered under its name.
#[utoipa::path(
    post,
    path = "/v1/plugins/load",
    tag = "plugins",
    request_body = LoadPlugin,
    responses(
        (status = 200, description = "Loaded", body = Loaded),
        (status = 400, description = "An invalid body, or no such file", body = ErrorBody),
        (status = 403, description = "No `admin` scope, or a token limited to some workflows", body = ErrorBody),
        (status = 422, description = "The file did not load (the version before keeps serving)", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])),
)]
pub(super) async fn load_plugin(
    State(app): State<Arc<App>>,
    access: Access<Admin>,
    JsonBody(request): JsonBody<LoadPlugin>,
) -> Result<Json<Loaded>, ApiError> {
    access.everything(CHANGE_PLUGINS)?;
    if !request.path.is_file() {
        return Err(ApiError::bad_request(format!(
            "{} is not a file on the server",
            request.path.display()
        )));
    }
    load_file(&app, request.path).await
}

/// The file in the plugin directories that holds plugin `name`.
fn plugin_file(app: &App, name: &str) -> Option<PathBuf> {
    pocket_core::plugin_files(&app.host.config().plugins.directories)
        .into_iter()
        .find(|path| app.host.loader_for(path).is_some() && pocket_core::file_plugin_name(path) == name)
}

/// Loads plugin `name`'s file in the plugin directories again.
#[utoipa::path(
    post,
    path = "/v1/plugins/{name}/reload",
    tag = "plugins",
    params(("name" = String, Path, description = "The plugin's registered name")),
    responses(
        (status = 200, description = "Loaded", body = Loaded),
        (status = 403, description = "No `admin` scope, or a token limited to some workflows", body = ErrorBody),
        (status = 404, description = "No file for it in the plugin directories", body = ErrorBody),
        (status = 422, description = "The file did not load (the version before keeps serving)", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])),
)]
pub(super) async fn reload_plugin(
    State(app): State<Arc<App>>,
    access: Access<Admin>,
    Path(name): Path<String>,
) -> Result<Json<Loaded>, ApiError> {
    access.everything(CHANGE_PLUGINS)?;
    let path = plugin_file(&app, &name)
        .ok_or_else(|| ApiError::not_found(&format!("a file for plugin `{name}` in the plugin directories")))?;
    load_file(&app, path).await
}

/// Unregisters a plugin (built-in plugins cannot be).
#[utoipa::path(
    post,
    path = "/v1/plugins/{name}/unload",
    tag = "plugins",
    params(("name" = String, Path, description = "The plugin's registered name")),
    responses(
        (status = 200, description = "Unloaded", body = Unloaded),
        (status = 403, description = "No `admin` scope, or a token limited to some workflows", body = ErrorBody),
        (status = 404, description = "No such plugin", body = ErrorBody),
        (status = 409, description = "A plugin built into Pocket", body = ErrorBody),
    ),
    security(("bearer" = ["admin"])),
)]
pub(super) async fn unload_plugin(
    State(app): State<Arc<App>>,
    access: Access<Admin>,
    Path(name): Path<String>,
) -> Result<Json<Unloaded>, ApiError> {
    access.everything(CHANGE_PLUGINS)?;
    if app.host.registry().catalog().plugin(&name).is_some_and(|p| p.built_in) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("`{name}` is built into Pocket"),
        ));
    }
    let worker = app.clone();
    let unloaded = tokio::task::spawn_blocking(move || {
        let unloaded = worker.host.registry().unregister(&name).is_ok();
        if unloaded {
            worker.refresh_workflows();
        }
        unloaded.then_some(name)
    })
    .await
    .map_err(ApiError::internal)?;
    match unloaded {
        Some(name) => Ok(Json(Unloaded {
            name,
            status: "unloaded",
        })),
        None => Err(ApiError::not_found("plugin")),
    }
}
