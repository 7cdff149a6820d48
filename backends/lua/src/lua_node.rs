//! The built-in `lua` node type: inline `source`, or `script`/`file` (a path
//! relative to the workflow file, read beneath its directory like every file
//! a workflow names: `NodeSetup::read_file`; a `script` that is not one is
//! inline code), compiled once per workflow node in `prepare`.

use std::sync::Arc;
use std::time::Duration;

use pocket_core::{
    ConfigError, Execution, Invocation, Limits, Node, NodeDescription, NodeSetup, NodeType, Plugin, PluginDescription,
    PluginKind, Policy, RateCounts, Value, parse_duration,
};
use pocket_host::PluginHost;
use serde_json::json;

use crate::dispatch;
use crate::limits::Watch;
use crate::runtime::{CallRequest, Runtime};
use crate::script::{Form, Script};

/// The name of the plugin providing the `lua` node type; pocket.toml's
/// permissions and limits for inline scripts are looked up under it (a
/// name reserved for it: no plugin file may take it).
pub use pocket_core::LUA_NODE_PLUGIN;

/// The plugin that provides the built-in `lua` node type.
pub struct LuaNodePlugin {
    description: PluginDescription,
    node_type: Arc<LuaNodeTypeInline>,
}

impl LuaNodePlugin {
    /// The plugin, with inline scripts bound to `policy`: what pocket.toml
    /// grants the name [`LUA_NODE_PLUGIN`] (`config.policy("lua")`).
    pub fn new(policy: Policy) -> Self {
        let node_type = Arc::new(LuaNodeTypeInline {
            host: PluginHost::bound(LUA_NODE_PLUGIN, &policy),
            limits: policy.limits,
            description: NodeDescription {
                config_schema: Some(json!({
                "type": "object",
                "properties": {
                    "script": {"type": "string", "description": "A file beneath the workflow file's directory, relative to it (one line ending in .lua, or naming a file), else inline code"},
                    "file": {"type": "string", "description": "A file beneath the workflow file's directory, relative to it"},
                    "source": {"type": "string", "description": "Inline Lua code"},
                    "timeout": {"type": ["string", "number"], "description": "Wall-clock limit per call (e.g. 5s); never above the plugin's limit"}
                }
                })),
                ..NodeDescription::new(
                    "lua",
                    "Runs a Lua script (`source`, or `script`/`file`) on the input; its return value is the output, a second value the action",
                )
            },
        });
        let mut description = PluginDescription::new(
            LUA_NODE_PLUGIN,
            PluginKind::Lua,
            &[node_type.clone() as Arc<dyn NodeType>],
        );
        description.version = env!("CARGO_PKG_VERSION").to_string();
        description.description = "Runs inline Lua scripts (the `lua` node type)".to_string();
        description.author = "Pocket".to_string();
        LuaNodePlugin { description, node_type }
    }
}

impl Plugin for LuaNodePlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        vec![self.node_type.clone()]
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        Some(self.node_type.host.rate_counts())
    }
}

struct LuaNodeTypeInline {
    host: PluginHost,
    limits: Limits,
    description: NodeDescription,
}

impl NodeType for LuaNodeTypeInline {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    fn raw_config_keys(&self) -> &[&str] {
        &["script", "source", "file"]
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let (script, key) = script_of(setup)?;
        let timeout = timeout_of(setup)?;
        let runtime = Runtime::new(script, self.host.clone(), self.limits);
        let instance = runtime
            .instantiate()
            .map_err(|e| ConfigError::at(format!("/{key}"), e.to_string()))?;
        runtime.keep(instance);
        Ok(Arc::new(LuaNode { runtime, timeout }))
    }
}

/// The script a `lua` node runs, and the config key it came from.
fn script_of(setup: &NodeSetup<'_>) -> Result<(Script, &'static str), ConfigError> {
    let text = |key: &'static str| {
        setup
            .config_value(key)
            .and_then(Value::as_str)
            .map(|s| (s.to_string(), key))
    };
    let inline = |source: String, key| {
        let script = Script {
            label: format!("lua node `{}`", setup.node),
            chunk_name: format!("={}", setup.node),
            source,
            form: Form::Body,
        };
        Ok((script, key))
    };
    match (text("source"), text("script"), text("file")) {
        (Some((source, key)), None, None) => inline(source, key),
        (None, Some((code, key)), None) if !names_a_script_file(setup, &code) => inline(code, key),
        (None, Some((path, key)), None) | (None, None, Some((path, key))) => {
            let source = setup
                .read_file(path.trim())
                .map_err(|e| ConfigError::at(format!("/{key}"), e.to_string()))?;
            let script = Script {
                label: path.trim().to_string(),
                chunk_name: format!("@{}", path.trim()),
                source,
                form: Form::Body,
            };
            Ok((script, key))
        }
        (None, None, None) => Err(ConfigError::new("set one of `source`, `script` or `file`")),
        _ => Err(ConfigError::new("set only one of `source`, `script` or `file`")),
    }
}

/// Whether a `script:` value is a path rather than code: one line that ends
/// in `.lua` or names a file the workflow may read (beneath its directory).
/// `script: return {x = 1}` is code, as in the Go engine.
fn names_a_script_file(setup: &NodeSetup<'_>, script: &str) -> bool {
    let script = script.trim();
    let lua_extension = std::path::Path::new(script)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("lua"));
    !script.contains('\n') && (lua_extension || setup.files.is_file(script))
}

fn timeout_of(setup: &NodeSetup<'_>) -> Result<Option<Duration>, ConfigError> {
    match setup.config_value("timeout") {
        None => Ok(None),
        Some(Value::String(text)) => parse_duration(text)
            .map(Some)
            .map_err(|e| ConfigError::at("/timeout", e.clone())),
        Some(value) => value
            .as_f64()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .map(Some)
            .ok_or_else(|| ConfigError::at("/timeout", "expected a duration such as `5s`")),
    }
}

/// A workflow node running an inline Lua script.
struct LuaNode {
    runtime: Arc<Runtime>,
    timeout: Option<Duration>,
}

impl Node for LuaNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        // The tighter of the script's own `timeout` and the node's.
        let timeout = self.timeout.into_iter().chain(call.remaining()).min();
        let request = CallRequest {
            node_type: None,
            input: call.input,
            config: call.config,
            timeout,
            run: Some(call.run.clone()),
            watch: Watch {
                cancel: Some(call.run.clone()),
                abandoned: None,
            },
        };
        dispatch::execute(self.runtime.clone(), request)
    }
}
