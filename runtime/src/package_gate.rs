//! A [`Deployment`] is the [`pocket_package::Gate`] plugin packages and
//! plugin directories are checked through: its pocket.toml, its load gate,
//! its backends and its registry.

use std::path::Path;

use pocket_core::{Admitted, LoadError, OpenedPlugin, PluginKind, PocketConfig};
use pocket_package::{Gate, Origin};

use crate::Deployment;

impl Gate for Deployment {
    fn config(&self) -> &PocketConfig {
        Deployment::config(self)
    }

    fn admit(&self, path: &Path) -> Result<Admitted, LoadError> {
        Deployment::admit(self, path)
    }

    fn open(&self, admitted: &Admitted, name: &str) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        self.open_admitted(admitted, name)
    }

    fn kind_of(&self, path: &Path) -> Option<PluginKind> {
        self.loader_for(path).map(pocket_core::PluginLoader::kind)
    }

    fn companion_suffixes(&self, path: &Path) -> &'static [&'static str] {
        self.loader_for(path)
            .map_or(&[], pocket_core::PluginLoader::companion_suffixes)
    }

    fn loaded_from(&self, name: &str) -> Option<Origin> {
        let catalog = self.registry().catalog();
        let source = catalog.plugin(name)?.description().source.clone();
        Some(source.map_or(Origin::BuiltIn, Origin::File))
    }
}
