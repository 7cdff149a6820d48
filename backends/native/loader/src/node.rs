//! A native plugin's node types and prepared nodes, and how their calls
//! cross the library boundary.

use std::sync::Arc;

use abi_stable::std_types::{RBox, RErr, RNone, ROk, ROption, RResult, RSome, RStr};
use pocket_core::{
    ConfigError, Example, Execution, Node, NodeCall, NodeError, NodeOutput, NodeSetup, NodeType, Value, run_blocking,
};
use pocket_native_abi::RValue;
use pocket_native_abi::module::{NodeObject_TO, NodeTypeDescriptor, NodeTypeObject_TO, RError, RErrorKind, ROutput};

/// One node type of a native plugin.
pub(crate) struct NativeNodeType {
    plugin: Arc<str>,
    name: String,
    description: String,
    schema: Option<serde_json::Value>,
    examples: Vec<Example>,
    blocking: bool,
    object: NodeTypeObject_TO<'static, RBox<()>>,
}

impl NativeNodeType {
    /// The node type `descriptor` describes; an error if its examples are malformed.
    pub(crate) fn new(plugin: Arc<str>, descriptor: NodeTypeDescriptor) -> Result<NativeNodeType, String> {
        let name = descriptor.name.into_string();
        let examples = descriptor
            .examples
            .into_iter()
            .map(|example| serde_json::Value::from(&Value::from(example)))
            .collect();
        Ok(NativeNodeType {
            plugin,
            examples: Example::parse_list(&name, serde_json::Value::Array(examples))?,
            name,
            description: descriptor.description.into_string(),
            schema: descriptor
                .config_schema
                .into_option()
                .map(|schema| serde_json::Value::from(&Value::from(schema))),
            blocking: descriptor.blocking,
            object: descriptor.node_type,
        })
    }
}

impl NodeType for NativeNodeType {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn config_schema(&self) -> Option<&serde_json::Value> {
        self.schema.as_ref()
    }

    fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// Runs the plugin's setup for the node (synchronously, before the run).
    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let prepared = self.object.prepare(
            RStr::from_str(setup.node),
            RValue::from(setup.config),
            RValue::from(setup.plugin_config),
        );
        match prepared {
            ROk(object) => Ok(Arc::new(NativeNode {
                call: Arc::new(NativeCall {
                    plugin: self.plugin.clone(),
                    object,
                }),
                blocking: self.blocking,
                prepared_config: setup.config.clone(),
            })),
            RErr(error) => Err(ConfigError::new(match error.kind() {
                RErrorKind::Panicked => format!("native plugin `{}` panicked: {}", self.plugin, error.message),
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
    fn config_to_send(&self, config: &Value) -> ROption<RValue> {
        let unchanged = match (config, &self.prepared_config) {
            (Value::Object(a), Value::Object(b)) => a.ptr_eq(b),
            (Value::Null, Value::Null) => true,
            _ => false,
        };
        if unchanged { RNone } else { RSome(RValue::from(config)) }
    }
}

/// The prepared node object and whose it is.
struct NativeCall {
    plugin: Arc<str>,
    object: NodeObject_TO<'static, RBox<()>>,
}

impl NativeCall {
    fn run(&self, input: RValue, config: ROption<RValue>) -> Result<NodeOutput, NodeError> {
        self.finish(self.object.exec(input, config))
    }

    fn finish(&self, result: RResult<ROutput, RError>) -> Result<NodeOutput, NodeError> {
        match result {
            ROk(output) => Ok(NodeOutput {
                output: Value::from(output.output),
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
    fn exec<'a>(&'a self, call: NodeCall<'a>) -> Execution<'a> {
        let input = RValue::from(&call.input);
        let config = self.config_to_send(&call.config);
        if !self.blocking {
            return Execution::Ready(self.call.run(input, config));
        }
        let native = self.call.clone();
        run_blocking("native", move |_| native.run(input, config))
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
