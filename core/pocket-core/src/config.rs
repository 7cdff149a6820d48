//! `pocket.toml`: plugin directories, per-plugin config, permissions, limits
//! and which built-in node types a deployment allows.
//!
//! Found as cargo finds `Cargo.toml`: an explicit path, else `POCKET_CONFIG`,
//! else `pocket.toml` in the current directory or its nearest parent; without
//! one, defaults apply. Relative paths in it are relative to its directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pocket_trust::TrustedKeys;
use pocket_value::{Map, Value};
use serde::Deserialize;

use crate::isolation::Isolation;
use crate::limits::{LimitOverrides, Limits};
use crate::permissions::{Capability, Permissions};
use crate::policy::Policy;
use crate::server_config::{ServerConfig, ServerModel};

/// The environment variable naming a config file.
pub const CONFIG_ENV: &str = "POCKET_CONFIG";

/// pocket.toml could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{}: cannot read config: {message}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The file is not valid pocket.toml.
    #[error("{}{}: {message}", .path.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line, when known.
        line: Option<u32>,
        /// What is wrong.
        message: String,
    },
    /// A `${VAR}` in a plugin's config names an unset variable.
    #[error(
        "plugin `{plugin}` config key `{key}` uses ${{{var}}}, which is not set; \
         set it, or write ${{{var}:-default}}"
    )]
    UnsetVariable {
        /// The plugin.
        plugin: String,
        /// The config key.
        key: String,
        /// The variable.
        var: String,
    },
}

/// A loaded pocket.toml (or the defaults).
#[derive(Debug, Clone, Default)]
pub struct PocketConfig {
    /// The file it came from; `None` for defaults.
    pub path: Option<PathBuf>,
    /// `[plugins]`.
    pub plugins: PluginsConfig,
    /// `[builtins]`.
    pub builtins: BuiltinsConfig,
    /// `[server]`, for `pocket serve` (`None` when the file has no such section).
    pub server: Option<ServerConfig>,
}

/// The `[plugins]` section.
#[derive(Debug, Clone)]
pub struct PluginsConfig {
    /// Directories scanned for plugins, in order (absolute after loading).
    pub directories: Vec<PathBuf>,
    /// Load every plugin found in the directories at start-up.
    pub autoload: bool,
    /// Refuse plugins without a valid signature by a trusted key.
    pub require_signatures: bool,
    /// `[plugins.trusted_keys]`: the keys whose signatures are trusted, by name.
    pub trusted_keys: TrustedKeys,
    /// How deep plugin-to-plugin calls may nest (default
    /// [`DEFAULT_PLUGIN_CALL_DEPTH`](crate::DEFAULT_PLUGIN_CALL_DEPTH)); 0 forbids them.
    pub max_call_depth: u32,
    /// `[plugins.aliases]`: registered name -> the name the plugin declares.
    aliases: BTreeMap<String, String>,
    config: BTreeMap<String, Map>,
    default_permissions: Vec<Capability>,
    permissions: BTreeMap<String, Vec<Capability>>,
    default_limits: LimitOverrides,
    limits: BTreeMap<String, LimitOverrides>,
    /// `[plugins.isolation]`: per plugin, and its `default`.
    isolation: BTreeMap<String, Isolation>,
}

/// How deep plugin calls may nest unless pocket.toml says otherwise
/// (`[plugins] max_call_depth`): a workflow node's call runs at depth 1,
/// a call made from that one at depth 2, and so on.
pub const DEFAULT_PLUGIN_CALL_DEPTH: u32 = 10;

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            directories: Vec::new(),
            autoload: true,
            require_signatures: false,
            trusted_keys: TrustedKeys::default(),
            max_call_depth: DEFAULT_PLUGIN_CALL_DEPTH,
            aliases: BTreeMap::new(),
            config: BTreeMap::new(),
            default_permissions: vec![Capability::Log],
            permissions: BTreeMap::new(),
            default_limits: LimitOverrides::default(),
            limits: BTreeMap::new(),
            isolation: BTreeMap::new(),
        }
    }
}

/// The `[builtins]` section: built-in node types a deployment can switch off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinsConfig {
    /// Allow the `file` node type.
    #[serde(default = "yes")]
    pub file: bool,
    /// Allow the `exec` node type.
    #[serde(default = "yes")]
    pub exec: bool,
    /// Allow the `http` node type.
    #[serde(default = "yes")]
    pub http: bool,
}

fn yes() -> bool {
    true
}

impl Default for BuiltinsConfig {
    fn default() -> Self {
        BuiltinsConfig {
            file: true,
            exec: true,
            http: true,
        }
    }
}

impl BuiltinsConfig {
    /// The built-in type names this config switches off.
    pub fn disabled(&self) -> Vec<&'static str> {
        [("file", self.file), ("exec", self.exec), ("http", self.http)]
            .into_iter()
            .filter(|(_, on)| !on)
            .map(|(name, _)| name)
            .collect()
    }
}

impl PocketConfig {
    /// Finds and loads the config: `explicit`, else `$POCKET_CONFIG`, else the
    /// nearest `pocket.toml` from `cwd` upwards, else defaults.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<PocketConfig, ConfigFileError> {
        if let Some(path) = explicit {
            return PocketConfig::load(path);
        }
        if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
            return PocketConfig::load(Path::new(&path));
        }
        match cwd.ancestors().map(|d| d.join("pocket.toml")).find(|p| p.is_file()) {
            Some(path) => PocketConfig::load(&path),
            None => Ok(PocketConfig::default()),
        }
    }

    /// Loads one pocket.toml file.
    pub fn load(path: &Path) -> Result<PocketConfig, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        PocketConfig::parse(&text, &path)
    }

    /// Parses pocket.toml text that lives at `path`.
    pub fn parse(text: &str, path: &Path) -> Result<PocketConfig, ConfigFileError> {
        let invalid = |line: Option<u32>, message: String| ConfigFileError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let file: FileModel = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| crate::location::Position::of_offset(text, s.start).line);
            invalid(line, e.message().to_string())
        })?;
        let base = crate::paths::directory_of(path);
        let plugins = file.plugins.unwrap_or_default();
        let parse_caps = |section: &str, owner: &str, list: Vec<String>| -> Result<Vec<Capability>, ConfigFileError> {
            let list: Vec<String> = list.into_iter().map(|text| absolute_file_grant(base, text)).collect();
            Capability::parse_list(&list).map_err(|e| invalid(None, format!("[{section}] {owner}: {e}")))
        };
        let mut permissions = BTreeMap::new();
        let mut default_permissions = vec![Capability::Log];
        for (owner, list) in plugins.permissions {
            let caps = parse_caps("plugins.permissions", &owner, list)?;
            if owner == "default" {
                default_permissions = caps;
            } else {
                permissions.insert(owner, caps);
            }
        }
        // The Go engine's spelling of the same settings.
        if let Some(security) = plugins.security {
            if let Some(list) = security.default_permissions {
                default_permissions = parse_caps("plugins.security", "default_permissions", list)?;
            }
            for (owner, list) in security.permissions {
                let caps = parse_caps("plugins.security.permissions", &owner, list)?;
                permissions.entry(owner).or_insert_with(Vec::new).extend(caps);
            }
        }
        let (default_limits, limits) = split_limits(plugins.limits).map_err(|m| invalid(None, m))?;
        let trusted_keys = TrustedKeys::parse(plugins.trusted_keys.iter().map(|(n, k)| (n.as_str(), k.as_str())))
            .map_err(|(name, e)| invalid(None, format!("[plugins.trusted_keys] {name}: {e}")))?;
        for (alias, declared) in &plugins.aliases {
            crate::names::check_registered_name(alias)
                .map_err(|e| invalid(None, format!("[plugins.aliases] `{alias}`: {e}")))?;
            crate::names::validate_plugin_name(declared)
                .map_err(|reason| invalid(None, format!("[plugins.aliases] `{declared}`: {reason}")))?;
        }
        Ok(PocketConfig {
            path: Some(path.to_path_buf()),
            plugins: PluginsConfig {
                directories: plugins.directories.iter().map(|d| resolve_dir(base, d)).collect(),
                autoload: plugins.autoload,
                require_signatures: plugins.require_signatures,
                trusted_keys,
                max_call_depth: plugins.max_call_depth,
                aliases: plugins.aliases,
                config: plugins
                    .config
                    .into_iter()
                    .map(|(name, table)| (name, table_to_map(table)))
                    .collect(),
                default_permissions,
                permissions,
                default_limits,
                limits,
                isolation: plugins.isolation,
            },
            builtins: file.builtins.unwrap_or_default(),
            server: file
                .server
                .map(|model| model.resolve(base))
                .transpose()
                .map_err(|m| invalid(None, m))?,
        })
    }

    /// A plugin's config: pocket.toml's `[plugins.config.<name>]` with
    /// `${VAR}` expanded, then `POCKET_PLUGIN_<NAME>_<KEY>` variables applied.
    pub fn plugin_config(&self, plugin: &str) -> Result<Map, ConfigFileError> {
        let mut config = Map::new();
        if let Some(table) = self.plugins.config.get(plugin) {
            for (key, value) in table {
                let expanded = expand_env_in(value).map_err(|var| ConfigFileError::UnsetVariable {
                    plugin: plugin.to_string(),
                    key: key.to_string(),
                    var,
                })?;
                config.insert(key.clone(), expanded);
            }
        }
        let prefix = format!("POCKET_PLUGIN_{}_", env_name(plugin));
        for (name, raw) in std::env::vars() {
            if let Some(key) = name.strip_prefix(&prefix).filter(|k| !k.is_empty()) {
                let value = Value::from_json(&raw).unwrap_or_else(|_| Value::from(raw));
                config.insert(key.to_ascii_lowercase(), value);
            }
        }
        Ok(config)
    }

    /// The name the plugin registered as `registered` must declare: the one
    /// `[plugins.aliases]` gives for it (`text-tools-v1 = "text-tools"`),
    /// else `registered` itself.
    pub fn declared_name<'a>(&'a self, registered: &'a str) -> &'a str {
        self.plugins.aliases.get(registered).map_or(registered, String::as_str)
    }

    /// The capabilities granted to a plugin: its own list, else `default`.
    pub fn permissions(&self, plugin: &str) -> Permissions {
        let granted = self
            .plugins
            .permissions
            .get(plugin)
            .unwrap_or(&self.plugins.default_permissions);
        Permissions::new(granted.clone())
    }

    /// Everything pocket.toml grants `plugin`: its limits and permissions.
    pub fn policy(&self, plugin: &str) -> Policy {
        Policy {
            limits: self.limits(plugin),
            permissions: self.permissions(plugin),
            isolation: self.isolation(plugin),
        }
    }

    /// Where a plugin's code runs: `[plugins.isolation]`'s entry for it,
    /// else its `default`, else in-process. Only native plugins heed it.
    pub fn isolation(&self, plugin: &str) -> Isolation {
        let isolation = &self.plugins.isolation;
        isolation
            .get(plugin)
            .or_else(|| isolation.get("default"))
            .copied()
            .unwrap_or_default()
    }

    /// The limits a plugin runs under: built-in defaults, then
    /// `[plugins.limits]`, then `[plugins.limits.<name>]`.
    pub fn limits(&self, plugin: &str) -> Limits {
        let limits = Limits::default().with(&self.plugins.default_limits);
        match self.plugins.limits.get(plugin) {
            Some(own) => limits.with(own),
            None => limits,
        }
    }
}

/// `text-tools` -> `TEXT_TOOLS`.
fn env_name(plugin: &str) -> String {
    plugin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A `file:`/`file_write:` grant whose path is relative, made absolute
/// from pocket.toml's directory `base` (`.` and `..` resolved), as every
/// relative path in pocket.toml is; other grants as they are.
fn absolute_file_grant(base: &Path, text: String) -> String {
    for kind in ["file:", "file_write:"] {
        let Some(pattern) = text.strip_prefix(kind) else {
            continue;
        };
        if pattern.is_empty() || pattern.starts_with('/') || pattern.starts_with('*') {
            break;
        }
        let joined = std::path::absolute(base.join(pattern)).unwrap_or_else(|_| base.join(pattern));
        let joined = joined.to_string_lossy().into_owned();
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        let trailing = if pattern.ends_with('/') { "/" } else { "" };
        return format!("{kind}/{}{trailing}", parts.join("/"));
    }
    text
}

fn resolve_dir(base: &Path, dir: &str) -> PathBuf {
    let expanded = match (dir.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(dir),
    };
    base.join(expanded)
}

fn table_to_map(table: toml::Table) -> Map {
    match serde_json::to_value(table).map(Value::from) {
        Ok(Value::Object(object)) => Map::clone(&object),
        _ => Map::new(),
    }
}

/// Splits `[plugins.limits]` into its own keys (the defaults) and its
/// sub-tables (one per plugin).
fn split_limits(table: toml::Table) -> Result<(LimitOverrides, BTreeMap<String, LimitOverrides>), String> {
    let mut defaults = toml::Table::new();
    let mut per_plugin = BTreeMap::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(own) => {
                let parsed = parse_limits(own, &format!("[plugins.limits.{key}]"))?;
                per_plugin.insert(key, parsed);
            }
            other => {
                defaults.insert(key, other);
            }
        }
    }
    Ok((parse_limits(defaults, "[plugins.limits]")?, per_plugin))
}

/// One limits table, read and checked; errors name the `section`.
fn parse_limits(table: toml::Table, section: &str) -> Result<LimitOverrides, String> {
    let parsed = LimitOverrides::deserialize(table).map_err(|e| format!("{section}: {}", e.message()))?;
    parsed.check().map_err(|message| format!("{section}: {message}"))?;
    Ok(parsed)
}

/// Expands `${VAR}` and `${VAR:-default}` in every string of `value`;
/// `$${` is a literal `${`. Returns the name of an unset variable.
fn expand_env_in(value: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("${") => Value::from(expand_env(s)?),
        Value::Array(items) => Value::array(items.iter().map(expand_env_in).collect::<Result<Vec<_>, _>>()?),
        Value::Object(map) => Value::object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), expand_env_in(v)?)))
                .collect::<Result<Vec<_>, String>>()?,
        ),
        other => other.clone(),
    })
}

fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at - 1]);
            out.push_str("${");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            out.push_str(&rest[at..]);
            return Ok(out);
        };
        let inner = &rest[at + 2..at + end];
        let (name, fallback) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (std::env::var(name), fallback) {
            (Ok(v), _) => out.push_str(&v),
            (Err(_), Some(d)) => out.push_str(d),
            (Err(_), None) => return Err(name.to_string()),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileModel {
    #[serde(default)]
    plugins: Option<PluginsModel>,
    #[serde(default)]
    builtins: Option<BuiltinsConfig>,
    #[serde(default)]
    server: Option<ServerModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginsModel {
    #[serde(default)]
    directories: Vec<String>,
    #[serde(default = "yes")]
    autoload: bool,
    #[serde(default)]
    require_signatures: bool,
    #[serde(default)]
    trusted_keys: BTreeMap<String, String>,
    #[serde(default = "default_call_depth")]
    max_call_depth: u32,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    #[serde(default)]
    config: BTreeMap<String, toml::Table>,
    #[serde(default)]
    permissions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    security: Option<SecurityModel>,
    #[serde(default)]
    limits: toml::Table,
    #[serde(default)]
    isolation: BTreeMap<String, Isolation>,
}

fn default_call_depth() -> u32 {
    DEFAULT_PLUGIN_CALL_DEPTH
}

/// `[plugins.security]`: the Go Pocket engine's way of writing permissions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecurityModel {
    #[serde(default)]
    default_permissions: Option<Vec<String>>,
    #[serde(default)]
    permissions: BTreeMap<String, Vec<String>>,
}

impl Default for PluginsModel {
    fn default() -> Self {
        PluginsModel {
            directories: Vec::new(),
            autoload: true,
            require_signatures: false,
            trusted_keys: BTreeMap::new(),
            max_call_depth: DEFAULT_PLUGIN_CALL_DEPTH,
            aliases: BTreeMap::new(),
            config: BTreeMap::new(),
            permissions: BTreeMap::new(),
            security: None,
            limits: toml::Table::new(),
            isolation: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_file_grants_are_made_absolute_from_pocket_tomls_directory() {
        let toml = "[plugins.permissions]\np = [\"file:data/in/*\", \"file_write:../out/\", \"file:/abs\", \"file:*\", \"env:data\"]\n";
        let config = super::PocketConfig::parse(toml, std::path::Path::new("/srv/app/pocket.toml")).unwrap();
        let granted: Vec<String> = config
            .permissions("p")
            .granted()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            granted,
            [
                "file:/srv/app/data/in/*",
                "file_write:/srv/out/",
                "file:/abs",
                "file:*",
                "env:data"
            ]
        );
    }

    use super::*;
    use std::time::Duration;

    const EXAMPLE: &str = r#"
[plugins]
directories = ["examples/plugins", "/opt/pocket"]
autoload = true
require_signatures = true

[plugins.config.redis-cache]
host = "localhost"
port = 6379
password = "${POCKET_TEST_UNSET_PASSWORD:-none}"

[plugins.config.needs-secret]
token = "${POCKET_TEST_SURELY_UNSET}"

[plugins.permissions]
default = ["log", "kv"]
text-tools = ["log"]
fetcher = ["log", "http:api.example.com"]

[plugins.limits]
memory = "64MiB"
fuel = 1000000000
timeout = "30s"

[plugins.limits.fetcher]
timeout = "5s"

[builtins]
exec = false
"#;

    fn example() -> PocketConfig {
        PocketConfig::parse(EXAMPLE, Path::new("/etc/pocket/pocket.toml")).unwrap()
    }

    #[test]
    fn directories_are_relative_to_the_file() {
        let c = example();
        assert_eq!(c.plugins.directories[0], Path::new("/etc/pocket/examples/plugins"));
        assert_eq!(c.plugins.directories[1], Path::new("/opt/pocket"));
        assert!(c.plugins.require_signatures);
    }

    #[test]
    fn plugin_config_expands_variables_with_defaults() {
        let config = example().plugin_config("redis-cache").unwrap();
        assert_eq!(config["password"], Value::from("none"));
        assert_eq!(config["port"], Value::from(6379));
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_plugin_key_and_variable() {
        let err = example().plugin_config("needs-secret").unwrap_err();
        assert_eq!(
            err,
            ConfigFileError::UnsetVariable {
                plugin: "needs-secret".into(),
                key: "token".into(),
                var: "POCKET_TEST_SURELY_UNSET".into()
            }
        );
    }

    #[test]
    fn environment_overrides_plugin_config_keys() {
        // SAFETY: this variable is unique to this test; no other code reads it concurrently.
        unsafe { std::env::set_var("POCKET_PLUGIN_ENV_OVERRIDE_TEST_HOST", "redis.internal") };
        let config = PocketConfig::default().plugin_config("env-override-test").unwrap();
        assert_eq!(config["host"], Value::from("redis.internal"));
    }

    #[test]
    fn permissions_fall_back_to_default() {
        let c = example();
        assert_eq!(c.permissions("text-tools").granted(), &[Capability::Log]);
        assert_eq!(c.permissions("other").granted(), &[Capability::Log, Capability::Kv]);
    }

    #[test]
    fn limits_layer_defaults_and_per_plugin_tables() {
        let c = example();
        assert_eq!(c.limits("fetcher").timeout, Duration::from_secs(5));
        assert_eq!(c.limits("other").timeout, Duration::from_secs(30));
        assert_eq!(c.limits("other").memory, 64 << 20);
    }

    #[test]
    fn a_zero_memory_limit_is_a_config_error() {
        // mlua reads 0 as "no limit": a typo must not turn the limit off.
        let err = PocketConfig::parse("[plugins.limits.lua-thing]\nmemory = 0\n", Path::new("/p/pocket.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[plugins.limits.lua-thing]") && err.contains("minimum"),
            "{err}"
        );
        let err = PocketConfig::parse("[plugins.limits]\ntimeout = \"0s\"\n", Path::new("/p/pocket.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("timeout"), "{err}");
    }

    #[test]
    fn builtins_can_be_switched_off() {
        assert_eq!(example().builtins.disabled(), vec!["exec"]);
    }

    #[test]
    fn bad_capabilities_and_unknown_keys_are_errors() {
        let err = PocketConfig::parse("[plugins.permissions]\nx = [\"root\"]\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown capability `root`"), "{err}");
        let err = PocketConfig::parse("[plugin]\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().contains("p.toml:1"), "{err}");
    }

    #[test]
    fn isolation_is_per_plugin_with_a_default() {
        let toml = "[plugins.isolation]\ndefault = \"process\"\nfast = \"in-process\"\n";
        let c = PocketConfig::parse(toml, Path::new("/p/pocket.toml")).unwrap();
        assert_eq!(c.isolation("fast"), Isolation::InProcess);
        assert_eq!(c.isolation("other"), Isolation::Process);
        assert_eq!(c.policy("other").isolation, Isolation::Process);
        assert_eq!(PocketConfig::default().isolation("any"), Isolation::InProcess);
    }

    #[test]
    fn an_unknown_isolation_is_an_error_with_its_line() {
        let toml = "[plugins]\n\n[plugins.isolation]\ncrashy = \"sandbox\"\n";
        let err = PocketConfig::parse(toml, Path::new("/p/pocket.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pocket.toml:4") && err.contains("`process`") && err.contains("`in-process`"),
            "{err}"
        );
    }

    #[test]
    fn literal_dollar_brace_survives() {
        assert_eq!(expand_env("a $${b} c").unwrap(), "a ${b} c");
    }
}
