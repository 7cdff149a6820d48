//! The node registry: every plugin, of every kind, registers its node types here.
//!
//! Readers take a [`Catalog`], an immutable snapshot, so registering or
//! removing plugins while workflows run is safe: a validated workflow holds
//! the node implementations it was built with, whatever happens afterwards.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use indexmap::IndexMap;

use crate::error::{MAX_NODE_TYPES, RegistryError, TypeLookupError, UnknownType};
use crate::names::{check_registered_name, validate_plugin_name};
use crate::plugin::{NodeType, Plugin, PluginDescription};
use crate::suggest::did_you_mean;

/// A registered plugin.
#[derive(Clone)]
pub struct RegisteredPlugin {
    /// The name it is registered under: its alias, or its declared name.
    pub name: Arc<str>,
    /// The plugin itself.
    pub plugin: Arc<dyn Plugin>,
    /// Its node types, in the order the plugin lists them.
    pub node_types: Vec<Arc<dyn NodeType>>,
    /// Whether it is built into Pocket ([`Registry::register_built_in`]):
    /// its bare type names win over any plugin's.
    pub built_in: bool,
}

impl RegisteredPlugin {
    /// What the plugin says about itself.
    pub fn description(&self) -> &PluginDescription {
        self.plugin.description()
    }

    /// `plugin/type`, the full name of one of its node types, always usable.
    pub fn full_name(&self, node_type: &dyn NodeType) -> String {
        format!("{}/{}", self.name, node_type.name())
    }
}

/// A node type found in the registry, with the plugin that provides it.
#[derive(Clone)]
pub struct ResolvedType {
    /// The registered name of the providing plugin.
    pub plugin: Arc<str>,
    /// The node type.
    pub node_type: Arc<dyn NodeType>,
    /// Whether the providing plugin is built into Pocket.
    built_in: bool,
}

impl ResolvedType {
    /// Whether the providing plugin is built into Pocket.
    pub fn is_built_in(&self) -> bool {
        self.built_in
    }

    /// `plugin/type`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.plugin, self.node_type.name())
    }
}

/// An immutable snapshot of the registry.
#[derive(Clone, Default)]
pub struct Catalog {
    plugins: IndexMap<Arc<str>, RegisteredPlugin>,
    /// Bare type name -> every plugin providing it, in registration order.
    by_name: HashMap<String, Vec<ResolvedType>>,
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

    /// Finds a node type by its full name `plugin/type`, or by its bare name
    /// `type` when that names one type: the built-in one if Pocket provides
    /// it (no plugin can take over a built-in name), else the only plugin's.
    /// A bare name that several plugins provide is ambiguous: the error lists
    /// their full names.
    pub fn resolve(&self, name: &str) -> Result<ResolvedType, TypeLookupError> {
        let unknown = || {
            TypeLookupError::Unknown(UnknownType {
                name: name.to_string(),
                suggestion: did_you_mean(name, self.type_names(name.contains('/')).iter().map(String::as_str))
                    .map(str::to_string),
            })
        };
        if let Some((plugin, node_type)) = name.split_once('/') {
            let plugin = self.plugins.get(plugin).ok_or_else(unknown)?;
            let found = plugin
                .node_types
                .iter()
                .find(|t| t.name() == node_type)
                .ok_or_else(unknown)?;
            return Ok(ResolvedType {
                plugin: plugin.name.clone(),
                node_type: found.clone(),
                built_in: plugin.built_in,
            });
        }
        let providers = self.by_name.get(name).ok_or_else(unknown)?;
        if let Some(built_in) = providers.iter().find(|t| t.built_in) {
            return Ok(built_in.clone());
        }
        match providers.as_slice() {
            [only] => Ok(only.clone()),
            several => Err(TypeLookupError::Ambiguous {
                name: name.to_string(),
                candidates: several.iter().map(ResolvedType::full_name).collect(),
            }),
        }
    }

    /// The names to suggest instead of an unknown one: every full name
    /// (`plugin/type`), and every bare name unless a full name was asked for.
    fn type_names(&self, full_only: bool) -> Vec<String> {
        let bare = self.by_name.keys().filter(|_| !full_only).cloned();
        let full = self
            .plugins
            .values()
            .flat_map(|p| p.node_types.iter().map(|t| p.full_name(t.as_ref())));
        bare.chain(full).collect()
    }

    fn insert(&mut self, name: Arc<str>, plugin: Arc<dyn Plugin>, built_in: bool) -> Result<(), RegistryError> {
        if built_in {
            validate_plugin_name(&name).map_err(|reason| RegistryError::InvalidPluginName {
                name: name.to_string(),
                reason,
            })?;
        } else {
            check_registered_name(&name)?;
        }
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
        }
        let registered = RegisteredPlugin {
            name: name.clone(),
            plugin,
            node_types,
            built_in,
        };
        for node_type in &registered.node_types {
            self.by_name
                .entry(node_type.name().to_string())
                .or_default()
                .push(ResolvedType {
                    plugin: name.clone(),
                    node_type: node_type.clone(),
                    built_in: registered.built_in,
                });
        }
        self.plugins.insert(name, registered);
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<RegisteredPlugin, RegistryError> {
        if self.plugins.get(name).is_some_and(|p| p.built_in) {
            return Err(RegistryError::BuiltIn(name.to_string()));
        }
        let removed = self
            .plugins
            .shift_remove(name)
            .ok_or_else(|| RegistryError::UnknownPlugin {
                name: name.to_string(),
                hint: did_you_mean(name, self.plugins.keys().map(|k| &**k))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default(),
            })?;
        for node_type in &removed.node_types {
            if let Some(providers) = self.by_name.get_mut(node_type.name()) {
                providers.retain(|t| *t.plugin != *name);
                if providers.is_empty() {
                    self.by_name.remove(node_type.name());
                }
            }
        }
        Ok(removed)
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

    /// Registers a plugin under its declared name. Fails if the name is
    /// taken; type names may be shared with other plugins (see
    /// [`Catalog::resolve`]).
    pub fn register(&self, plugin: Arc<dyn Plugin>) -> Result<(), RegistryError> {
        let name: Arc<str> = plugin.description().name.as_str().into();
        self.update(|catalog| catalog.insert(name, plugin, false))
    }

    /// Registers a plugin compiled into Pocket under its declared name. A
    /// bare type name it provides always means its type, whatever plugins
    /// provide the same name, so no plugin can take over a built-in type.
    pub fn register_built_in(&self, plugin: Arc<dyn Plugin>) -> Result<(), RegistryError> {
        let name: Arc<str> = plugin.description().name.as_str().into();
        self.update(|catalog| catalog.insert(name, plugin, true))
    }

    /// Registers a plugin under `alias` instead of its declared name, so that
    /// two versions of one plugin can be loaded side by side: its types are
    /// `alias/type`.
    pub fn register_as(&self, alias: &str, plugin: Arc<dyn Plugin>) -> Result<(), RegistryError> {
        self.update(|catalog| catalog.insert(alias.into(), plugin, false))
    }

    /// Registers `plugin` under `alias` in place of the plugin registered
    /// there, if any, in one step: no snapshot lacks the name. Runs in
    /// flight keep the version they started with. The replaced plugin, if
    /// any. A built-in plugin is never replaced.
    pub fn replace(&self, alias: &str, plugin: Arc<dyn Plugin>) -> Result<Option<RegisteredPlugin>, RegistryError> {
        check_registered_name(alias)?;
        self.update(|catalog| {
            let old = match catalog.remove(alias) {
                Err(RegistryError::BuiltIn(name)) => return Err(RegistryError::BuiltIn(name)),
                removed => removed.ok(),
            };
            catalog.insert(alias.into(), plugin, false)?;
            Ok(old)
        })
    }

    /// Removes a plugin. Runs in flight keep the nodes they already hold. A
    /// built-in plugin is never removed.
    pub fn unregister(&self, name: &str) -> Result<RegisteredPlugin, RegistryError> {
        self.update(|catalog| catalog.remove(name))
    }

    fn update<T>(&self, change: impl FnOnce(&mut Catalog) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        let _guard = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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

    fn ambiguity(catalog: &Catalog, name: &str) -> Vec<String> {
        match catalog.resolve(name) {
            Err(TypeLookupError::Ambiguous { candidates, .. }) => candidates,
            Err(other) => panic!("{name}: {other}"),
            Ok(found) => panic!("{name} resolved to {}", found.full_name()),
        }
    }

    #[test]
    fn two_plugins_with_one_type_name_both_load_and_the_bare_name_is_ambiguous() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        registry.register(plugin("b", &["upper", "lower"])).unwrap();
        let catalog = registry.catalog();
        assert_eq!(ambiguity(&catalog, "upper"), ["a/upper", "b/upper"]);
        let err = catalog.resolve("upper").err().unwrap().to_string();
        assert!(err.contains("`a/upper`") && err.contains("`b/upper`"), "{err}");
        assert_eq!(catalog.resolve("a/upper").unwrap().full_name(), "a/upper");
        assert_eq!(catalog.resolve("b/upper").unwrap().full_name(), "b/upper");
        assert_eq!(catalog.resolve("lower").unwrap().full_name(), "b/lower");
    }

    #[test]
    fn a_built_in_type_name_cannot_be_taken_over_by_a_plugin() {
        let registry = Registry::new();
        registry.register(plugin("impostor", &["echo"])).unwrap();
        registry.register_built_in(plugin("builtin", &["echo"])).unwrap();
        let catalog = registry.catalog();
        assert_eq!(catalog.resolve("echo").unwrap().full_name(), "builtin/echo");
        assert_eq!(catalog.resolve("impostor/echo").unwrap().full_name(), "impostor/echo");
    }

    #[test]
    fn an_alias_loads_a_second_copy_of_a_plugin_beside_the_first() {
        let registry = Registry::new();
        registry.register(plugin("text", &["upper"])).unwrap();
        let err = registry.register(plugin("text", &["upper"])).unwrap_err();
        assert_eq!(err, RegistryError::DuplicatePlugin("text".into()));
        assert!(err.to_string().contains("--alias"), "{err}");
        registry.register_as("text-v1", plugin("text", &["upper"])).unwrap();
        let catalog = registry.catalog();
        assert_eq!(ambiguity(&catalog, "upper"), ["text/upper", "text-v1/upper"]);
        assert_eq!(&*catalog.resolve("text-v1/upper").unwrap().plugin, "text-v1");
    }

    #[test]
    fn unknown_types_suggest_the_closest_name() {
        let registry = Registry::new();
        registry.register(plugin("text", &["uppercase"])).unwrap();
        let catalog = registry.catalog();
        let Err(TypeLookupError::Unknown(err)) = catalog.resolve("upercase") else {
            panic!("upercase resolved")
        };
        assert_eq!(err.suggestion.as_deref(), Some("uppercase"));
        assert!(err.to_string().contains("did you mean `uppercase`"));
        let Err(TypeLookupError::Unknown(err)) = catalog.resolve("txt/uppercase") else {
            panic!("txt/uppercase resolved")
        };
        assert_eq!(err.suggestion.as_deref(), Some("text/uppercase"));
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
    fn unregistering_a_plugin_makes_a_shared_type_name_unambiguous() {
        let registry = Registry::new();
        registry.register(plugin("a", &["upper"])).unwrap();
        registry.register_as("b", plugin("b", &["upper"])).unwrap();
        assert!(registry.catalog().resolve("upper").is_err());
        registry.unregister("a").unwrap();
        assert_eq!(&*registry.catalog().resolve("upper").unwrap().plugin, "b");
    }

    #[test]
    fn no_plugin_takes_a_built_in_name_or_replaces_or_removes_a_built_in_plugin() {
        let registry = Registry::new();
        registry.register_built_in(plugin("builtin", &["echo"])).unwrap();
        for name in ["builtin", "lua", "Builtin", "LUA"] {
            let err = registry.register_as(name, plugin("impostor", &["echo"])).unwrap_err();
            assert_eq!(err, RegistryError::ReservedName(name.into()));
            assert!(err.to_string().contains("--alias"), "{err}");
        }
        assert_eq!(
            registry.replace("builtin", plugin("builtin", &["echo"])).err(),
            Some(RegistryError::ReservedName("builtin".into()))
        );
        registry.register_built_in(plugin("other", &["x"])).unwrap();
        assert_eq!(
            registry.replace("other", plugin("other", &["x"])).err(),
            Some(RegistryError::BuiltIn("other".into()))
        );
        assert_eq!(
            registry.unregister("builtin").err(),
            Some(RegistryError::BuiltIn("builtin".into()))
        );
        let catalog = registry.catalog();
        assert!(catalog.plugin("builtin").is_some_and(|p| p.built_in));
        assert_eq!(catalog.resolve("echo").unwrap().full_name(), "builtin/echo");
        assert_eq!(check_registered_name("text-tools"), Ok(()));
        assert!(matches!(
            check_registered_name("../x"),
            Err(RegistryError::InvalidPluginName { .. })
        ));
    }

    #[test]
    fn type_names_with_a_slash_are_refused() {
        let registry = Registry::new();
        let err = registry.register(plugin("a", &["x/y"])).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidTypeName { .. }));
    }
}
