//! [`Deployment`]: configuration plus a registry with every plugin
//! registered, loaded now or (for programs that run workflows) on first use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use pocket_core::{
    Admitted, LoadError, OpenedPlugin, Plugin, PluginKind, PluginLoader, PocketConfig, Registry, RunOptions,
    RunOutcome, Validated, Value, check_registered_name, file_plugin_name, plugin_files,
};
use pocket_lua::{LuaLoader, LuaNodePlugin};
use pocket_native::NativeLoader;
use pocket_nodes::BuiltinPlugin;
use pocket_process::ProcessLoader;
use pocket_wasm::WasmLoader;

use crate::Error;
use crate::lazy::{DescriptionCache, LazyPlugin};

/// When a deployment loads the plugins in its directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loading {
    /// Every plugin now: for programs that report on plugins or serve (a
    /// plugin that fails is listed as failed).
    Eager,
    /// Each plugin on the first use of one of its node types, registered
    /// meanwhile from its cached description: for programs that run or
    /// check a few workflows, which then pay only for the plugins they use.
    #[default]
    Lazy,
}

/// A plugin file that failed to load.
pub struct FailedPlugin {
    /// The plugin's name: its file's name.
    pub name: String,
    /// Its kind, by the loader that handles its file.
    pub kind: Option<PluginKind>,
    /// Why it failed.
    pub error: Arc<LoadError>,
}

/// pocket.toml and a registry with its plugins: what every command, the
/// server and a worker run workflows against.
pub struct Deployment {
    config: Arc<PocketConfig>,
    registry: Registry,
    /// Plugin files that could not be loaded (reported, then skipped), by file.
    failures: Mutex<Vec<Arc<LoadError>>>,
    /// One loader per backend, built once (the WASM one holds the engine and its cache).
    loaders: Vec<Arc<dyn PluginLoader>>,
    /// What plugin files described themselves as, by file.
    descriptions: Option<DescriptionCache>,
}

/// How to open a [`Deployment`]: from [`Deployment::builder`].
#[derive(Debug, Default)]
pub struct Builder {
    config: Option<PocketConfig>,
    config_file: Option<std::path::PathBuf>,
    loading: Loading,
    native_child: Option<pocket_native::ChildCommand>,
}

impl Builder {
    /// Reads pocket.toml from `path` (by default: `$POCKET_CONFIG`, or the
    /// nearest pocket.toml from the current directory upwards, or the
    /// defaults when there is none).
    pub fn config_file(mut self, path: impl Into<std::path::PathBuf>) -> Builder {
        self.config_file = Some(path.into());
        self
    }

    /// Uses `config`, built in code (for example with
    /// [`PocketConfig::parse`]), instead of reading a file.
    pub fn config(mut self, config: PocketConfig) -> Builder {
        self.config = Some(config);
        self
    }

    /// When the plugins in the configured directories load (lazily by default).
    pub fn loading(mut self, loading: Loading) -> Builder {
        self.loading = loading;
        self
    }

    /// The command that serves one native plugin in a process of its own,
    /// for plugins configured with `isolation = "process"` (the `pocket`
    /// CLI gives itself: `pocket __native-child`). Without one, such
    /// plugins fail to load.
    pub fn native_child(mut self, command: pocket_native::ChildCommand) -> Builder {
        self.native_child = Some(command);
        self
    }

    /// Registers the built-in plugins and the `lua` node and, when
    /// pocket.toml's `autoload` is on, every plugin found in its plugin
    /// directories, loaded as [`Builder::loading`] says. A plugin that
    /// fails to load is skipped and listed by [`Deployment::failed_plugins`].
    ///
    /// Every plugin file passes the load gate (`pocket_core::load_plugin`):
    /// a name no built-in plugin uses, the signature rule on the bytes read
    /// once, and the backend opening those bytes.
    pub fn open(self) -> Result<Deployment, Error> {
        let config = match self.config {
            Some(config) => config,
            None => Deployment::read_config(self.config_file.as_deref())?,
        };
        if let Some(path) = &config.path {
            tracing::debug!(config = %path.display(), "loaded pocket.toml");
        }
        let registry = Registry::new();
        registry.register_built_in(Arc::new(BuiltinPlugin::new()))?;
        registry.register_built_in(Arc::new(LuaNodePlugin::new(config.policy(pocket_lua::LUA_NODE_PLUGIN))))?;
        let native = match self.native_child {
            Some(command) => NativeLoader::new().isolating_with(command),
            None => NativeLoader::new(),
        };
        let deployment = Deployment {
            config: Arc::new(config),
            registry,
            failures: Mutex::new(Vec::new()),
            loaders: vec![
                Arc::new(LuaLoader::new()),
                Arc::new(WasmLoader::new()),
                Arc::new(native),
                Arc::new(ProcessLoader::new()),
            ],
            descriptions: DescriptionCache::default_location(),
        };
        if deployment.config.plugins.autoload {
            for path in plugin_files(&deployment.config.plugins.directories) {
                if let Err(error) = deployment.autoload(&path, self.loading) {
                    tracing::warn!("{error}");
                    deployment.failures().push(Arc::new(error));
                }
            }
        }
        Ok(deployment)
    }
}

impl Deployment {
    /// How to open a deployment: which pocket.toml, when plugins load.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The deployment of the pocket.toml at `config_file` (or found as
    /// [`Builder::config_file`] says), its plugins loaded lazily.
    pub fn open(config_file: Option<&Path>) -> Result<Deployment, Error> {
        let builder = Deployment::builder();
        match config_file {
            Some(path) => builder.config_file(path),
            None => builder,
        }
        .open()
    }

    /// pocket.toml alone: the explicit path, `$POCKET_CONFIG`, or the
    /// nearest one upwards (defaults without one).
    pub fn read_config(explicit_config: Option<&Path>) -> Result<PocketConfig, Error> {
        let cwd = std::env::current_dir().map_err(Error::CurrentDir)?;
        Ok(PocketConfig::discover(explicit_config, &cwd)?)
    }

    /// The configuration this deployment was opened with.
    pub fn config(&self) -> &Arc<PocketConfig> {
        &self.config
    }

    /// The registry of plugins and node types workflows run against.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Reads, parses and validates the workflow file at `path` (YAML, JSON
    /// or TOML by its extension) into a graph ready to run. Warnings are in
    /// the result; errors, each with its line, in [`Error::Invalid`].
    pub fn validate_file(&self, path: &Path) -> Result<Validated, Error> {
        self.validate_text(path, &pocket_core::read_workflow(path)?)
    }

    /// [`Deployment::validate_file`] of `text`, the content of the workflow
    /// file at `path` (which names it in messages, gives its format, and is
    /// where the files a workflow names are found).
    pub fn validate_text(&self, path: &Path, text: &str) -> Result<Validated, Error> {
        let file = pocket_core::parse_source(path, text)?;
        Ok(pocket_core::validate(&file, &self.registry.catalog(), &self.config)?)
    }

    /// Runs a validated workflow on `input`, as `options` say (cancellation,
    /// an observer of each node, a timeline), to its output.
    pub async fn run(&self, workflow: &Validated, input: Value, options: RunOptions) -> Result<RunOutcome, Error> {
        Ok(pocket_core::run(workflow.graph.clone(), input, options).await?)
    }

    /// Registers the plugin in `path`: lazily when `loading` allows and its
    /// description is cached, else loaded now (and its description cached).
    /// Either way under its file's name, which the gate's name rule checks
    /// first; a lazy plugin passes the rest of the gate when first used.
    fn autoload(&self, path: &Path, loading: Loading) -> Result<bool, LoadError> {
        let name = file_plugin_name(path);
        let Some(loader) = self.loader_for_shared(path).cloned() else {
            return self.load_plugin(path);
        };
        let cached = match (&self.descriptions, loading) {
            (Some(cache), Loading::Lazy) => cache.get(path, loader.companion_suffixes()),
            _ => None,
        };
        let Some(description) = cached else {
            return self.load_plugin(path);
        };
        check_registered_name(&name).map_err(|e| LoadError::new(path, e))?;
        let (file, registered, config, cache) = (
            path.to_path_buf(),
            name.clone(),
            self.config.clone(),
            self.descriptions.clone(),
        );
        let load = Box::new(move || {
            let plugin = pocket_core::load_plugin(&*loader, &file, &registered, &config)?;
            if let Some(cache) = &cache {
                cache.refresh(&file, loader.companion_suffixes(), plugin.description());
            }
            Ok(plugin)
        });
        let plugin = LazyPlugin::new(path.to_path_buf(), description, load);
        self.registry
            .register_as(&name, Arc::new(plugin))
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Loads one plugin file through the load gate with the loader that
    /// handles it and registers it under its file's name, which must be the
    /// name it declares or an alias of it ([`pocket_core::check_plugin_name`]).
    /// Files no loader handles are skipped silently (`Ok(false)`).
    pub fn load_plugin(&self, path: &Path) -> Result<bool, LoadError> {
        let Some(loader) = self.loader_for(path) else {
            return Ok(false);
        };
        let name = file_plugin_name(path);
        let plugin = self.load_file(loader, path, &name)?;
        self.registry
            .register_as(&name, plugin)
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Loads `path` as plugin `name` through the load gate with `loader`,
    /// and caches its description.
    fn load_file(&self, loader: &dyn PluginLoader, path: &Path, name: &str) -> Result<Arc<dyn Plugin>, LoadError> {
        let plugin = pocket_core::load_plugin(loader, path, name, &self.config)?;
        self.remember(path, plugin.as_ref());
        Ok(plugin)
    }

    /// The first half of the load gate, for commands that look at a plugin
    /// file before it is installed: `path` read once, under the signature
    /// rule ([`pocket_core::admit`]).
    pub fn admit(&self, path: &Path) -> Result<Admitted, LoadError> {
        pocket_core::admit(path, &self.config.plugins)
    }

    /// Opens and describes the admitted file (under the limits of `name`,
    /// the name it is to have) with the loader that handles it, without
    /// binding or registering it.
    pub fn open_admitted(&self, admitted: &Admitted, name: &str) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let path = &admitted.bytes().file().path;
        let loader = self.loader_for(path).ok_or_else(|| {
            LoadError::new(
                path,
                "no plugin backend handles this kind of file (native: .so/.dylib/.dll, Lua: .lua, WASM: .wasm/.wat)",
            )
        })?;
        loader.open_for(&admitted.source(name), &self.config.policy(name))
    }

    /// The plugins that failed to load: the name each was to have (its
    /// file's), its kind, and why it failed.
    pub fn failed_plugins(&self) -> Vec<FailedPlugin> {
        self.failures()
            .iter()
            .map(|error| FailedPlugin {
                name: file_plugin_name(&error.path),
                kind: self.loader_for(&error.path).map(pocket_core::PluginLoader::kind),
                error: error.clone(),
            })
            .collect()
    }

    fn failures(&self) -> MutexGuard<'_, Vec<Arc<LoadError>>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads the plugin in `path` again (or for the first time) and puts it
    /// in place of the version registered under its name, in one step: runs
    /// in flight keep the version they started with. When it fails, the
    /// version registered stays, and the failure is listed until a later
    /// load of the file succeeds or the file is removed.
    pub fn reload_plugin(&self, path: &Path) -> Result<(), Arc<LoadError>> {
        let result = self.load_replacing(path).map_err(Arc::new);
        let mut failures = self.failures();
        failures.retain(|failure| failure.path != path);
        if let Err(error) = &result {
            failures.push(error.clone());
        }
        result
    }

    fn load_replacing(&self, path: &Path) -> Result<(), LoadError> {
        self.install_as(&file_plugin_name(path), path)
    }

    /// Loads `path` through the load gate and registers it as `name`, in
    /// place of any plugin file's plugin registered under that name (runs
    /// in flight keep the one they have; a built-in plugin is never replaced).
    pub fn install_as(&self, name: &str, path: &Path) -> Result<(), LoadError> {
        let loader = self
            .loader_for(path)
            .ok_or_else(|| LoadError::new(path, "no plugin backend handles this kind of file"))?;
        let plugin = self.load_file(loader, path, name)?;
        self.registry
            .replace(name, plugin)
            .map_err(|e| LoadError::new(path, e))?;
        Ok(())
    }

    /// Forgets the plugin file `path` was: unregisters the plugin loaded
    /// from it (not a plugin of the same name loaded from elsewhere, and
    /// never a built-in one) and its listed failure. Whether one was
    /// registered.
    pub fn remove_plugin(&self, path: &Path) -> bool {
        self.failures().retain(|failure| failure.path != path);
        let name = file_plugin_name(path);
        let catalog = self.registry.catalog();
        let loaded_from_here = catalog
            .plugin(&name)
            .is_some_and(|p| !p.built_in && p.description().source.as_deref().is_some_and(|s| same_entry(s, path)));
        loaded_from_here && self.registry.unregister(&name).is_ok()
    }

    /// Caches what the plugin in `path` described itself as.
    fn remember(&self, path: &Path, plugin: &dyn Plugin) {
        if let Some(cache) = &self.descriptions {
            let companions = self.loader_for(path).map_or(&[][..], PluginLoader::companion_suffixes);
            cache.refresh(path, companions, plugin.description());
        }
    }

    /// The loader of the backend that handles `path`, if any.
    pub fn loader_for(&self, path: &Path) -> Option<&dyn PluginLoader> {
        self.loader_for_shared(path).map(|l| &**l)
    }

    fn loader_for_shared(&self, path: &Path) -> Option<&Arc<dyn PluginLoader>> {
        self.loaders.iter().find(|l| l.handles(path))
    }

    /// The plugin files beside `path` that read it as a companion file
    /// ([`PluginLoader::companion_suffixes`]: `NAME.extism.toml` for
    /// `NAME.wasm`), so that a change to it reloads them.
    pub fn plugins_of_companion(&self, path: &Path) -> Vec<PathBuf> {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(pocket_core::directory_of(path)) else {
            return Vec::new();
        };
        let entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        let mut plugins = Vec::new();
        for loader in &self.loaders {
            for suffix in loader.companion_suffixes() {
                let Some(stem) = file_name.strip_suffix(suffix) else {
                    continue;
                };
                plugins.extend(
                    entries
                        .iter()
                        .filter(|entry| loader.handles(entry) && entry.file_stem().is_some_and(|s| s == stem))
                        .cloned(),
                );
            }
        }
        plugins
    }
}

/// Whether `a` and `b` name the same directory entry (which may be gone):
/// the same name in the same directory.
fn same_entry(a: &Path, b: &Path) -> bool {
    let dir = |p: &Path| pocket_core::directory_of(p).canonicalize().ok();
    a == b || (a.file_name() == b.file_name() && dir(a).is_some() && dir(a) == dir(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plugin_built_into_pocket_has_a_reserved_name() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("pocket.toml");
        std::fs::write(&config, "[plugins]\nautoload = false\n").unwrap();
        let host = Deployment::builder()
            .config_file(&config)
            .loading(Loading::Eager)
            .open()
            .unwrap();
        let built_in: Vec<String> = host
            .registry
            .catalog()
            .plugins()
            .filter(|p| p.built_in)
            .map(|p| p.name.to_string())
            .collect();
        assert!(!built_in.is_empty());
        for name in &built_in {
            assert!(
                pocket_core::is_reserved_name(name),
                "`{name}` is built in but not reserved"
            );
        }
        assert_eq!(built_in.len(), pocket_core::RESERVED_PLUGIN_NAMES.len());
    }

    #[tokio::test]
    async fn a_deployment_built_in_code_validates_and_runs_a_workflow_and_reports_an_invalid_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = PocketConfig::parse("[plugins]\nautoload = false\n", &dir.path().join("pocket.toml")).unwrap();
        let deployment = Deployment::builder().config(config).open().unwrap();
        let workflow = dir.path().join("greet.yaml");
        let text = "name: greet\nstart: hello\nnodes:\n  - name: hello\n    type: lua\n    config:\n      source: 'return { text = \"hi \" .. input.name }'\n";
        let validated = deployment.validate_text(&workflow, text).unwrap();
        let input = Value::from_json(r#"{"name": "Ada"}"#).unwrap();
        let outcome = deployment.run(&validated, input, RunOptions::default()).await.unwrap();
        assert_eq!(outcome.output, Value::from_json(r#"{"text": "hi Ada"}"#).unwrap());

        let broken = deployment.validate_text(&workflow, "name: b\nstart: a\nnodes:\n  - {name: a, type: nope}\n");
        match broken {
            Err(Error::Invalid(invalid)) => assert!(invalid.to_string().contains("nope"), "{invalid}"),
            other => panic!("expected the workflow to be invalid, got {:?}", other.map(|_| ())),
        }
    }
}
