//! `pocket plugin check | load | unload`: plugin files in plugin directories.
//!
//! Loading goes through the load gate (the signature rule on the bytes read
//! once, before any of the plugin's code runs; names built-in plugins use
//! are refused) and the backend that handles the file, so these commands
//! work for every kind of plugin. What is copied into a plugin directory is
//! the bytes that were checked, with the signature that was verified. A
//! plugin copied into a plugin directory is picked up on the next start (a
//! running server notices within about a second).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pocket_core::{
    LoadError, Plugin, check_plugin_name, check_registered_name, did_you_mean, file_plugin_name, plugin_files,
};
use pocket_package::{LoadOptions, in_plugin_directory, installed_file_name, loaded_elsewhere, open_unregistered};

use crate::cli::LoadArgs;
use pocket_runtime::Deployment;

/// `pocket plugin check PATH`: would it load? Prints why not, and exits 1.
/// The same gate as every load: the signature rule first, then the plugin
/// opened and bound; a name a built-in plugin uses is refused. A plugin
/// that is a directory is checked through its manifest.
pub fn check(host: &Deployment, path: &Path) -> anyhow::Result<ExitCode> {
    let manifest = path.join(pocket_core::DIRECTORY_PLUGIN_MANIFEST);
    let path = if path.is_dir() && manifest.is_file() {
        &manifest
    } else {
        path
    };
    let refused = |error: &dyn std::fmt::Display| {
        println!("refused: {error}");
        Ok(ExitCode::FAILURE)
    };
    let directories = &host.config().plugins.directories;
    if in_plugin_directory(directories, path)
        && let Err(error) = check_registered_name(&file_plugin_name(path))
    {
        return refused(&LoadError::new(path, error));
    }
    let admitted = match host.admit(path) {
        Ok(admitted) => admitted,
        Err(error) => return refused(&error),
    };
    let plugin = match open_unregistered(host, &admitted) {
        Ok(plugin) => plugin,
        Err(error) => return refused(&error),
    };
    let declared = &plugin.description().name;
    if let Err(error) = check_registered_name(declared) {
        return refused(&LoadError::new(path, error));
    }
    println!("ok: {} would load as {}", path.display(), describe(plugin.as_ref()));
    for note in plugin.notes() {
        println!("note: {note}");
    }
    match admitted.signer() {
        Some(key) => println!("signed by trusted key `{key}`"),
        None => println!("note: it is not signed"),
    }
    if let Err(misnamed) = check_plugin_name(path, &file_plugin_name(path), declared, host.config()) {
        println!(
            "note: in a plugin directory its file must be named after it: {}",
            installed_file_name(declared, path).to_string_lossy()
        );
        tracing::debug!("{misnamed}");
    }
    if let Some(other) = loaded_elsewhere(host, declared, path) {
        println!(
            "note: a plugin named `{declared}` is already loaded from {}",
            other.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `pocket plugin load PATH [--alias NAME] [--dir DIR] [--config FILE]`:
/// checks the plugin (each plugin, for a directory), then copies it into
/// its plugin directory under the name it is registered by (`libmy_plugin.so`
/// of plugin `my-plugin` becomes `my-plugin.so`), the name its policy is
/// bound to.
pub fn load(host: &Deployment, args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        alias: args.alias.clone(),
        dir: args.dir.clone(),
        config: args.config.clone(),
    };
    if !args.path.is_dir() {
        load_file(host, &args.path, &options)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.alias.is_some() || args.config.is_some() {
        bail!(
            "--alias and --config are about one plugin; give a plugin file, not the directory {}",
            args.path.display()
        );
    }
    let files: Vec<PathBuf> = plugin_files(std::slice::from_ref(&args.path))
        .into_iter()
        .filter(|file| host.loader_for(file).is_some())
        .collect();
    if files.is_empty() {
        bail!(
            "{} holds no plugin files (native: .so/.dylib/.dll, Lua: .lua, WASM: .wasm/.wat)",
            args.path.display()
        );
    }
    let mut failed = 0;
    for file in &files {
        if let Err(error) = load_file(host, file, &options) {
            failed += 1;
            crate::report::error(&error);
        }
    }
    println!(
        "loaded {} of {} plugins from {}",
        files.len() - failed,
        files.len(),
        args.path.display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Loads one plugin file ([`pocket_package::load`]) and says so.
fn load_file(host: &Deployment, path: &Path, options: &LoadOptions) -> anyhow::Result<()> {
    let loaded = pocket_package::load(host, path, options)?;
    println!(
        "loaded {} into {}",
        describe_as(loaded.plugin.as_ref(), &loaded.name),
        loaded.file.display()
    );
    Ok(())
}

/// `pocket plugin unload NAME | --all`: removes plugin files (loaded or
/// failed) from their plugin directories, and their aliases from
/// pocket.toml. Running Pockets keep what they loaded.
pub fn unload(host: &Deployment, name: Option<&str>, all: bool) -> anyhow::Result<ExitCode> {
    let files: Vec<(String, PathBuf)> = if all {
        plugin_files(&host.config().plugins.directories)
            .into_iter()
            .filter(|file| host.loader_for(file).is_some())
            .map(|file| (file_plugin_name(&file), file))
            .collect()
    } else {
        let name = name.context("name the plugin to unload, or give --all")?;
        vec![(name.to_string(), plugin_file(host, name)?)]
    };
    if files.is_empty() {
        println!("no plugin files in the plugin directories; nothing to unload");
    }
    for (name, file) in &files {
        pocket_package::unload_file(file, pocket_package::Gate::companion_suffixes(host, file))?;
        println!("unloaded {name}: removed {}", file.display());
    }
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    pocket_package::forget_aliases(host.config(), &names)?;
    Ok(ExitCode::SUCCESS)
}

/// The file of the plugin registered as `name`, or of the plugin file of
/// that name that failed to load; only files in a plugin directory.
fn plugin_file(host: &Deployment, name: &str) -> anyhow::Result<PathBuf> {
    let catalog = host.registry().catalog();
    let source = match catalog.plugin(name) {
        Some(plugin) => match &plugin.description().source {
            Some(source) => source.clone(),
            None => bail!("plugin `{name}` is built into Pocket and has no file to remove"),
        },
        None => match host.failed_plugins().into_iter().find(|f| f.name == name) {
            Some(failed) => failed.error.path.clone(),
            None => {
                let hint = did_you_mean(name, catalog.plugins().map(|p| &*p.name))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                bail!("no plugin named `{name}` is loaded{hint}; `pocket plugin list` shows what is");
            }
        },
    };
    if !in_plugin_directory(&host.config().plugins.directories, &source) {
        bail!(
            "plugin `{name}` was loaded from {}, which is not in a plugin directory; not removing it",
            source.display()
        );
    }
    Ok(source)
}

/// `native plugin `x` 1.0.0 with node types: a, b`.
fn describe(plugin: &dyn Plugin) -> String {
    describe_as(plugin, &plugin.description().name)
}

/// [`describe`], for the plugin registered as `name`.
fn describe_as(plugin: &dyn Plugin, name: &str) -> String {
    let description = plugin.description();
    let types: Vec<String> = plugin.node_types().iter().map(|t| t.name().to_string()).collect();
    let alias = if name == description.name {
        String::new()
    } else {
        format!(" (as `{name}`)")
    };
    format!(
        "{} plugin `{}` {}{alias} with node types: {}",
        description.kind,
        description.name,
        description.version,
        if types.is_empty() {
            "none".into()
        } else {
            types.join(", ")
        }
    )
}
