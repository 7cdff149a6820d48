//! [`WasmLoader`]: `.wasm` and `.wat` files in plugin directories become
//! [`WasmPlugin`]s.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use pocket_core::{
    Capability, Example, Limits, LoadError, NodeDescription, NodeType, OpenedPlugin, Permissions, Plugin,
    PluginDescription, PluginKind, PluginLoader, PluginSource, Policy,
};
use pocket_host::PluginHost;
use pocket_wasm_abi::Description;

use crate::abi::ABI_VERSION;
use crate::engine::{Compiled, WasmEngine};
use crate::error::ModuleError;
use crate::extism::{self, InputMode};
use crate::manifest::parse_description;
use crate::module::{move_start, prescan, validate::validate, wasm_bytes};
use crate::plugin::{NodeAbi, Runtime, WasmNodeType, WasmPlugin};

/// Loads `*.wasm` and `*.wat` plugin files: [`open`](PluginLoader::open)
/// compiles (or loads from the cache), validates and describes a module,
/// calling its `pocket_describe` with no capability (an Extism module is
/// described by the manifest beside it, see [`crate::extism`]);
/// [`OpenedPlugin::bind`] gives it its policy.
#[derive(Clone, Default)]
pub struct WasmLoader {
    engine: WasmEngine,
}

impl WasmLoader {
    /// A loader with the default engine (fuel metering on, module cache in
    /// `$POCKET_CACHE_DIR` or the platform cache directory).
    pub fn new() -> Self {
        WasmLoader::default()
    }

    /// A loader compiling with `engine`.
    pub fn with_engine(engine: WasmEngine) -> Self {
        WasmLoader { engine }
    }

    /// The engine this loader compiles with.
    pub fn engine(&self) -> &WasmEngine {
        &self.engine
    }

    /// Compiles (or loads from the cache), validates, instantiates once with
    /// no capability and describes the module.
    fn open_module(&self, source: &PluginSource<'_>, limits: &Limits) -> Result<OpenedWasm, LoadError> {
        let path = source.path();
        let fail = |e: ModuleError| LoadError::new(path, e);
        let wasm = wasm_bytes(path, source.bytes()).map_err(fail)?;
        prescan(&wasm).map_err(fail)?;
        let wasm = move_start(&wasm);
        let compiled = self.engine.compile(&wasm).map_err(fail)?;
        tracing::debug!(file = %path.display(), source = ?compiled.source, "WASM module ready");
        validate(&compiled.module, limits.memory).map_err(fail)?;
        let name = source.name();
        let unbound = Policy {
            limits: *limits,
            permissions: Permissions::default(),
            ..Policy::default()
        };
        let probe = runtime(name, &compiled, &unbound);
        let (wire, extism_inputs) = if extism::is_extism(&compiled.module) {
            let described = extism::manifest::describe(&compiled.module, path, name).map_err(fail)?;
            // Instantiated once, as a Pocket module is to describe it: a
            // module that cannot start fails here, not at its first call.
            probe.instantiate().map_err(fail)?;
            (described.description, Some(described.inputs))
        } else {
            (describe(&probe).map_err(fail)?, None)
        };
        let description = PluginDescription {
            name: wire.name.clone(),
            version: wire.version.clone(),
            description: wire.description.clone(),
            author: wire.author.clone(),
            kind: PluginKind::Wasm,
            source: Some(path.to_path_buf()),
            permissions: Capability::parse_list(&wire.permissions)
                .map_err(|e| fail(ModuleError::Manifest(format!("permissions: {e}"))))?,
            nodes: wire
                .nodes
                .iter()
                .map(|node| {
                    Ok(NodeDescription {
                        node_type: node.node_type.clone(),
                        description: node.description.clone(),
                        config_schema: node.config_schema.clone(),
                        examples: Example::parse_list(&node.node_type, node.examples.clone().into())
                            .map_err(ModuleError::Manifest)?,
                    })
                })
                .collect::<Result<_, ModuleError>>()
                .map_err(fail)?,
        };
        Ok(OpenedWasm {
            path: path.to_path_buf(),
            compiled,
            wire,
            description,
            extism_inputs,
        })
    }
}

/// The runtime of module `compiled` as plugin `name` under `policy`.
fn runtime(name: &str, compiled: &Compiled, policy: &Policy) -> Runtime {
    Runtime::new(
        name,
        compiled.module.clone(),
        compiled.limited(policy.limits.memory),
        PluginHost::bound(name, policy),
        policy.limits,
    )
}

/// Checks the module's ABI version and reads its description, on a fresh instance.
fn describe(runtime: &Runtime) -> Result<Description, ModuleError> {
    let mut probe = runtime.instantiate()?;
    let fuel = runtime.limits.fuel;
    let found = probe.abi_version(fuel)?;
    if found != ABI_VERSION {
        return Err(ModuleError::AbiVersion {
            found,
            expected: ABI_VERSION,
        });
    }
    parse_description(&probe.describe(fuel)?)
}

/// A module compiled, validated and described, not yet bound to a policy.
struct OpenedWasm {
    path: std::path::PathBuf,
    compiled: Compiled,
    /// The description as the module wrote it.
    wire: Description,
    description: PluginDescription,
    /// For an Extism module: how each node type takes its input.
    extism_inputs: Option<HashMap<String, InputMode>>,
}

impl OpenedWasm {
    fn bind_module(self, policy: Policy) -> Result<WasmPlugin, LoadError> {
        validate(&self.compiled.module, policy.limits.memory).map_err(|e| LoadError::new(&self.path, e))?;
        let runtime = Arc::new(runtime(&self.description.name, &self.compiled, &policy));
        let node_types = self
            .description
            .nodes
            .iter()
            .map(|node| {
                let abi = match &self.extism_inputs {
                    Some(inputs) => NodeAbi::Extism(inputs.get(&node.node_type).copied().unwrap_or_default()),
                    None => NodeAbi::Pocket,
                };
                Arc::new(WasmNodeType {
                    description: node.clone(),
                    runtime: runtime.clone(),
                    abi,
                }) as Arc<dyn NodeType>
            })
            .collect();
        tracing::debug!(plugin = %self.description.name, file = %self.path.display(), "loaded WASM plugin");
        Ok(WasmPlugin {
            runtime: runtime.clone(),
            description: self.description,
            wire: self.wire,
            node_types,
        })
    }
}

impl OpenedPlugin for OpenedWasm {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        Ok(Arc::new(self.bind_module(policy)?))
    }
}

impl PluginLoader for WasmLoader {
    fn kind(&self) -> PluginKind {
        PluginKind::Wasm
    }

    fn handles(&self, path: &Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wasm") || e.eq_ignore_ascii_case("wat"))
    }

    fn companion_suffixes(&self) -> &'static [&'static str] {
        &[extism::manifest::MANIFEST_SUFFIX]
    }

    fn open(&self, source: &PluginSource<'_>, limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        Ok(Box::new(self.open_module(source, limits)?))
    }
}
