//! Plugin loaders: how files in plugin directories become [`Plugin`]s.
//!
//! Each backend (Lua, WASM, native) provides one [`PluginLoader`]; the host
//! asks each loader whether it handles a file, and loads it with the one that
//! does. A file that fails to load is reported and skipped; the others load.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::PocketConfig;
use crate::error::LoadError;
use crate::gate::{PluginSource, admit};
use crate::limits::Limits;
use crate::names::check_registered_name;
use crate::plugin::{Plugin, PluginDescription, PluginKind};
use crate::policy::Policy;

/// The file that makes a directory in a plugin directory a plugin (a
/// process plugin's manifest).
pub const DIRECTORY_PLUGIN_MANIFEST: &str = "pocket-plugin.toml";

/// The name of the plugin a file holds, as the operator gave it by naming
/// the file: the file name without its extension (`json-tools.wasm` holds
/// plugin `json-tools`); for a plugin that is a directory, the directory's
/// name (`py-sql/pocket-plugin.toml` holds plugin `py-sql`). pocket.toml's
/// permissions, limits and config are looked up by this name.
pub fn file_plugin_name(path: &Path) -> String {
    let named = if path.file_name().is_some_and(|n| n == DIRECTORY_PLUGIN_MANIFEST) {
        path.parent().and_then(Path::file_name)
    } else {
        path.file_stem()
    };
    named.map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Refuses a plugin whose declared name is not the one the name it is
/// registered under (`registered`: its file's name, [`file_plugin_name`],
/// in a plugin directory) stands for: that name itself, or the plugin that
/// `[plugins.aliases]` in pocket.toml names for it
/// ([`PocketConfig::declared_name`]). `aaa.lua` saying it is `json-tools`
/// would otherwise get json-tools' grants and secrets, and push the real
/// plugin out as a duplicate.
pub fn check_plugin_name(
    path: &Path,
    registered: &str,
    declared: &str,
    config: &PocketConfig,
) -> Result<(), LoadError> {
    let expected = config.declared_name(registered);
    if declared == expected {
        return Ok(());
    }
    if expected != registered {
        return Err(LoadError::new(
            path,
            format!(
                "pocket.toml's [plugins.aliases] makes `{registered}` an alias of plugin `{expected}`, \
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
            "the plugin calls itself `{declared}`, but its file is named `{registered}`: a plugin's permissions, \
             limits and config are bound to its file's name, so the two must match (rename the file to \
             `{renamed}`, or load it under an alias: `[plugins.aliases] {registered} = \"{declared}\"` in pocket.toml)"
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
/// from a plugin): [`open`](PluginLoader::open) describes a file's admitted
/// bytes with no capabilities; [`OpenedPlugin::bind`] binds the description
/// to the policy the host resolves from pocket.toml. A backend opens only
/// what the load gate admitted ([`PluginSource`], see [`crate::gate`]).
pub trait PluginLoader: Send + Sync {
    /// The kind of plugin this loader produces.
    fn kind(&self) -> PluginKind;

    /// Whether `path` is a file this loader handles (usually by extension).
    fn handles(&self, path: &Path) -> bool;

    /// The suffixes of the files this loader reads beside a plugin file
    /// `NAME.EXT`, as `NAME` + suffix (an Extism module's manifest,
    /// `NAME.extism.toml`): packaged, installed and copied with it.
    fn companion_suffixes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Opens `source` and reads what the plugin says about itself. Code the
    /// plugin runs to describe itself runs under `limits`, with no
    /// capability granted.
    fn open(&self, source: &PluginSource<'_>, limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError>;

    /// Opens `source` for a plugin that will run under `policy`: as
    /// [`open`](PluginLoader::open) with its limits, unless the backend
    /// heeds more of the policy (the native one starts a plugin whose
    /// [`Isolation`](crate::Isolation) is `process` in a child process,
    /// without opening its library in this one).
    fn open_for(&self, source: &PluginSource<'_>, policy: &Policy) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        self.open(source, &policy.limits)
    }

    /// Loads the plugin file `path` under its file's name, through the load
    /// gate ([`load_plugin`]).
    fn load(&self, path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError>
    where
        Self: Sized,
    {
        load_plugin(self, path, &file_plugin_name(path), config)
    }
}

/// Loads the plugin file `path` as the plugin registered as `name`, through
/// every step of the gate (see the module docs): the name rule, the
/// signature rule on the bytes read once, then `loader` opens those bytes
/// under the policy pocket.toml sets for `name`, the plugin's declared name
/// is checked against `name` ([`check_plugin_name`]), and it is bound to
/// that name's policy.
pub fn load_plugin(
    loader: &dyn PluginLoader,
    path: &Path,
    name: &str,
    config: &PocketConfig,
) -> Result<Arc<dyn Plugin>, LoadError> {
    check_registered_name(name).map_err(|e| LoadError::new(path, e))?;
    let admitted = admit(path, &config.plugins)?;
    let opened = loader.open_for(&admitted.source(name), &config.policy(name))?;
    check_plugin_name(path, name, &opened.description().name, config)?;
    let policy = config.policy_for(name, opened.description());
    opened.bind(policy)
}

/// The files in `directories` (not recursive), sorted for a stable load
/// order, and for each subdirectory holding a
/// [`DIRECTORY_PLUGIN_MANIFEST`], that manifest (a plugin that is a
/// directory). Missing directories are skipped.
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
            .filter_map(|p| {
                if p.is_file() {
                    Some(p)
                } else {
                    let manifest = p.join(DIRECTORY_PLUGIN_MANIFEST);
                    manifest.is_file().then_some(manifest)
                }
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}
