//! What this crate needs from the assembled host: pocket.toml, the load
//! gate, the backends, and what is registered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{Admitted, LoadError, OpenedPlugin, Plugin, PluginKind, PocketConfig, file_plugin_name};

use crate::directory::same_file;

/// The host's side of installing a plugin: the configuration, the load gate
/// (the signature rule, then the backend that handles the file), and the
/// registry. The host that runs workflows implements it; installing checks
/// every plugin through it before anything is written.
pub trait Gate {
    /// pocket.toml.
    fn config(&self) -> &PocketConfig;

    /// The first half of the load gate: `path` read once, under the
    /// signature rule ([`pocket_core::admit`]).
    fn admit(&self, path: &Path) -> Result<Admitted, LoadError>;

    /// Opens and describes the admitted file (under the limits of `name`, the
    /// name it is to have) with the backend that handles it, without binding
    /// or registering it.
    fn open(&self, admitted: &Admitted, name: &str) -> Result<Box<dyn OpenedPlugin>, LoadError>;

    /// The kind of plugin the backend that handles `path` loads, if one does.
    fn kind_of(&self, path: &Path) -> Option<PluginKind>;

    /// The suffixes of the files the backend that handles `path` reads
    /// beside it ([`pocket_core::PluginLoader::companion_suffixes`]).
    fn companion_suffixes(&self, _path: &Path) -> &'static [&'static str] {
        &[]
    }

    /// Where the plugin registered as `name` comes from, if one is.
    fn loaded_from(&self, name: &str) -> Option<Origin>;
}

/// Where a registered plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// It is built into Pocket.
    BuiltIn,
    /// It was loaded from this file.
    File(PathBuf),
}

/// Opens the admitted file with the backend that handles it, without
/// registering it: described (under the limits of its file's name), then
/// bound to the policy of the name it declares (its file may be named
/// otherwise until it is installed).
pub fn open_unregistered(gate: &dyn Gate, admitted: &Admitted) -> Result<Arc<dyn Plugin>, LoadError> {
    let opened = gate.open(admitted, &file_plugin_name(&admitted.bytes().file().path))?;
    let policy = gate
        .config()
        .policy_for(&opened.description().name, opened.description());
    opened.bind(policy)
}

/// Where a loaded plugin registered as `name` comes from (`Pocket itself`
/// for a built-in one), if not from `path`.
pub fn loaded_elsewhere(gate: &dyn Gate, name: &str, path: &Path) -> Option<PathBuf> {
    let source = match gate.loaded_from(name)? {
        Origin::BuiltIn => PathBuf::from("Pocket itself"),
        Origin::File(file) => file,
    };
    (!same_file(&source, path)).then_some(source)
}
