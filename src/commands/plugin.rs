//! `pocket plugin ...`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use pocket_core::{Example, Isolation, PluginKind, RegisteredPlugin, did_you_mean};

use crate::cli::PluginCommand;
use crate::commands::{plugin_examples, plugin_file, plugin_install, plugin_new, plugin_trust};
use pocket_runtime::{Deployment, FailedPlugin, Loading};

/// Runs a `pocket plugin` command. Commands about files alone (keys,
/// signatures, new projects) load no plugin; the others load the host
/// (pocket.toml and every plugin) first.
pub fn plugin(explicit_config: Option<&Path>, command: PluginCommand) -> anyhow::Result<ExitCode> {
    let host = || crate::deployment::open(explicit_config, Loading::Eager);
    match command {
        PluginCommand::Keygen { out } => plugin_trust::keygen(&out),
        PluginCommand::Sign { file, key } => plugin_trust::sign(&file, &key),
        PluginCommand::Verify { file } => plugin_trust::verify(&Deployment::read_config(explicit_config)?, &file),
        PluginCommand::New {
            name,
            kind,
            lang,
            dir,
            sdk,
        } => plugin_new::new(&name, kind, lang, dir.as_deref(), sdk.as_deref()),
        PluginCommand::List { json, strict } => list(&host()?, json, strict),
        PluginCommand::Info { name } => info(&host()?, &name),
        PluginCommand::Permissions { name } => permissions(&host()?, &name),
        PluginCommand::Load(args) => plugin_file::load(&host()?, &args),
        PluginCommand::Unload { name, all } => plugin_file::unload(&host()?, name.as_deref(), all),
        PluginCommand::Check { path } => plugin_file::check(&host()?, &path),
        PluginCommand::Package { dir, out, key } => {
            plugin_install::package(&host()?, &dir, out.as_deref(), key.as_deref())
        }
        PluginCommand::Install { source, version, dir } => {
            plugin_install::install(&host()?, &source, version.as_deref(), dir.as_deref())
        }
        PluginCommand::Remove { plugin } => plugin_install::remove(&host()?, &plugin),
        PluginCommand::Test {
            plugin, input: None, ..
        } => plugin_examples::test(&host()?, &plugin),
        PluginCommand::Test {
            plugin,
            input: Some(input),
            config,
            node,
        } => plugin_examples::call_once(&host()?, &plugin, &input, config.as_deref(), node.as_deref()),
        PluginCommand::Bench { plugin, calls } => plugin_examples::bench(&host()?, &plugin, calls),
    }
}

fn list(host: &Deployment, json: bool, strict: bool) -> anyhow::Result<ExitCode> {
    let catalog = host.registry().catalog();
    let failed: Vec<FailedPlugin> = host.failed_plugins();
    let kind_of = |f: &FailedPlugin| f.kind.map_or_else(|| "-".to_string(), |k| k.to_string());
    if json {
        let plugins = pocket_runtime::present::plugins_json(host);
        println!("{}", serde_json::to_string_pretty(&plugins)?);
    } else {
        let loaded = catalog.plugins().map(|p| {
            let m = p.description();
            let nodes = p.node_types.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
            [
                p.name.to_string(),
                m.kind.to_string(),
                m.version.clone(),
                "loaded".into(),
                nodes,
            ]
        });
        let failures = failed
            .iter()
            .map(|f| [f.name.clone(), kind_of(f), "-".into(), "failed".into(), String::new()]);
        let rows: Vec<[String; 5]> = loaded.chain(failures).collect();
        crate::report::table(&["NAME", "TYPE", "VERSION", "STATUS", "NODES"], &rows);
        for f in &failed {
            println!("\n{} failed to load: {}", f.name, f.error);
        }
    }
    Ok(if strict && !failed.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn info(host: &Deployment, name: &str) -> anyhow::Result<ExitCode> {
    let catalog = host.registry().catalog();
    let Some(plugin) = catalog.plugin(name) else {
        if let Some(failed) = host.failed_plugins().into_iter().find(|f| f.name == name) {
            println!("{name} failed to load from {}:", failed.error.path.display());
            println!("  {}", failed.error.reason());
            return Ok(ExitCode::FAILURE);
        }
        let hint = did_you_mean(name, catalog.plugins().map(|p| &*p.name))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        bail!("no plugin named `{name}` is loaded{hint}; `pocket plugin list` shows what is");
    };
    print_info(host, plugin);
    Ok(ExitCode::SUCCESS)
}

fn print_info(host: &Deployment, plugin: &RegisteredPlugin) {
    let m = plugin.description();
    println!("{} {} ({})", plugin.name, m.version, m.kind);
    if plugin.name.as_ref() != m.name {
        println!("  an alias of plugin `{}`", m.name);
    }
    if !m.description.is_empty() {
        println!("  {}", m.description);
    }
    if !m.author.is_empty() {
        println!("  author: {}", m.author);
    }
    if let Some(source) = &m.source {
        println!("  source: {}", source.display());
    }
    println!("\nnodes:");
    for node_type in &plugin.node_types {
        println!(
            "  {} - {}",
            plugin.full_name(node_type.as_ref()),
            node_type.description().description
        );
        print_config_keys(node_type.config_schema());
        print_examples(node_type.examples());
    }
    println!();
    print_permissions(host, plugin);
    println!("limits: {}", limits_of_kind(host, plugin));
    if m.kind == PluginKind::Native {
        println!("isolation: {}", host.config().isolation(&plugin.name));
    }
    if let Some(counts) = plugin.plugin.rate_counts() {
        println!(
            "calls in the current rate windows (this process): {} host calls in the last second, \
             {} http requests in the last minute, {} kv operations and {} plugin calls in the last second",
            counts.host_calls, counts.http, counts.kv, counts.plugin_calls
        );
    }
}

/// The permission report of a loaded plugin.
fn print_permissions(host: &Deployment, plugin: &RegisteredPlugin) {
    let permissions = if plugin.built_in {
        host.config().permissions(&plugin.name)
    } else {
        host.config().policy_for(&plugin.name, plugin.description()).permissions
    };
    for line in pocket_runtime::present::permission_report(&plugin.name, &permissions) {
        println!("{line}");
    }
}

/// `pocket plugin permissions NAME`: declared vs granted.
fn permissions(host: &Deployment, name: &str) -> anyhow::Result<ExitCode> {
    let catalog = host.registry().catalog();
    let Some(plugin) = catalog.plugin(name) else {
        bail!("no plugin named `{name}` is loaded; `pocket plugin list` shows what is");
    };
    print_permissions(host, plugin);
    Ok(ExitCode::SUCCESS)
}

/// A node type's config keys from its schema: type, default, `required`,
/// description.
fn print_config_keys(schema: Option<&serde_json::Value>) {
    let Some(schema) = schema else { return };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str())
        .collect();
    let properties = schema.get("properties").and_then(|p| p.as_object());
    for (key, schema) in properties.into_iter().flatten() {
        let kind = schema
            .get("type")
            .map(|t| t.to_string().replace('"', ""))
            .unwrap_or_else(|| "any".into());
        let required = if required.contains(&key.as_str()) {
            " (required)"
        } else {
            ""
        };
        let default = schema
            .get("default")
            .map(|d| format!(" (default: {d})"))
            .unwrap_or_default();
        let about = schema
            .get("description")
            .and_then(|d| d.as_str())
            .map(|d| format!(" - {d}"))
            .unwrap_or_default();
        println!("      {key}: {kind}{required}{default}{about}");
    }
}

/// A node type's declared examples, one line each.
fn print_examples(examples: &[Example]) {
    if examples.is_empty() {
        return;
    }
    println!("    examples:");
    for (i, example) in examples.iter().enumerate() {
        let config = example
            .config
            .as_ref()
            .map(|c| format!(" config {c}"))
            .unwrap_or_default();
        let expect = match (&example.output, &example.error) {
            (Some(output), _) => format!("-> {output}"),
            (None, Some(error)) => format!("-> error containing {error:?}"),
            (None, None) => String::new(),
        };
        let action = example
            .action
            .as_ref()
            .map(|a| format!(" (action {a})"))
            .unwrap_or_default();
        println!(
            "      {}: input {}{config} {expect}{action}",
            example.label(i),
            example.input
        );
    }
}

/// The limits pocket.toml sets that apply to the plugin's kind: no fuel for
/// Lua, no instructions for WASM, none for native or built-in code (trusted,
/// unsandboxed).
fn limits_of_kind(host: &Deployment, plugin: &RegisteredPlugin) -> String {
    let limits = host.config().limits(&plugin.name);
    let host_calls = format!(
        "http body {} bytes, kv {} bytes / {} keys / {} bytes per value per run, log {} bytes per minute; \
         rates: {} host calls/s, {} http requests/min, {} kv operations/s, {} plugin calls/s",
        limits.http_body,
        limits.kv_bytes,
        limits.kv_keys,
        limits.kv_value_bytes,
        limits.log_bytes,
        limits.host_calls_per_second,
        limits.http_per_minute,
        limits.kv_per_second,
        limits.plugin_calls_per_second
    );
    match plugin.description().kind {
        PluginKind::Lua => format!(
            "memory {} bytes, instructions {}, timeout {:?}; {host_calls}",
            limits.memory, limits.instructions, limits.timeout
        ),
        PluginKind::Wasm => format!(
            "memory {} bytes, fuel {}, timeout {:?}; {host_calls}",
            limits.memory, limits.fuel, limits.timeout
        ),
        PluginKind::Native if host.config().isolation(&plugin.name) == Isolation::Process => format!(
            "timeout {:?} per call (its own process is killed past it; a crash fails one node); \
             host calls: {host_calls}",
            limits.timeout
        ),
        PluginKind::Native => format!(
            "none on its code (native code is trusted and runs unsandboxed; a node's `timeout` still applies); \
             host calls: {host_calls}"
        ),
        PluginKind::Process => format!(
            "timeout {:?} per call at most (and the manifest's call_timeout); memory and calls in flight as its \
             pocket-plugin.toml says; host calls: {host_calls}",
            limits.timeout
        ),
        _ => "none (built into Pocket)".to_string(),
    }
}
