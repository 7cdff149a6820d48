//! What plugin authors write: a [`Plugin`] with [`NodeType`]s whose bodies
//! are ordinary Rust functions over [`Value`]s.
//!
//! ```
//! use pocket_native_sdk::{Call, Error, NodeType, Output, Plugin, Value};
//!
//! fn shout(call: Call) -> Result<Output, Error> {
//!     let text = call.input.get("text").and_then(Value::as_str)
//!         .ok_or_else(|| Error::invalid_input("`text` must be a string"))?;
//!     Ok(Output::new(Value::from(text.to_uppercase())))
//! }
//!
//! fn plugin() -> Plugin {
//!     Plugin::new("shouter", "1.0.0")
//!         .description("Loud text")
//!         .node(NodeType::new("shout", "Upper-cases input.text", shout))
//! }
//! # let _ = plugin();
//! // In the plugin crate (a cdylib): pocket_native_sdk::export_plugin!(plugin);
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RErr, RNone, ROk, ROption, RResult, RSome, RStr, RString};
use pocket_value::Value;

use crate::abi::{
    NodeObject, NodeObject_TO, NodeTypeDescriptor, NodeTypeObject, NodeTypeObject_TO, PluginDescriptor, RError,
    RErrorKind, ROutput,
};
use crate::error::Error;
use crate::host::{HostApi, HostRef};

/// A plugin: its metadata and node types.
pub struct Plugin {
    name: String,
    version: String,
    description: String,
    author: String,
    permissions: Vec<String>,
    node_types: Vec<NodeType>,
}

impl Plugin {
    /// A plugin named `name` (unique among loaded plugins) at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Plugin {
        Plugin {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            author: String::new(),
            permissions: Vec::new(),
            node_types: Vec::new(),
        }
    }

    /// Sets the one-line description.
    pub fn description(mut self, description: impl Into<String>) -> Plugin {
        self.description = description.into();
        self
    }

    /// Sets the author.
    pub fn author(mut self, author: impl Into<String>) -> Plugin {
        self.author = author.into();
        self
    }

    /// Declares the capabilities the plugin's host calls need (`log`, `kv`,
    /// `http:api.example.com`, `env:APP_*`...). pocket.toml grants them, or
    /// not; a call outside what is declared is refused even when granted.
    pub fn permissions<S: Into<String>>(mut self, permissions: impl IntoIterator<Item = S>) -> Plugin {
        self.permissions.extend(permissions.into_iter().map(Into::into));
        self
    }

    /// Adds a node type.
    pub fn node(mut self, node_type: NodeType) -> Plugin {
        self.node_types.push(node_type);
        self
    }

    fn into_descriptor(self) -> PluginDescriptor {
        PluginDescriptor {
            name: self.name.into(),
            version: self.version.into(),
            description: self.description.into(),
            author: self.author.into(),
            permissions: self.permissions.into_iter().map(RString::from).collect(),
            node_types: self.node_types.into_iter().map(NodeType::into_descriptor).collect(),
        }
    }
}

/// A node body: the function that runs on every call.
pub type Exec = Box<dyn Fn(Call<'_>) -> Result<Output, Error> + Send + Sync>;

type PrepareFn = Arc<dyn Fn(&Setup) -> Result<Exec, Error> + Send + Sync>;

/// A node type: a name, a description, an optional config schema, and its body.
pub struct NodeType {
    name: String,
    description: String,
    config_schema: Option<Value>,
    blocking: bool,
    examples: Vec<Value>,
    prepare: PrepareFn,
}

impl NodeType {
    /// A node type whose body is `exec`, the same for every workflow node.
    pub fn new<F>(name: impl Into<String>, description: impl Into<String>, exec: F) -> NodeType
    where
        F: Fn(Call<'_>) -> Result<Output, Error> + Send + Sync + 'static,
    {
        let exec = Arc::new(exec);
        NodeType::prepared(name, description, move |_| {
            let exec = exec.clone();
            Ok(move |call: Call<'_>| exec(call))
        })
    }

    /// A node type that sets itself up once per workflow node, before the
    /// workflow runs (parse the config, open a client), and returns the body
    /// that runs on every call.
    pub fn prepared<P, F>(name: impl Into<String>, description: impl Into<String>, prepare: P) -> NodeType
    where
        P: Fn(&Setup) -> Result<F, Error> + Send + Sync + 'static,
        F: Fn(Call<'_>) -> Result<Output, Error> + Send + Sync + 'static,
    {
        NodeType {
            name: name.into(),
            description: description.into(),
            config_schema: None,
            blocking: false,
            examples: Vec::new(),
            prepare: Arc::new(move |setup| Ok(Box::new(prepare(setup)?) as Exec)),
        }
    }

    /// Sets the JSON Schema of the node's config (checked, and its defaults
    /// applied, before a workflow runs).
    pub fn config_schema(mut self, schema: Value) -> NodeType {
        self.config_schema = Some(schema);
        self
    }

    /// Marks calls as possibly blocking (network or disk I/O, long
    /// computations): the host runs them on its blocking thread pool. Calls of
    /// other node types run inline on the runner's thread, so they must be quick.
    pub fn blocking(mut self) -> NodeType {
        self.blocking = true;
        self
    }

    /// Declares an example: for `input` and `config`, the node gives
    /// `output`. `pocket plugin test` checks it, `pocket plugin bench` times
    /// it, `pocket plugin info` shows it.
    pub fn example(self, input: Value, config: Value, output: Value) -> NodeType {
        self.declare_example(input, config, "output", output)
    }

    /// Declares an example whose call must fail with an error containing `error`.
    pub fn failing_example(self, input: Value, config: Value, error: &str) -> NodeType {
        self.declare_example(input, config, "error", Value::from(error))
    }

    fn declare_example(mut self, input: Value, config: Value, expect: &str, expected: Value) -> NodeType {
        self.examples.push(Value::object([
            ("input".to_string(), input),
            ("config".to_string(), config),
            (expect.to_string(), expected),
        ]));
        self
    }

    fn into_descriptor(self) -> NodeTypeDescriptor {
        NodeTypeDescriptor {
            name: self.name.into(),
            description: self.description.into(),
            config_schema: self.config_schema.as_ref().cloned().into(),
            blocking: self.blocking,
            examples: self.examples.iter().cloned().collect(),
            node_type: NodeTypeObject_TO::from_value(PreparedBy(self.prepare), TD_Opaque),
        }
    }
}

/// What a node type learns about a workflow node before the workflow runs.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The workflow node's name.
    pub node: String,
    /// The node's config as written (schema defaults applied, templates unrendered).
    pub config: Value,
    /// The plugin's config: pocket.toml's `[plugins.config.<name>]` (with
    /// `${ENV}` expanded), with the workflow's `plugins:` entry on top.
    pub plugin_config: Value,
}

/// One call of a node.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The node's input.
    pub input: Value,
    /// The node's config with its templates rendered against the input.
    pub config: Value,
    /// Pocket's host calls for this call (log, kv, config, env, http).
    pub host: HostApi<'a>,
}

impl Call<'static> {
    /// A call outside Pocket (a unit test's): its host refuses every call.
    pub fn detached(input: Value, config: Value) -> Call<'static> {
        Call {
            input,
            config,
            host: HostApi::detached(),
        }
    }
}

/// What a node returns: its output and, optionally, the action it chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The value passed to the next node.
    pub value: Value,
    /// The chosen action; `None` means `default`.
    pub action: Option<String>,
}

impl Output {
    /// An output taking the default action.
    pub fn new(value: Value) -> Output {
        Output { value, action: None }
    }

    /// The same output, taking `action`.
    pub fn with_action(mut self, action: impl Into<String>) -> Output {
        self.action = Some(action.into());
        self
    }
}

impl From<Value> for Output {
    fn from(value: Value) -> Output {
        Output::new(value)
    }
}

/// Runs `f`, turning a panic into a [`RErrorKind::Panicked`] error: a panic
/// must never unwind across the library boundary (abi_stable aborts the
/// process when one does).
fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> RResult<T, RError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => ROk(value),
        Ok(Err(error)) => RErr(error.into()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(std::string::ToString::to_string)
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with a non-text payload".to_string());
            RErr(RError::new(RErrorKind::Panicked, message))
        }
    }
}

/// Builds a plugin's descriptor for the root module, catching panics.
#[doc(hidden)]
pub fn describe(plugin: fn() -> Plugin) -> RResult<PluginDescriptor, RError> {
    guarded(|| Ok(plugin().into_descriptor()))
}

/// The node type object behind [`NodeType`].
struct PreparedBy(PrepareFn);

impl NodeTypeObject for PreparedBy {
    fn prepare(
        &self,
        node: RStr<'_>,
        config: Value,
        plugin_config: Value,
    ) -> RResult<NodeObject_TO<'static, RBox<()>>, RError> {
        guarded(|| {
            let setup = Setup {
                node: node.to_string(),
                config,
                plugin_config,
            };
            let exec = (self.0)(&setup)?;
            let body = Body {
                exec,
                config: setup.config,
            };
            Ok(NodeObject_TO::from_value(body, TD_Opaque))
        })
    }
}

/// The node object behind a prepared [`Exec`].
struct Body {
    exec: Exec,
    /// The config given at prepare, for calls whose config is the same.
    config: Value,
}

impl NodeObject for Body {
    fn exec(&self, input: Value, config: ROption<Value>, host: HostRef<'_, '_>) -> RResult<ROutput, RError> {
        guarded(|| {
            let config = match config {
                RSome(config) => config,
                RNone => self.config.clone(),
            };
            let output = (self.exec)(Call {
                input,
                config,
                host: HostApi::new(&host),
            })?;
            Ok(ROutput {
                output: output.value,
                action: output.action.map(RString::from).into(),
            })
        })
    }
}
