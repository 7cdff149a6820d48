//! `pocket plugin check | load | unload`: plugin files in plugin directories.
//!
//! Loading goes through the backend that handles the file, so these commands
//! work for every kind of plugin. A plugin copied into a plugin directory is
//! picked up on the next start; a running Pocket does not notice.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use pocket_core::{LoadError, Plugin, check_plugin_name, validate_plugin_name};

use crate::host::Host;

/// `pocket plugin check PATH`: would it load? Prints why not, and exits 1.
pub fn check(host: &Host, path: &Path) -> anyhow::Result<ExitCode> {
    match load(host, path) {
        Ok(plugin) => {
            println!("ok: {} would load as {}", path.display(), describe(plugin.as_ref()));
            if let Err(misnamed) = check_plugin_name(path, &plugin.description().name) {
                println!(
                    "note: in a plugin directory its file must be named after it: {}",
                    installed_file_name(plugin.as_ref(), path).to_string_lossy()
                );
                tracing::debug!("{misnamed}");
            }
            if let Some(other) = loaded_elsewhere(host, plugin.as_ref(), path) {
                println!(
                    "note: a plugin named `{}` is already loaded from {}",
                    plugin.description().name,
                    other.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("refused: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `pocket plugin load PATH`: checks the file, then copies it into the first
/// plugin directory under the plugin's name (`libmy_plugin.so` of plugin
/// `my-plugin` becomes `my-plugin.so`), the name its policy is bound to.
pub fn load_into_directory(host: &Host, path: &Path) -> anyhow::Result<ExitCode> {
    let Some(directory) = host.config.plugins.directories.first() else {
        bail!("pocket.toml lists no plugin directories; add one to `[plugins] directories`");
    };
    let plugin = load(host, path)?;
    let name = &plugin.description().name;
    // The name becomes a file name: no `../` in it.
    if let Err(reason) = validate_plugin_name(name) {
        bail!("{}: invalid plugin name `{name}`: {reason}", path.display());
    }
    if let Some(other) = loaded_elsewhere(host, plugin.as_ref(), path) {
        bail!(
            "a plugin named `{name}` is already loaded from {}; `pocket plugin unload {name}` first",
            other.display()
        );
    }
    let file_name = installed_file_name(plugin.as_ref(), path);
    let target = directory.join(&file_name);
    if target.exists() {
        bail!(
            "{} already exists; unload the plugin it holds first, or rename the file",
            target.display()
        );
    }
    std::fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))?;
    // Copy, then rename: a Pocket starting meanwhile never sees half a file.
    let partial = directory.join(format!(".{}.partial", file_name.to_string_lossy()));
    std::fs::copy(path, &partial)
        .with_context(|| format!("cannot copy {} to {}", path.display(), partial.display()))?;
    std::fs::rename(&partial, &target).with_context(|| format!("cannot create {}", target.display()))?;
    println!("loaded {} into {}", describe(plugin.as_ref()), target.display());
    Ok(ExitCode::SUCCESS)
}

/// `pocket plugin unload NAME`: removes the plugin's file from its plugin
/// directory. Running Pockets keep what they loaded.
pub fn unload(host: &Host, name: &str) -> anyhow::Result<ExitCode> {
    let catalog = host.registry.catalog();
    let Some(plugin) = catalog.plugin(name) else {
        bail!("no plugin named `{name}` is loaded; `pocket plugin list` shows what is");
    };
    let Some(source) = plugin.description().source.clone() else {
        bail!("plugin `{name}` is built into Pocket and has no file to remove");
    };
    if !in_plugin_directory(host, &source) {
        bail!(
            "plugin `{name}` was loaded from {}, which is not in a plugin directory; not removing it",
            source.display()
        );
    }
    std::fs::remove_file(&source).with_context(|| format!("cannot remove {}", source.display()))?;
    println!("unloaded {name}: removed {}", source.display());
    Ok(ExitCode::SUCCESS)
}

/// The file name a plugin gets in a plugin directory: its name, with the
/// extension of `path`.
fn installed_file_name(plugin: &dyn Plugin, path: &Path) -> std::ffi::OsString {
    let mut name = std::ffi::OsString::from(&plugin.description().name);
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    name
}

/// Loads `path` with the backend that handles it, without registering it:
/// opened and described, then bound to the policy of the name it declares
/// (its file may be named otherwise until it is installed).
fn load(host: &Host, path: &Path) -> Result<Arc<dyn Plugin>, LoadError> {
    if !path.is_file() {
        return Err(LoadError::new(path, "no such file"));
    }
    let opened = host.open_plugin(path)?;
    let policy = host.config.policy(&opened.description().name);
    opened.bind(policy)
}

/// `native plugin `x` 1.0.0 with node types: a, b`.
fn describe(plugin: &dyn Plugin) -> String {
    let manifest = plugin.description();
    let types: Vec<String> = plugin.node_types().iter().map(|t| t.name().to_string()).collect();
    format!(
        "{} plugin `{}` {} with node types: {}",
        manifest.kind,
        manifest.name,
        manifest.version,
        if types.is_empty() {
            "none".into()
        } else {
            types.join(", ")
        }
    )
}

/// Where a loaded plugin of the same name comes from, if not from `path`.
fn loaded_elsewhere(host: &Host, plugin: &dyn Plugin, path: &Path) -> Option<PathBuf> {
    let catalog = host.registry.catalog();
    let loaded = catalog.plugin(&plugin.description().name)?;
    let source = loaded
        .description()
        .source
        .clone()
        .unwrap_or_else(|| "Pocket itself".into());
    (!same_file(&source, path)).then_some(source)
}

fn in_plugin_directory(host: &Host, file: &Path) -> bool {
    let parent = pocket_core::directory_of(file);
    host.config.plugins.directories.iter().any(|d| same_file(d, parent))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
