//! [`NativeLoader`]: dynamic libraries in plugin directories become
//! [`NativePlugin`](crate::NativePlugin)s.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{Isolation, Limits, LoadError, OpenedPlugin, PluginKind, PluginLoader, PluginSource, Policy};

use crate::copies::PrivateCopies;
use crate::error::{IsolationError, RefusalReason};
#[cfg(unix)]
use crate::isolated::ChildCommand;
use crate::library::{Panics, open};
use crate::plugin::OpenedNative;

/// The file extensions of dynamic libraries, on every platform: a plugin
/// directory shared between machines may hold all three.
const EXTENSIONS: [&str; 3] = ["so", "dylib", "dll"];

/// Loads native plugin libraries (`.so`, `.dylib`, `.dll`).
///
/// Each file is loaded through its own library header, so two plugins never
/// share a root module (abi_stable's `RootModule::load_from_*` would cache
/// the first library's module for every later one). A loaded library is never
/// unloaded: loading a new version means loading a new file.
///
/// A library is opened from a private copy of the bytes the load gate
/// admitted, never from the plugin file itself (see [`PrivateCopies`]).
///
/// A plugin whose policy says `isolation = "process"` is not opened here at
/// all: with [`NativeLoader::isolating_with`], it is started in processes
/// of its own ([`crate::IsolatedPlugin`]), which open that private copy;
/// without, it fails to load.
#[derive(Debug, Clone, Default)]
pub struct NativeLoader {
    #[cfg(unix)]
    child: Option<ChildCommand>,
    copies: Arc<PrivateCopies>,
}

impl NativeLoader {
    /// The loader; it loads every plugin in-process, and refuses those
    /// whose policy asks for process isolation.
    pub fn new() -> Self {
        NativeLoader::default()
    }

    /// The same loader, starting plugins under `isolation = "process"` with
    /// `command` (see [`ChildCommand`]).
    #[cfg(unix)]
    pub fn isolating_with(mut self, command: ChildCommand) -> Self {
        self.child = Some(command);
        self
    }

    /// Starts the plugin in `source` in a process of its own.
    #[cfg(unix)]
    fn open_isolated(&self, source: &PluginSource<'_>, policy: &Policy) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let command = self
            .child
            .as_ref()
            .ok_or_else(|| LoadError::new(source.path(), IsolationError::NoChildCommand))?;
        let library = self.copies.stage(source)?;
        Ok(Box::new(crate::isolated::open(source, library, policy, command)?))
    }

    #[cfg(not(unix))]
    fn open_isolated(&self, source: &PluginSource<'_>, _policy: &Policy) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        Err(LoadError::new(source.path(), IsolationError::Unsupported))
    }
}

impl PluginLoader for NativeLoader {
    fn kind(&self) -> PluginKind {
        PluginKind::Native
    }

    fn handles(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
    }

    /// Loads the library (from its private copy) and reads its descriptor.
    /// Native plugins are trusted code: no limit applies to the library
    /// itself; binding gives its host calls the plugin's permissions.
    fn open(&self, source: &PluginSource<'_>, _limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let path = source.path();
        let library = self.copies.stage(source)?;
        let descriptor = open(&library.path, Panics::MustUnwind).map_err(|reason| LoadError::new(path, reason))?;
        let plugin = OpenedNative::new(descriptor, path)
            .map_err(|reason| LoadError::new(path, RefusalReason::DescribeFailed(reason)))?;
        tracing::debug!(plugin = %OpenedPlugin::description(&plugin).name, file = %path.display(), "loaded native plugin");
        Ok(Box::new(plugin))
    }

    /// As [`open`](PluginLoader::open), unless `policy` says
    /// `isolation = "process"`: then the library is opened only in the
    /// plugin's own process.
    fn open_for(&self, source: &PluginSource<'_>, policy: &Policy) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        match policy.isolation {
            Isolation::InProcess => self.open(source, &policy.limits),
            Isolation::Process => self.open_isolated(source, policy),
        }
    }
}
