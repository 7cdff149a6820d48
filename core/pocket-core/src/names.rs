//! The rules for plugin names: which names are plain names, and which
//! belong to the plugins built into Pocket. A leaf, so that everything that
//! takes a plugin name (pocket.toml, the load gate, the registry) checks it
//! the same way.

use crate::error::RegistryError;

/// The name of the plugin that holds Pocket's built-in node types.
pub const BUILTIN_PLUGIN: &str = "builtin";

/// The name of the plugin that holds the built-in `lua` node type (inline
/// Lua scripts); pocket.toml's grants for this name apply to them.
pub const LUA_NODE_PLUGIN: &str = "lua";

/// Every name a plugin built into Pocket registers under: no plugin file
/// may take one, on any path ([`check_registered_name`]).
pub const RESERVED_PLUGIN_NAMES: [&str; 2] = [BUILTIN_PLUGIN, LUA_NODE_PLUGIN];

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

/// Whether `name` is, ignoring ASCII case, the name of a plugin built into
/// Pocket ([`RESERVED_PLUGIN_NAMES`]): `Builtin/echo` must not pass for
/// `builtin/echo` either.
pub fn is_reserved_name(name: &str) -> bool {
    RESERVED_PLUGIN_NAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
}

/// The rule for the name a plugin file is registered under, on every path
/// (its file's name, an alias, a name a cluster worker is told): a plain
/// name ([`validate_plugin_name`]) that is not reserved ([`is_reserved_name`]).
pub fn check_registered_name(name: &str) -> Result<(), RegistryError> {
    validate_plugin_name(name).map_err(|reason| RegistryError::InvalidPluginName {
        name: name.to_string(),
        reason,
    })?;
    if is_reserved_name(name) {
        return Err(RegistryError::ReservedName(name.to_string()));
    }
    Ok(())
}
