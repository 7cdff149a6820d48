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
use std::sync::Arc;

use anyhow::{Context, bail};
use pocket_core::{
    Admitted, LoadError, Plugin, PluginKind, Value, check_plugin_name, check_registered_name, did_you_mean,
    file_plugin_name, plugin_files,
};

use crate::cli::LoadArgs;
use crate::pocket_toml::PocketToml;
use pocket_runtime::Deployment;

/// `pocket plugin check PATH`: would it load? Prints why not, and exits 1.
/// The same gate as every load: the signature rule first, then the plugin
/// opened and bound; a name a built-in plugin uses is refused.
pub fn check(host: &Deployment, path: &Path) -> anyhow::Result<ExitCode> {
    let refused = |error: &dyn std::fmt::Display| {
        println!("refused: {error}");
        Ok(ExitCode::FAILURE)
    };
    if in_plugin_directory(host, path)
        && let Err(error) = check_registered_name(&file_plugin_name(path))
    {
        return refused(&LoadError::new(path, error));
    }
    let admitted = match host.admit(path) {
        Ok(admitted) => admitted,
        Err(error) => return refused(&error),
    };
    let plugin = match load_unregistered(host, &admitted) {
        Ok(plugin) => plugin,
        Err(error) => return refused(&error),
    };
    let declared = &plugin.description().name;
    if let Err(error) = check_registered_name(declared) {
        return refused(&LoadError::new(path, error));
    }
    println!("ok: {} would load as {}", path.display(), describe(plugin.as_ref()));
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
    if !args.path.is_dir() {
        install(host, &args.path, args)?;
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
        if let Err(error) = install(host, file, args) {
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

/// Checks one plugin file through the load gate and copies what was
/// checked into place, recording its alias and config in pocket.toml. On any
/// error nothing is left behind.
fn install(host: &Deployment, path: &Path, args: &LoadArgs) -> anyhow::Result<()> {
    if let Some(alias) = &args.alias {
        check_registered_name(alias).map_err(|e| LoadError::new(path, e))?;
    }
    let admitted = host.admit(path)?;
    let opened = host.open_admitted(&admitted, args.alias.as_deref().unwrap_or(&file_plugin_name(path)))?;
    let declared = opened.description().name.clone();
    let kind = opened.description().kind;
    let name = args.alias.as_deref().unwrap_or(&declared);
    // The name becomes a file name: no `../` in it, and none of Pocket's own.
    check_registered_name(name).map_err(|e| LoadError::new(path, e))?;
    if args.alias.is_none() && host.config().declared_name(name) != name {
        bail!(
            "pocket.toml's [plugins.aliases] makes `{name}` an alias of plugin `{}`; load this one with --alias",
            host.config().declared_name(name)
        );
    }
    let policy = host.config().policy_for(name, opened.description());
    let plugin = opened.bind(policy)?;
    if let Some(other) = loaded_elsewhere(host, name, path) {
        bail!(
            "a plugin named `{name}` is already loaded from {}; `pocket plugin unload {name}` first, \
             or load this one beside it with `--alias NAME`",
            other.display()
        );
    }
    let directory = target_directory(host, kind, args.dir.as_deref())?;
    let target = directory.join(installed_file_name(name, path));
    if target.exists() {
        bail!(
            "{} already exists; unload the plugin it holds first, or load this one with `--alias NAME`",
            target.display()
        );
    }
    let mut edits = pocket_toml_edits(host, name, &declared, args.config.as_deref())?;
    write_into_place(&admitted, &target)?;
    if let Some(edits) = &mut edits
        && let Err(error) = edits.save()
    {
        remove_written(&target);
        return Err(error);
    }
    println!(
        "loaded {} into {}",
        describe_as(plugin.as_ref(), name),
        target.display()
    );
    Ok(())
}

/// The pocket.toml changes loading `name` needs (its alias, its config), made
/// in memory: saved only once the plugin file is in place.
fn pocket_toml_edits(
    host: &Deployment,
    name: &str,
    declared: &str,
    config_file: Option<&Path>,
) -> anyhow::Result<Option<PocketToml>> {
    if name == declared && config_file.is_none() {
        return Ok(None);
    }
    let Some(path) = &host.config().path else {
        bail!("--alias and --config are recorded in pocket.toml, and there is none; create one");
    };
    let mut edits = PocketToml::open(path)?;
    if name != declared {
        edits.set_alias(name, declared)?;
    }
    if let Some(file) = config_file {
        let config = read_config_file(file)?;
        edits
            .set_plugin_config(name, &config)
            .with_context(|| format!("{}: cannot store it in pocket.toml", file.display()))?;
    }
    Ok(Some(edits))
}

/// A data file (an input, a config): TOML (`.toml`) or YAML (anything
/// else; JSON is YAML).
pub fn read_data_file(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    if file.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}: not valid TOML", file.display()))?;
        Ok(Value::from(serde_json::to_value(table)?))
    } else {
        Ok(pocket_core::parse_yaml_value(&text).with_context(|| format!("{}: not valid YAML", file.display()))?)
    }
}

/// A plugin config file ([`read_data_file`]): a mapping.
fn read_config_file(file: &Path) -> anyhow::Result<Value> {
    let value = read_data_file(file)?;
    if !matches!(value, Value::Object(_)) {
        bail!(
            "{}: a plugin's config must be a mapping of keys to values",
            file.display()
        );
    }
    Ok(value)
}

/// Writes the admitted plugin to `to`, and the signature that was verified
/// for it (if any) to `TO.sig`, each through a temporary file renamed into
/// place: a Pocket starting meanwhile never sees half a file, and what is
/// written is exactly what was checked.
pub fn write_into_place(admitted: &Admitted, to: &Path) -> anyhow::Result<()> {
    let directory = pocket_core::directory_of(to);
    std::fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))?;
    let signature = pocket_trust::signature_path(to);
    let written = match admitted.bytes().signature() {
        Some(bytes) => write_whole(&signature, bytes),
        None => Ok(()),
    }
    .and_then(|()| write_whole(to, admitted.bytes().bytes()));
    if written.is_err() {
        remove_written(to);
    }
    written
}

/// Removes a plugin file written by [`write_into_place`], and its signature.
fn remove_written(file: &Path) {
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(pocket_trust::signature_path(file));
}

/// Writes `bytes` to `to` through `.NAME.partial` renamed into place.
fn write_whole(to: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let file_name = to.file_name().unwrap_or_default().to_string_lossy();
    let partial = pocket_core::directory_of(to).join(format!(".{file_name}.partial"));
    std::fs::write(&partial, bytes).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, to).with_context(|| {
        let _ = std::fs::remove_file(&partial);
        format!("cannot create {}", to.display())
    })
}

/// Where a plugin of `kind` goes: `--dir` (one of pocket.toml's plugin
/// directories), else the first listed directory already holding plugins of
/// that kind, else the first one named after the kind (`lua`, `wasm`,
/// `native`), else the first listed directory.
pub fn target_directory(host: &Deployment, kind: PluginKind, dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let directories = &host.config().plugins.directories;
    if let Some(dir) = dir {
        return directories
            .iter()
            .find(|d| same_file(d, dir))
            .cloned()
            .with_context(|| {
                format!(
                    "{} is not one of pocket.toml's plugin directories ({}); add it to `[plugins] directories`, \
                     or Pocket would never load what is copied there",
                    dir.display(),
                    directories
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
    }
    let holds_kind = |d: &PathBuf| {
        plugin_files(std::slice::from_ref(d))
            .iter()
            .any(|file| host.loader_for(file).is_some_and(|l| l.kind() == kind))
    };
    let named_after_kind = |d: &&PathBuf| d.file_name().is_some_and(|n| *n == *kind.to_string());
    directories
        .iter()
        .find(|d| holds_kind(d))
        .or_else(|| directories.iter().find(named_after_kind))
        .or(directories.first())
        .cloned()
        .context("pocket.toml lists no plugin directories; add one to `[plugins] directories`")
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
    let mut aliases = Vec::new();
    for (name, file) in &files {
        std::fs::remove_file(file).with_context(|| format!("cannot remove {}", file.display()))?;
        println!("unloaded {name}: removed {}", file.display());
        if host.config().declared_name(name) != name {
            aliases.push(name);
        }
    }
    if let (false, Some(path)) = (aliases.is_empty(), &host.config().path) {
        let mut edits = PocketToml::open(path)?;
        for alias in aliases {
            edits.remove_alias(alias)?;
        }
        edits.save()?;
    }
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
    if !in_plugin_directory(host, &source) {
        bail!(
            "plugin `{name}` was loaded from {}, which is not in a plugin directory; not removing it",
            source.display()
        );
    }
    Ok(source)
}

/// The file name a plugin registered as `name` gets in a plugin directory:
/// the name, with the extension of `path`.
pub fn installed_file_name(name: &str, path: &Path) -> std::ffi::OsString {
    let mut file_name = std::ffi::OsString::from(name);
    if let Some(ext) = path.extension() {
        file_name.push(".");
        file_name.push(ext);
    }
    file_name
}

/// Opens the admitted file with the backend that handles it, without
/// registering it: described (under the limits of its file's name), then
/// bound to the policy of the name it declares (its file may be named
/// otherwise until it is installed).
pub fn load_unregistered(host: &Deployment, admitted: &Admitted) -> Result<Arc<dyn Plugin>, LoadError> {
    let opened = host.open_admitted(admitted, &file_plugin_name(&admitted.bytes().file().path))?;
    let policy = host
        .config()
        .policy_for(&opened.description().name, opened.description());
    opened.bind(policy)
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

/// Where a loaded plugin registered as `name` comes from, if not from `path`.
pub fn loaded_elsewhere(host: &Deployment, name: &str, path: &Path) -> Option<PathBuf> {
    let catalog = host.registry().catalog();
    let loaded = catalog.plugin(name)?;
    let source = loaded
        .description()
        .source
        .clone()
        .unwrap_or_else(|| "Pocket itself".into());
    (!same_file(&source, path)).then_some(source)
}

fn in_plugin_directory(host: &Deployment, file: &Path) -> bool {
    let parent = pocket_core::directory_of(file);
    host.config().plugins.directories.iter().any(|d| same_file(d, parent))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
