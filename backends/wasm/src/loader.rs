//! [`WasmLoader`]: `.wasm` and `.wat` files in plugin directories become
//! [`WasmPlugin`]s; [`check`] says whether a file would load, and why not.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{
    LoadError, NodeType, Plugin, PluginKind, PluginLoader, PluginManifest, PocketConfig, check_plugin_name,
    file_plugin_name,
};
use pocket_host::PluginHost;

use crate::abi::ABI_VERSION;
use crate::engine::WasmEngine;
use crate::error::ModuleError;
use crate::manifest::parse_description;
use crate::module::{prescan, read_wasm, validate::validate};
use crate::plugin::{Runtime, WasmNodeType, WasmPlugin};
use pocket_wasm_abi::Description;

/// Loads `*.wasm` and `*.wat` plugin files, with each plugin's permissions,
/// limits and config taken from pocket.toml by the plugin's name, which must
/// be its file's name ([`check_plugin_name`]).
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

    /// Loads the plugin in `path`.
    pub fn load_plugin(&self, path: &Path, config: &PocketConfig) -> Result<WasmPlugin, LoadError> {
        let (manifest, runtime) = self.open(path, config).map_err(|e| LoadError::new(path, e))?;
        let node_types = manifest
            .nodes
            .iter()
            .map(|node| {
                Arc::new(WasmNodeType {
                    name: node.node_type.clone(),
                    description: node.description.clone(),
                    schema: node.config_schema.clone(),
                    runtime: runtime.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        tracing::debug!(plugin = %manifest.name, file = %path.display(), "loaded WASM plugin");
        Ok(WasmPlugin {
            manifest: PluginManifest {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                description: manifest.description.clone(),
                author: manifest.author.clone(),
                kind: PluginKind::Wasm,
                source: Some(path.to_path_buf()),
            },
            description: manifest,
            node_types,
        })
    }

    /// Whether `path` would load: its description, or why not.
    pub fn check(&self, path: &Path, config: &PocketConfig) -> Result<Description, LoadError> {
        self.open(path, config)
            .map(|(manifest, _)| manifest)
            .map_err(|e| LoadError::new(path, e))
    }

    /// Compiles (or loads from the cache), validates, instantiates once and
    /// describes the module; the instance is kept for the first call.
    fn open(&self, path: &Path, config: &PocketConfig) -> Result<(Description, Arc<Runtime>), ModuleError> {
        let wasm = read_wasm(path)?;
        prescan(&wasm)?;
        let compiled = self.engine.compile(&wasm)?;
        tracing::debug!(file = %path.display(), source = ?compiled.source, "WASM module ready");
        // The module runs (at load too) under the policy of the file's name only.
        let name = file_plugin_name(path);
        let limits = config.limits(&name);
        validate(&compiled.module, limits.memory)?;
        let runtime = Runtime::new(
            &name,
            compiled.module.clone(),
            compiled.limited(limits.memory),
            PluginHost::for_plugin(&name, config),
            limits,
        );
        let mut probe = runtime.instantiate()?;
        let fuel = runtime.limits.fuel;
        let found = probe.abi_version(fuel)?;
        if found != ABI_VERSION {
            return Err(ModuleError::AbiVersion {
                found,
                expected: ABI_VERSION,
            });
        }
        let manifest = parse_description(&probe.describe(fuel)?)?;
        check_plugin_name(path, &manifest.name).map_err(|e| ModuleError::Name(e.reason()))?;
        runtime.keep(probe);
        Ok((manifest, Arc::new(runtime)))
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

    fn load(&self, path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError> {
        Ok(Arc::new(self.load_plugin(path, config)?))
    }
}

/// Whether the module in `path` would load under `config`: its manifest, or
/// the reason it would be refused (for `pocket plugin check FILE`).
pub fn check(path: &Path, config: &PocketConfig) -> Result<Description, LoadError> {
    WasmLoader::new().check(path, config)
}
