//! [`WasmPlugin`]: a loaded module, its node types, and the runtime their
//! nodes share (module, limits, host access and the instance pool).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{
    ConfigError, Execution, Invocation, Limits, Node, NodeDescription, NodeError, NodeOutput, NodeSetup, NodeType,
    Plugin, PluginDescription, RateCounts, RunContext, Value, run_blocking,
};
use pocket_host::{Fate, PluginHost, Pool};
use wasmer::{Engine, Module};

use crate::error::ModuleError;
use crate::extism::{ExtismCall, InputMode, output_value};
use crate::host_functions::CallScope;
use crate::instance::{CallFailure, Instance, Payload};
use crate::limits::{self, Culprit};
use crate::response::response;

/// A WASM plugin: its description and node types. Built by [`crate::WasmLoader`].
pub struct WasmPlugin {
    pub(crate) description: PluginDescription,
    pub(crate) wire: pocket_wasm_abi::Description,
    pub(crate) node_types: Vec<Arc<dyn NodeType>>,
    /// What its node types run on: its host (whose rate windows count its
    /// calls) and its pool of instances.
    pub(crate) runtime: Arc<Runtime>,
}

impl WasmPlugin {
    /// The description exactly as the module's `pocket_describe` wrote it.
    pub fn wire_description(&self) -> &pocket_wasm_abi::Description {
        &self.wire
    }
}

impl Plugin for WasmPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }

    fn rate_counts(&self) -> Option<RateCounts> {
        Some(self.runtime.host().rate_counts())
    }

    fn notes(&self) -> Vec<String> {
        let mut wasi: Vec<String> = Vec::new();
        for import in self.runtime.module.imports() {
            if import.module() == crate::wasi::WASI_MODULE && !wasi.iter().any(|name| name == import.name()) {
                wasi.push(import.name().to_string());
            }
        }
        let mut notes = crate::wasi::report(&wasi.iter().map(String::as_str).collect::<Vec<_>>());
        if crate::extism::is_extism(&self.runtime.module) {
            notes.push(
                "an Extism plugin: Pocket serves Extism's kernel (`extism:host/env`) under the plugin's grants; \
                 its vars are kept per pooled instance"
                    .into(),
            );
        }
        notes
    }

    fn drop_idle(&self, now: Instant) -> usize {
        self.runtime.pool.sweep(now)
    }
}

/// Everything the nodes of one plugin share.
pub(crate) struct Runtime {
    pub name: Arc<str>,
    module: Module,
    engine: Engine,
    host: PluginHost,
    pub limits: Limits,
    pool: Pool<Instance>,
}

impl Runtime {
    /// The plugin's host.
    pub(crate) fn host(&self) -> &PluginHost {
        &self.host
    }

    pub(crate) fn new(name: &str, module: Module, engine: Engine, host: PluginHost, limits: Limits) -> Runtime {
        Runtime {
            name: name.into(),
            module,
            engine,
            host,
            limits,
            pool: Pool::per_core().idle_time(limits.idle_timeout),
        }
    }

    /// A fresh instance.
    pub(crate) fn instantiate(&self) -> Result<Instance, ModuleError> {
        Instance::new(&self.engine, &self.module, self.host.clone(), &self.limits)
    }

    /// One call on an idle (or new) instance. An instance stopped by a limit
    /// or a trap is dropped, so the next call starts from a fresh one.
    pub(crate) fn call(&self, request: CallRequest) -> Result<NodeOutput, NodeError> {
        let CallRequest {
            node_type,
            node,
            payload,
            plugin_config,
            run,
            timeout,
        } = request;
        let culprit = Culprit {
            plugin: &self.name,
            node_type: &node_type.name,
            node: &node,
        };
        let timeout = timeout.map_or(self.limits.timeout, |t| t.min(self.limits.timeout));
        let scope = CallScope {
            run,
            plugin_config,
            deadline: Instant::now().checked_add(timeout),
        };
        let called = self.pool.call(
            || {
                self.instantiate()
                    .map_err(|e| NodeError::Crashed(format!("{culprit}: {e}")))
            },
            |instance| match instance.call(&payload, self.limits.fuel, scope) {
                Ok(bytes) => (Ok(bytes), Fate::Keep),
                Err(failure) => {
                    let fate = failure.fate();
                    if fate == Fate::Discard {
                        tracing::debug!(plugin = %self.name, ?failure, "instance discarded");
                    }
                    (Err(failure), fate)
                }
            },
        )?;
        let bytes = match called {
            Ok(bytes) => bytes,
            // WASI's exit(0): the call is over, with nothing to say.
            Err(CallFailure::Exited(0)) => return Ok(NodeOutput::new(Value::Null)),
            Err(failure) => {
                return Err(match failure {
                    CallFailure::Limit(limit) => limits::node_error(limit, culprit, &self.limits, timeout),
                    CallFailure::Trap(message) => NodeError::Crashed(format!("{culprit} trapped: {message}")),
                    CallFailure::Panic(message) => NodeError::Crashed(format!("{culprit} panicked: {message}")),
                    CallFailure::Abi(message) => NodeError::Failed(format!("{culprit}: {message}")),
                    CallFailure::Exited(code) => NodeError::Failed(format!("{culprit} exited with code {code}")),
                    CallFailure::Returned(_, Some(message)) => NodeError::Failed(format!("{culprit}: {message}")),
                    CallFailure::Returned(code, None) => {
                        NodeError::Failed(format!("{culprit} returned error code {code} (and no message)"))
                    }
                    CallFailure::Kernel(message) => NodeError::Failed(format!("{culprit} was stopped: {message}")),
                });
            }
        };
        match payload {
            Payload::Pocket(_) => response(&bytes, culprit, self.limits.memory),
            Payload::Extism(_) => output_value(&bytes, culprit, self.limits.memory),
        }
    }
}

/// One node type of a WASM plugin.
pub(crate) struct WasmNodeType {
    pub description: NodeDescription,
    pub runtime: Arc<Runtime>,
    /// How its calls reach the guest.
    pub abi: NodeAbi,
}

/// How a node type's calls reach the guest.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NodeAbi {
    /// A Pocket request to `pocket_exec`.
    Pocket,
    /// A call of the Extism function of the node type's name, its input as `InputMode` says.
    Extism(InputMode),
}

impl NodeType for WasmNodeType {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let prefix = pocket_wasm_abi::request_head(self.name()).map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(Arc::new(WasmNode {
            name: setup.node.into(),
            runtime: self.runtime.clone(),
            node_type: Arc::new(NodeIdentity {
                name: self.name().into(),
                prefix,
            }),
            abi: self.abi,
            plugin_config: setup.plugin_config.clone(),
        }))
    }
}

/// A node type's name and the start of every request for it.
pub(crate) struct NodeIdentity {
    pub name: Arc<str>,
    /// `{"node":"<type>","config":`
    prefix: Vec<u8>,
}

/// A workflow node using a WASM plugin's node type.
struct WasmNode {
    /// The workflow node's name, for errors (the name every call of it carries).
    name: Arc<str>,
    runtime: Arc<Runtime>,
    node_type: Arc<NodeIdentity>,
    abi: NodeAbi,
    plugin_config: Value,
}

/// One call, owned, so it can move to a blocking thread.
pub(crate) struct CallRequest {
    pub node_type: Arc<NodeIdentity>,
    pub node: Arc<str>,
    /// What the guest is given.
    pub payload: Payload,
    pub plugin_config: Value,
    /// The run the call belongs to (its store, its plugin calls).
    pub run: Option<RunContext>,
    /// A wall-clock limit tighter than the plugin's: the node's `timeout`.
    pub timeout: Option<Duration>,
}

impl WasmNode {
    /// What `call` gives the guest.
    fn payload(&self, call: &Invocation<'_>) -> Result<Payload, NodeError> {
        match self.abi {
            NodeAbi::Pocket => {
                let prefix = &self.node_type.prefix;
                let mut body = Vec::with_capacity(prefix.len() + 64);
                pocket_wasm_abi::write_request(&mut body, prefix, &call.config, &call.input)
                    .map_err(|e| NodeError::InvalidInput(e.to_string()))?;
                Ok(Payload::Pocket(body))
            }
            NodeAbi::Extism(input) => Ok(Payload::Extism(ExtismCall {
                export: self.node_type.name.clone(),
                input: input.bytes(&call.input),
                config: ExtismCall::config(&self.plugin_config, &call.config),
            })),
        }
    }
}

impl Node for WasmNode {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let payload = match self.payload(&call) {
            Ok(payload) => payload,
            Err(e) => return Execution::Ready(Err(e)),
        };
        let request = CallRequest {
            node_type: self.node_type.clone(),
            node: self.name.clone(),
            payload,
            plugin_config: self.plugin_config.clone(),
            run: Some(call.run.clone()),
            timeout: call.remaining(),
        };
        // Guest calls are CPU-bound and block until they return: off tokio's
        // workers when they can be (see `pocket_core::run_blocking`).
        let runtime = self.runtime.clone();
        run_blocking("WASM", move |_| runtime.call(request))
    }
}
