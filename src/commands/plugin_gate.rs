//! The host as `pocket-package` sees it: pocket.toml, the load gate, the
//! backends and the registry.

use std::path::Path;

use pocket_core::{Admitted, LoadError, OpenedPlugin, PluginKind, PocketConfig};
use pocket_package::Origin;

use crate::host::Host;

/// [`Host`] as a [`pocket_package::Gate`].
pub struct HostGate<'a>(pub &'a Host);

impl pocket_package::Gate for HostGate<'_> {
    fn config(&self) -> &PocketConfig {
        &self.0.config
    }

    fn admit(&self, path: &Path) -> Result<Admitted, LoadError> {
        self.0.admit(path)
    }

    fn open(&self, admitted: &Admitted, name: &str) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        self.0.open_admitted(admitted, name)
    }

    fn kind_of(&self, path: &Path) -> Option<PluginKind> {
        self.0.loader_for(path).map(|l| l.kind())
    }

    fn loaded_from(&self, name: &str) -> Option<Origin> {
        let catalog = self.0.registry.catalog();
        let source = catalog.plugin(name)?.description().source.clone();
        Some(source.map_or(Origin::BuiltIn, Origin::File))
    }
}
