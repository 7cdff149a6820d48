//! The assembled host: configuration plus a registry with every plugin
//! registered, loaded now or (for commands that run workflows) on first use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use pocket_core::{
    LoadError, OpenedPlugin, Plugin, PluginKind, PluginLoader, PocketConfig, Registry, file_plugin_name, plugin_files,
};
use pocket_lua::{LuaLoader, LuaNodePlugin};
use pocket_native::NativeLoader;
use pocket_nodes::BuiltinPlugin;
use pocket_wasm::WasmLoader;

use crate::lazy::{DescriptionCache, LazyPlugin};

/// When a host loads the plugins in its directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// Every plugin now: for commands that report on plugins (a plugin
    /// that fails is listed as failed).
    Eager,
    /// Each plugin on the first use of one of its node types, registered
    /// meanwhile from its cached description: for commands that run or
    /// check workflows, which then pay only for the plugins they use.
    Lazy,
}

/// Where a long-running host loads native libraries from: a private copy of
/// each version, named by its content's hash. A library that is loaded can
/// then never change under the process (writing into a mapped library
/// corrupts the code running from it), and a new version of a file always
/// gets a fresh mapping (the loader would return the old one for a file it
/// has open). Copies live as long as this value.
pub struct NativeCopies {
    dir: tempfile::TempDir,
}

impl NativeCopies {
    /// A new directory of copies.
    pub fn new() -> anyhow::Result<NativeCopies> {
        let dir = tempfile::Builder::new()
            .prefix("pocket-native-")
            .tempdir()
            .context("cannot create a directory for native plugin copies")?;
        Ok(NativeCopies { dir })
    }

    /// Copies `path` (and its `.sig`, if any) into a directory named by the
    /// content's SHA-256, keeping the file's name; the copy's path.
    fn stage(&self, path: &Path) -> Result<PathBuf, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError::new(path, format!("cannot read the library: {e}")))?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let dir = self.dir.path().join(&digest[..32]);
        let name = path.file_name().unwrap_or_default();
        let copy = dir.join(name);
        if !copy.is_file() {
            let copied = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&copy, &bytes));
            copied.map_err(|e| LoadError::new(path, format!("cannot copy the library for loading: {e}")))?;
            let signature = pocket_trust::signature_path(path);
            if signature.is_file() {
                std::fs::copy(&signature, pocket_trust::signature_path(&copy))
                    .map_err(|e| LoadError::new(path, format!("cannot copy its signature: {e}")))?;
            }
        }
        Ok(copy)
    }
}

/// The native loader, starting plugins under `isolation = "process"` as
/// `pocket __native-child` (this very executable).
fn native_loader() -> NativeLoader {
    #[cfg(unix)]
    match std::env::current_exe() {
        Ok(exe) => {
            return NativeLoader::new().isolating_with(pocket_native::ChildCommand::new(exe).arg("__native-child"));
        }
        Err(error) => tracing::warn!("cannot find this executable, so no native plugin can run isolated: {error}"),
    }
    NativeLoader::new()
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

/// Everything a command needs: pocket.toml, the registry, and what failed to load.
pub struct Host {
    pub config: Arc<PocketConfig>,
    pub registry: Registry,
    /// Plugin files that could not be loaded (reported, then skipped), by file.
    failures: Mutex<Vec<Arc<LoadError>>>,
    /// One loader per backend, built once (the WASM one holds the engine and its cache).
    loaders: Vec<Arc<dyn PluginLoader>>,
    /// What plugin files described themselves as, by file.
    descriptions: Option<DescriptionCache>,
    /// Where native libraries are loaded from, for a long-running host.
    native_copies: Option<NativeCopies>,
}

impl Host {
    /// Loads pocket.toml (explicit path, `$POCKET_CONFIG`, or the nearest one
    /// upwards), registers the built-in plugin and, with `autoload`, every
    /// plugin found in the configured directories, loaded as `loading` says.
    pub fn load(explicit_config: Option<&Path>, loading: Loading) -> anyhow::Result<Host> {
        Host::assemble(explicit_config, loading, None)
    }

    /// As [`Host::load`] with every plugin loaded now, native libraries from
    /// private copies ([`NativeCopies`]): for `pocket serve`, whose plugin
    /// files change while it runs.
    pub fn load_for_serving(explicit_config: Option<&Path>) -> anyhow::Result<Host> {
        Host::assemble(explicit_config, Loading::Eager, Some(NativeCopies::new()?))
    }

    fn assemble(
        explicit_config: Option<&Path>,
        loading: Loading,
        native_copies: Option<NativeCopies>,
    ) -> anyhow::Result<Host> {
        let config = Host::config(explicit_config)?;
        if let Some(path) = &config.path {
            tracing::debug!(config = %path.display(), "loaded pocket.toml");
        }
        let registry = Registry::new();
        registry.register_built_in(Arc::new(BuiltinPlugin::new()))?;
        registry.register_built_in(Arc::new(LuaNodePlugin::new(config.policy(pocket_lua::LUA_NODE_PLUGIN))))?;
        let host = Host {
            config: Arc::new(config),
            registry,
            failures: Mutex::new(Vec::new()),
            loaders: vec![
                Arc::new(LuaLoader::new()),
                Arc::new(WasmLoader::new()),
                Arc::new(native_loader()),
            ],
            descriptions: DescriptionCache::default_location(),
            native_copies,
        };
        if host.config.plugins.autoload {
            for path in plugin_files(&host.config.plugins.directories) {
                if let Err(error) = host.autoload(&path, loading) {
                    tracing::warn!("{error}");
                    host.failures().push(Arc::new(error));
                }
            }
        }
        Ok(host)
    }

    /// pocket.toml alone: the explicit path, `$POCKET_CONFIG`, or the
    /// nearest one upwards (defaults without one).
    pub fn config(explicit_config: Option<&Path>) -> anyhow::Result<PocketConfig> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Ok(PocketConfig::discover(explicit_config, &cwd)?)
    }

    /// Registers the plugin in `path`: lazily when `loading` allows and its
    /// description is cached, else loaded now (and its description cached).
    fn autoload(&self, path: &Path, loading: Loading) -> Result<bool, LoadError> {
        let cached = match (&self.descriptions, loading) {
            (Some(cache), Loading::Lazy) => cache.get(path),
            _ => None,
        };
        let (Some(description), Some(loader)) = (cached, self.loader_for_shared(path).cloned()) else {
            return self.load_plugin(path);
        };
        let (file, config, cache) = (path.to_path_buf(), self.config.clone(), self.descriptions.clone());
        let load = Box::new(move || {
            let plugin = loader.load(&file, &config)?;
            if let Some(cache) = &cache {
                cache.refresh(&file, plugin.description());
            }
            Ok(plugin)
        });
        let plugin = LazyPlugin::new(path.to_path_buf(), description, load);
        self.registry
            .register_as(&file_plugin_name(path), Arc::new(plugin))
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Loads one plugin file with the loader that handles it and registers it
    /// under its file's name, which must be the name it declares or an alias
    /// of it ([`pocket_core::check_plugin_name`]). Files no loader handles
    /// are skipped silently (`Ok(false)`).
    pub fn load_plugin(&self, path: &Path) -> Result<bool, LoadError> {
        let Some(loader) = self.loader_for(path) else {
            return Ok(false);
        };
        let plugin = self.load_file(loader, path)?;
        self.registry
            .register_as(&file_plugin_name(path), plugin)
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Loads `path` with `loader` (a native library from its private copy,
    /// when the host keeps them) and caches its description.
    fn load_file(&self, loader: &dyn PluginLoader, path: &Path) -> Result<Arc<dyn Plugin>, LoadError> {
        let staged = match &self.native_copies {
            Some(copies) if loader.kind() == PluginKind::Native => copies.stage(path)?,
            _ => path.to_path_buf(),
        };
        let plugin = loader.load(&staged, &self.config).map_err(|mut error| {
            error.path = path.to_path_buf();
            error
        })?;
        self.remember(path, plugin.as_ref());
        Ok(plugin)
    }

    /// Opens and describes `path` (under the limits of its file's name) with
    /// the loader that handles it, without binding or registering it: for
    /// commands that look at a plugin file before it is installed.
    pub fn open_plugin(&self, path: &Path) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let loader = self.loader_for(path).ok_or_else(|| {
            LoadError::new(
                path,
                "no plugin backend handles this kind of file (native: .so/.dylib/.dll, Lua: .lua, WASM: .wasm/.wat)",
            )
        })?;
        loader.open_for(path, &self.config.policy(&file_plugin_name(path)))
    }

    /// The plugins that failed to load: the name each was to have (its
    /// file's), its kind, and why it failed.
    pub fn failed_plugins(&self) -> Vec<FailedPlugin> {
        self.failures()
            .iter()
            .map(|error| FailedPlugin {
                name: file_plugin_name(&error.path),
                kind: self.loader_for(&error.path).map(|l| l.kind()),
                error: error.clone(),
            })
            .collect()
    }

    fn failures(&self) -> MutexGuard<'_, Vec<Arc<LoadError>>> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// Loads `path` and registers it as `name`, in place of any plugin
    /// registered under that name (runs in flight keep the one they have).
    pub fn install_as(&self, name: &str, path: &Path) -> Result<(), LoadError> {
        let loader = self
            .loader_for(path)
            .ok_or_else(|| LoadError::new(path, "no plugin backend handles this kind of file"))?;
        let plugin = self.load_file(loader, path)?;
        self.registry
            .replace(name, plugin)
            .map_err(|e| LoadError::new(path, e))?;
        Ok(())
    }

    /// Forgets the plugin file `path` was: unregisters its plugin and its
    /// listed failure. Whether a plugin was registered under its name.
    pub fn remove_plugin(&self, path: &Path) -> bool {
        self.failures().retain(|failure| failure.path != path);
        self.registry.unregister(&file_plugin_name(path)).is_ok()
    }

    /// Caches what the plugin in `path` described itself as.
    fn remember(&self, path: &Path, plugin: &dyn Plugin) {
        if let Some(cache) = &self.descriptions {
            cache.refresh(path, plugin.description());
        }
    }

    /// The loader of the backend that handles `path`, if any.
    pub fn loader_for(&self, path: &Path) -> Option<&dyn PluginLoader> {
        self.loader_for_shared(path).map(|l| &**l)
    }

    fn loader_for_shared(&self, path: &Path) -> Option<&Arc<dyn PluginLoader>> {
        self.loaders.iter().find(|l| l.handles(path))
    }
}
