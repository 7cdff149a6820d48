//! Plugin loaders: how files in plugin directories become [`Plugin`]s.
//!
//! Each backend (Lua, WASM, native) provides one [`PluginLoader`]; the host
//! asks each loader whether it handles a file, and loads it with the one that
//! does. A file that fails to load is reported and skipped; the others load.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::PocketConfig;
use crate::limits::Limits;
use crate::plugin::{Plugin, PluginDescription, PluginKind};
use crate::policy::Policy;

/// The backend's own error behind a [`LoadError`].
pub type LoadCause = Box<dyn std::error::Error + Send + Sync>;

/// A plugin file could not be loaded: the file, and the backend's typed
/// error saying why (a text reason is a `String` cause).
#[derive(Debug, thiserror::Error)]
#[error("{}: {cause}", .path.display())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why, in words a plugin author can act on; downcast it to the
    /// backend's error type to inspect it.
    pub cause: LoadCause,
}

impl LoadError {
    /// An error about `path`, for `cause` (a backend error, or a message).
    pub fn new(path: &Path, cause: impl Into<LoadCause>) -> Self {
        LoadError {
            path: path.to_path_buf(),
            cause: cause.into(),
        }
    }

    /// Why, as text.
    pub fn reason(&self) -> String {
        self.cause.to_string()
    }
}

/// The name of the plugin a file holds, as the operator gave it by naming
/// the file: the file name without its extension (`json-tools.wasm` holds
/// plugin `json-tools`). pocket.toml's permissions, limits and config are
/// looked up by this name.
pub fn file_plugin_name(path: &Path) -> String {
    path.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Refuses a plugin whose declared name is not the one its file's name
/// ([`file_plugin_name`]) stands for: the file's name itself, or the plugin
/// that `[plugins.aliases]` in pocket.toml names for it
/// ([`PocketConfig::declared_name`]). `aaa.lua` saying it is `json-tools`
/// would otherwise get json-tools' grants and secrets, and push the real
/// plugin out as a duplicate.
pub fn check_plugin_name(path: &Path, declared: &str, config: &PocketConfig) -> Result<(), LoadError> {
    let file = file_plugin_name(path);
    let expected = config.declared_name(&file);
    if declared == expected {
        return Ok(());
    }
    if expected != file {
        return Err(LoadError::new(
            path,
            format!(
                "pocket.toml's [plugins.aliases] makes `{file}` an alias of plugin `{expected}`, \
                 but this file holds plugin `{declared}`"
            ),
        ));
    }
    let renamed = match path.extension() {
        Some(ext) => format!("{declared}.{}", ext.to_string_lossy()),
        None => declared.to_string(),
    };
    Err(LoadError::new(
        path,
        format!(
            "the plugin calls itself `{declared}`, but its file is named `{file}`: a plugin's permissions, \
             limits and config are bound to its file's name, so the two must match (rename the file to \
             `{renamed}`, or load it under an alias: `[plugins.aliases] {file} = \"{declared}\"` in pocket.toml)"
        ),
    ))
}

/// A plugin file opened and described, not yet bound to a policy: code it
/// ran to describe itself ran with no capability.
pub trait OpenedPlugin: Send {
    /// What the plugin says about itself.
    fn description(&self) -> &PluginDescription;

    /// Binds the plugin to `policy`: the loaded plugin, its node types ready.
    fn bind(self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError>;
}

/// Loads plugins of one kind, in two phases (as Extism separates a manifest
/// from a plugin): [`open`](PluginLoader::open) describes a file with no
/// capabilities; [`OpenedPlugin::bind`] binds the description to the policy
/// the host resolves from pocket.toml.
pub trait PluginLoader: Send + Sync {
    /// The kind of plugin this loader produces.
    fn kind(&self) -> PluginKind;

    /// Whether `path` is a file this loader handles (usually by extension).
    fn handles(&self, path: &Path) -> bool;

    /// Opens `path` and reads what the plugin says about itself. Code the
    /// plugin runs to describe itself runs under `limits`, with no
    /// capability granted.
    fn open(&self, path: &Path, limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError>;

    /// Opens `path` for a plugin that will run under `policy`: as
    /// [`open`](PluginLoader::open) with its limits, unless the backend
    /// heeds more of the policy (the native one starts a plugin whose
    /// [`Isolation`](crate::Isolation) is `process` in a child process,
    /// without opening its library in this one).
    fn open_for(&self, path: &Path, policy: &Policy) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        self.open(path, &policy.limits)
    }

    /// Both phases, after the file passes the signature rule
    /// ([`check_signature`](crate::check_signature)): opens `path` for the
    /// policy pocket.toml sets for its file's name
    /// ([`open_for`](PluginLoader::open_for)), checks the plugin's name
    /// is the one that name stands for
    /// ([`check_plugin_name`]), and binds it to that name's policy. The
    /// plugin is registered under its file's name
    /// ([`Registry::register_as`](crate::Registry::register_as)).
    fn load(&self, path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError> {
        crate::signatures::check_signature(path, &config.plugins)?;
        let name = file_plugin_name(path);
        let opened = self.open_for(path, &config.policy(&name))?;
        check_plugin_name(path, &opened.description().name, config)?;
        let policy = config.policy_for(&name, opened.description());
        opened.bind(policy)
    }
}

/// The files in `directories` (not recursive), sorted for a stable load order.
/// Missing directories are skipped.
pub fn plugin_files(directories: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in directories {
        let Ok(entries) = std::fs::read_dir(dir) else {
            tracing::debug!(dir = %dir.display(), "plugin directory not found; skipped");
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}
