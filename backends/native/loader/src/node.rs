//! A native plugin's node types and prepared nodes, and how their calls
//! cross the library boundary.

use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RBox, RErr, RNone, ROk, ROption, RResult, RSome, RStr};
use pocket_core::{
    ConfigError, Example, Execution, Invocation, Node, NodeDescription, NodeError, NodeOutput, NodeSetup, NodeType,
    Value, run_blocking,
};
use pocket_host::PluginHost;
use pocket_native_abi::{
    HostObject_TO, NodeObject_TO, NodeTypeDescriptor, NodeTypeObject_TO, RError, RErrorKind, ROutput,
};

use crate::host::{CallScope, NativeHost};

/// What a library says about one of its node types, read once at open.
pub(crate) struct NodeTypeParts {
    plugin: Arc<str>,
    pub(crate) description: NodeDescription,
    blocking: bool,
    object: NodeTypeObject_TO<'static, RBox<()>>,
}

impl NodeTypeParts {
    /// The node type `descriptor` describes; an error if its examples are malformed.
    pub(crate) fn new(plugin: Arc<str>, descriptor: NodeTypeDescriptor) -> Result<NodeTypeParts, String> {
        let name = descriptor.name.into_string();
        let examples = descriptor
            .examples
            .into_iter()
            .map(|example| serde_json::Value::from(&example))
            .collect();
        Ok(NodeTypeParts {
            plugin,
            description: NodeDescription {
                examples: Example::parse_list(&name, serde_json::Value::Array(examples))?,
                config_schema: descriptor
                    .config_schema
                    .into_option()
                    .map(|schema| serde_json::Value::from(&schema)),
                ..NodeDescription::new(name, descriptor.description.into_string())
            },
            blocking: descriptor.blocking,
            object: descriptor.node_type,
        })
    }
}

/// One node type of a native plugin, bound to the plugin's host.
pub(crate) struct NativeNodeType {
    parts: NodeTypeParts,
    host: PluginHost,
}

impl NativeNodeType {
    pub(crate) fn new(parts: NodeTypeParts, host: PluginHost) -> NativeNodeType {
        NativeNodeType { parts, host }
    }
}

impl NodeType for NativeNodeType {
    fn description(&self) -> &NodeDescription {
        &self.parts.description
    }

    /// Runs the plugin's setup for the node (synchronously, before the run).
    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let parts = &self.parts;
        let prepared = parts.object.prepare(
            RStr::from_str(setup.node),
            setup.config.clone(),
            setup.plugin_config.clone(),
        );
        match prepared {
            ROk(object) => Ok(Arc::new(NativeNode {
                call: Arc::new(NativeCall {
                    plugin: parts.plugin.clone(),
                    object,
                    host: self.host.clone(),
                    plugin_config: setup.plugin_config.clone(),
                }),
                blocking: parts.blocking,
                prepared_config: setup.config.clone(),
            })),
            RErr(error) => Err(ConfigError::new(match error.kind() {
                RErrorKind::Panicked => format!("native plugin `{}` panicked: {}", parts.plugin, error.message),
                _ => error.message.into_string(),
            })),
        }
    }
}

/// A workflow node using a native node type.
struct NativeNode {
    call: Arc<NativeCall>,
    blocking: bool,
    /// The config the plugin got at prepare: a call whose rendered config is
    /// this very value (a config without templates) does not send it again.
    prepared_config: Value,
}

impl NativeNode {
    /// The config to send: none when the plugin already has it.
    fn config_to_send(&self, config: &Value) -> ROption<Value> {
        let unchanged = match (config, &self.prepared_config) {
            (Value::Object(a), Value::Object(b)) => a.ptr_eq(b),
            (Value::Null, Value::Null) => true,
            _ => false,
        };
        if unchanged { RNone } else { RSome(config.clone()) }
    }
}

/// The prepared node object, whose it is, and what its host calls reach.
struct NativeCall {
    plugin: Arc<str>,
    object: NodeObject_TO<'static, RBox<()>>,
    host: PluginHost,
    /// The plugin's config (pocket.toml's, under the workflow's), for `config_get`.
    plugin_config: Value,
}

impl NativeCall {
    /// One call, with the host calls of `scope`.
    fn run(&self, input: Value, config: ROption<Value>, scope: CallScope<'_>) -> Result<NodeOutput, NodeError> {
        let host = NativeHost {
            host: &self.host,
            plugin_config: &self.plugin_config,
            scope,
        };
        let object = HostObject_TO::from_ptr(RRef::new(&host), TD_Opaque);
        self.finish(self.object.exec(input, config, object))
    }

    fn finish(&self, result: RResult<ROutput, RError>) -> Result<NodeOutput, NodeError> {
        match result {
            ROk(output) => Ok(NodeOutput {
                output: output.output,
                action: output.action.into_option().map(|a| a.as_str().into()),
            }),
            RErr(error) => Err(node_error(&self.plugin, error)),
        }
    }
}

impl Node for NativeNode {
    /// Quick node types run inline on the runner's thread (no allocation
    /// beyond the values); blocking ones run through
    /// [`pocket_core::run_blocking`], as Lua and WASM calls do (native code
    /// cannot be interrupted: a call runs to completion).
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let input = call.input;
        let config = self.config_to_send(&call.config);
        let deadline = call.deadline;
        if !self.blocking {
            let scope = CallScope {
                run: call.run,
                deadline,
                inline: true,
            };
            return Execution::Ready(self.call.run(input, config, scope));
        }
        let (native, run) = (self.call.clone(), call.run.clone());
        run_blocking("native", move |_| {
            let scope = CallScope {
                run: &run,
                deadline,
                inline: false,
            };
            native.run(input, config, scope)
        })
    }
}

/// The node error for a plugin's error.
fn node_error(plugin: &str, error: RError) -> NodeError {
    let kind = error.kind();
    let message = error.message.into_string();
    match kind {
        RErrorKind::InvalidInput => NodeError::InvalidInput(message),
        RErrorKind::InvalidConfig => NodeError::InvalidConfig(message),
        RErrorKind::Panicked => NodeError::Crashed(format!("native plugin `{plugin}` panicked: {message}")),
        _ => NodeError::Failed(message),
    }
}
