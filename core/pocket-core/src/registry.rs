//! The node registry: every plugin, of every kind, registers its node types here.
//!
//! Readers take a [`Catalog`], an immutable snapshot, so registering or
//! removing plugins while workflows run is safe: a validated workflow holds
//! the node implementations it was built with, whatever happens afterwards.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use indexmap::IndexMap;

use crate::error::UnknownType;
use crate::plugin::{NodeType, Plugin, PluginDescription};
use crate::suggest::did_you_mean;

/// The most node types one plugin may provide. A plugin declaring more is
/// refused whole: a hostile manifest of 100,000 types must not stall start-up.
pub const MAX_NODE_TYPES: usize = 1_000;

/// Registration failed; the registry is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A plugin with this name (or alias) is already registered.
    #[error("a plugin named `{0}` is already registered; load this one with an alias")]
    DuplicatePlugin(String),
    /// Two plugins offer the same type name.
    #[error(
        "node type `{node_type}` of plugin `{plugin}` is already provided by plugin `{existing}`; \
         load one of them with an alias (then address it as `alias/{node_type}`)"
    )]
    DuplicateType {
        /// The contested type name.
        node_type: String,
        /// The plugin being registered.
        plugin: String,
        /// The plugin that already provides it.
        existing: String,
    },
    /// A plugin offers two node types with one name, or an unusable name.
    #[error("plugin `{plugin}` has an invalid node type name `{node_type}`: {reason}")]
    InvalidTypeName {
        /// The plugin being registered.
        plugin: String,
        /// The offending name.
        node_type: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A plugin's name (or alias) is not a plain name.
    #[error("invalid plugin name `{name}`: {reason}")]
    InvalidPluginName {
        /// The offending name.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A plugin provides more than [`MAX_NODE_TYPES`] node types.
    #[error("plugin `{plugin}` declares {count} node types; at most {MAX_NODE_TYPES} are allowed")]
    TooManyTypes {
        /// The plugin being registered.
        plugin: String,
        /// How many it declares.
        count: usize,
    },
    /// No plugin with this name is registered.
    #[error("no plugin named `{name}` is registered{hint}")]
    UnknownPlugin {
        /// The name asked for.
        name: String,
        /// A "did you mean" hint, possibly empty.
        hint: String,
    },
}

/// A registered plugin.
#[derive(Clone)]
pub struct RegisteredPlugin {
    /// The name it is registered under: its alias, or its manifest name.
    pub name: Arc<str>,
    /// The plugin itself.
    pub plugin: Arc<dyn Plugin>,
    /// Its node types, in the order the plugin lists them.
    pub node_types: Vec<Arc<dyn NodeType>>,
}

impl RegisteredPlugin {
    /// The plugin's manifest.
    pub fn description(&self) -> &PluginDescription {
        self.plugin.description()
    }
}

/// A node type found in the registry, with the plugin that provides it.
#[derive(Clone)]
pub struct ResolvedType {
    /// The registered name of the providing plugin.
    pub plugin: Arc<str>,
    /// The node type.
    pub node_type: Arc<dyn NodeType>,
}

/// An immutable snapshot of the registry.
#[derive(Clone, Default)]
pub struct Catalog {
    plugins: IndexMap<Arc<str>, RegisteredPlugin>,
    /// Unqualified type name -> provider.
    by_name: HashMap<String, ResolvedType>,
}

impl Catalog {
    /// The registered plugins, in registration order.
    pub fn plugins(&self) -> impl Iterator<Item = &RegisteredPlugin> {
        self.plugins.values()
    }

    /// The plugin registered under `name`.
    pub fn plugin(&self, name: &str) -> Option<&RegisteredPlugin> {
        self.plugins.get(name)
    }

    /// Finds a node type by `type` or `plugin/type`.
    pub fn resolve(&self, name: &str) -> Result<ResolvedType, UnknownType> {
        let found = match name.split_once('/') {
            Some((plugin, node_type)) => self.plugins.get(plugin).and_then(|p| {
                p.node_types
                    .iter()
                    .find(|t| t.name() == node_type)
                    .map(|t| ResolvedType {
                        plugin: p.name.clone(),
                        node_type: t.clone(),
                    })
            }),
            None => self.by_name.get(name).cloned(),
        };
        found.ok_or_else(|| UnknownType {
            name: name.to_string(),
            suggestion: did_you_mean(name, self.type_names()).map(str::to_string),
        })
    }

    /// Every name a node type can be addressed by: bare names and `plugin/type`.
    fn type_names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    fn insert(&mut self, name: Arc<str>, plugin: Arc<dyn Plugin>, aliased: bool) -> Result<(), RegistryError> {
        validate_plugin_name(&name).map_err(|reason| RegistryError::InvalidPluginName {
            name: name.to_string(),
            reason,
        })?;
        if self.plugins.contains_key(&name) {
            return Err(RegistryError::DuplicatePlugin(name.to_string()));
        }
        let node_types = plugin.node_types();
        if node_types.len() > MAX_NODE_TYPES {
            return Err(RegistryError::TooManyTypes {
                plugin: name.to_string(),
                count: node_types.len(),
            });
        }
        let mut claimed = Vec::new();
        let mut seen = HashSet::with_capacity(node_types.len());
        for node_type in &node_types {
            let type_name = node_type.name();
            check_type_name(&name, type_name)?;
            if !seen.insert(type_name) {
                return Err(RegistryError::InvalidTypeName {
                    plugin: name.to_string(),
                    node_type: type_name.to_string(),
                    reason: "the plugin declares it twice",
                });
            }
            match self.by_name.get(type_name) {
                Some(existing) if !aliased => {
                    return Err(RegistryError::DuplicateType {
                        node_type: type_name.to_string(),
                        plugin: name.to_string(),
                        existing: existing.plugin.to_string(),
                    });
                }
                Some(_) => tracing::debug!(
                    plugin = %name,
                    node_type = type_name,
                    "type name taken; reachable only as `{name}/{type_name}`"
                ),
                None => claimed.push(ResolvedType {
                    plugin: name.clone(),
                    node_type: node_type.clone(),
                }),
            }
        }
        for resolved in claimed {
            self.by_name.insert(resolved.node_type.name().to_string(), resolved);
        }
        self.plugins.insert(
            name.clone(),
            RegisteredPlugin {
                name,
                plugin,
                node_types,
            },
        );
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<RegisteredPlugin, RegistryError> {
        let removed = self
            .plugins
            .shift_remove(name)
            .ok_or_else(|| RegistryError::UnknownPlugin {
                name: name.to_string(),
                hint: did_you_mean(name, self.plugins.keys().map(|k| &**k))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default(),
            })?;
        self.by_name.retain(|_, t| *t.plugin != *name);
        // Types the removed plugin shadowed become reachable by bare name again.
        for plugin in self.plugins.values() {
            for node_type in &plugin.node_types {
                self.by_name
                    .entry(node_type.name().to_string())
                    .or_insert_with(|| ResolvedType {
                        plugin: plugin.name.clone(),
                        node_type: node_type.clone(),
                    });
            }
        }
        Ok(removed)
    }
}

/// Plugin names are plain names, usable as file names and in `plugin/type`:
/// ASCII letters, digits, `-`, `_` and `.`, not starting with `.`, at most
/// 128 characters.
pub fn validate_plugin_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("it is empty")
    } else if name.len() > 128 {
        Err("it is longer than 128 characters")
    } else if name.starts_with('.') {
        Err("it starts with `.`")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Err("use only ASCII letters, digits, `-`, `_` and `.`")
    } else {
        Ok(())
    }
}

fn check_type_name(plugin: &str, name: &str) -> Result<(), RegistryError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('/') {
        "it contains `/`, which separates plugin and type"
    } else if name.chars().any(char::is_whitespace) {
        "it contains whitespace"
    } else {
        return Ok(());
    };
    Err(RegistryError::InvalidTypeName {
        plugin: plugin.to_string(),
        node_type: name.to_string(),
        reason,
    })
}

/// The node registry shared by the CLI, the backends and the runner.
#[derive(Default)]
pub struct Registry {
    current: ArcSwap<Catalog>,
    /// Serializes writers; readers never wait.
    writer: Mutex<()>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry as it is now. Later changes do not affect the snapshot.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Registers a plugin under its manifest name. Fails if the name, or any
    /// of its type names, is taken.
    pub fn register(&self, plugin: Arc<dyn Plugin>) -> Result<(), RegistryError> {
        let name: Arc<str> = plugin.description().name.as_str().into();
        self.update(|catalog| catalog.insert(name, plugin, false))
    }

    /// Registers a plugin under `alias`. Its types are always reachable as
    /// `alias/type`; bare type names that another plugin already provides stay
    /// with that plugin instead of failing.
    pub fn register_as(&self, alias: &str, plugin: Arc<dyn Plugin>) -> Result<(), RegistryError> {
        self.update(|catalog| catalog.insert(alias.into(), plugin, true))
    }

    /// Removes a plugin. Runs in flight keep the nodes they already hold.
    pub fn unregister(&self, name: &str) -> Result<RegisteredPlugin, RegistryError> {
        self.update(|catalog| catalog.remove(name))
    }

    fn update<T>(&self, change: impl FnOnce(&mut Catalog) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        let _guard = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut next = Catalog::clone(&self.current.load());
        let result = change(&mut next)?;
        self.current.store(Arc::new(next));
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{StaticPlugin, constant_type};

    fn plugin(name: &str, types: &[&str]) -> Arc<dyn Plugin> {
        Arc::new(StaticPlugin::new(
            name,
            types.iter().map(|t| constant_type(t, name)).collect(),
        ))
    }

    #[test]
    fn types_resolve_by_bare_and_qualified_name() {
        let registry = Registry::new();
        registry.register(plugin("text", &["upper"])).unwrap();
        let catalog = registry.catalog();
        assert_eq!(&*catalog.resolve("upper").unwrap().plugin, "text");
        assert_eq!(&*catalog.resolve("text/upper").unwrap().plugin, "text");
    }

    #[test]
    fn a_plugin_with_too_many_types_is_refused_and_one_at_the_cap_loads() {
        let registry = Registry::new();
        let names: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
        let many: Vec<&str> = names.iter().map(String::as_str).collect();
        let err = registry.register(plugin("huge", &many)).unwrap_err();
        assert_eq!(
            err,
            RegistryError::TooManyTypes {
                plugin: "huge".into(),
                count: 100_000
            }
        );
        registry.register(plugin("big", &many[..MAX_NODE_TYPES])).unwrap();
        let err = registry.register(plugin("twice", &["a", "b", "a"])).unwrap_err();
        assert!(err.to_string().contains("declares it twice"), "{err}");
    }

    #[test]
    fn plugin_names_are_plain_names() {
        let registry = Registry::new();
        for bad in ["", "../escape", "a/b", "a:b", ".hidden", "spa ce"] {
            let err = registry.register(plugin(bad, &["t"])).unwrap_err();
            assert!(matches!(err, RegistryError::InvalidPluginName { .. }), "{bad}: {err}");
        }
        registry.register(plugin("text-tools_2.v1", &["t"])).unwrap();
    }

    #[test]
    fn two_plugins_with_one_type_name_is_an_error_naming_both() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        let err = registry.register(plugin("b", &["upper"])).unwrap_err();
        assert_eq!(
            err,
            RegistryError::DuplicateType {
                node_type: "upper".into(),
                plugin: "b".into(),
                existing: "a".into()
            }
        );
        assert!(
            registry.catalog().plugin("b").is_none(),
            "failed registration leaves no trace"
        );
    }

    #[test]
    fn an_aliased_plugin_may_share_type_names_and_is_reached_qualified() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        registry.register_as("b2", plugin("b", &["upper", "lower"])).unwrap();
        let catalog = registry.catalog();
        assert_eq!(&*catalog.resolve("upper").unwrap().plugin, "a");
        assert_eq!(&*catalog.resolve("b2/upper").unwrap().plugin, "b2");
        assert_eq!(&*catalog.resolve("lower").unwrap().plugin, "b2");
    }

    #[test]
    fn unknown_types_suggest_the_closest_name() {
        let registry = Registry::new();
        registry.register(plugin("text", &["uppercase"])).unwrap();
        let err = registry.catalog().resolve("upercase").err().unwrap();
        assert_eq!(err.suggestion.as_deref(), Some("uppercase"));
        assert!(err.to_string().contains("did you mean `uppercase`"));
    }

    #[test]
    fn snapshots_survive_unregistering() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        let before = registry.catalog();
        registry.unregister("a").unwrap();
        assert!(before.resolve("upper").is_ok());
        assert!(registry.catalog().resolve("upper").is_err());
    }

    #[test]
    fn unregistering_a_plugin_uncovers_the_types_it_shadowed() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        registry.register_as("b", plugin("b", &["upper"])).unwrap();
        registry.unregister("a").unwrap();
        assert_eq!(&*registry.catalog().resolve("upper").unwrap().plugin, "b");
    }

    #[test]
    fn type_names_with_a_slash_are_refused() {
        let registry = Registry::new();
        let err = registry.register(plugin("a", &["x/y"])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidTypeName { .. }));
    }
}
