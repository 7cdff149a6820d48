//! Plugin files copied into a plugin directory as they are (`pocket plugin
//! load`), under the name they are registered by, and removed again
//! (`pocket plugin unload`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{LoadError, Plugin, PocketConfig, check_registered_name, file_plugin_name};

use crate::data_file;
use crate::directory::{companions, installed_file_name, remove_written, target_directory, write_into_place};
use crate::error::{Error, io};
use crate::gate::{Gate, loaded_elsewhere};
use crate::pocket_toml::PocketToml;

/// How to load a plugin file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The name to register it by instead of the one it declares (recorded
    /// in pocket.toml's `[plugins.aliases]`).
    pub alias: Option<String>,
    /// The plugin directory to copy it into (one of pocket.toml's).
    pub dir: Option<PathBuf>,
    /// A config file (TOML or YAML) to record as its `[plugins.config.NAME]`.
    pub config: Option<PathBuf>,
}

/// A plugin file loaded by [`load`].
pub struct Loaded {
    /// The plugin, as checked.
    pub plugin: Arc<dyn Plugin>,
    /// The name it is registered by.
    pub name: String,
    /// Where it was copied to.
    pub file: PathBuf,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("plugin", &self.plugin.description().name)
            .field("name", &self.name)
            .field("file", &self.file)
            .finish()
    }
}

/// Checks the plugin file `path` through the load gate, then copies what
/// was checked into its plugin directory under the name it is registered by
/// (`libmy_plugin.so` of plugin `my-plugin` becomes `my-plugin.so`), the
/// name its policy is bound to, and records its alias and config in
/// pocket.toml. On any error nothing is left behind.
pub fn load(gate: &dyn Gate, path: &Path, options: &LoadOptions) -> Result<Loaded, Error> {
    let config = gate.config();
    let alias = options.alias.as_deref();
    if let Some(alias) = alias {
        check_registered_name(alias).map_err(|e| LoadError::new(path, e))?;
    }
    let admitted = gate.admit(path)?;
    let opened = gate.open(&admitted, alias.unwrap_or(&file_plugin_name(path)))?;
    let declared = opened.description().name.clone();
    let kind = opened.description().kind;
    let name = alias.unwrap_or(&declared).to_string();
    // The name becomes a file name: no `../` in it, and none of Pocket's own.
    check_registered_name(&name).map_err(|e| LoadError::new(path, e))?;
    if alias.is_none() && config.declared_name(&name) != name {
        return Err(Error::AliasOfAnother {
            declared: config.declared_name(&name).to_string(),
            name,
        });
    }
    let policy = config.policy_for(&name, opened.description());
    let plugin = opened.bind(policy)?;
    if let Some(from) = loaded_elsewhere(gate, &name, path) {
        return Err(Error::LoadedElsewhere {
            name,
            from,
            alias: ", or load this one beside it with `--alias NAME`",
        });
    }
    let directory = target_directory(&config.plugins.directories, kind, options.dir.as_deref(), &|p| {
        gate.kind_of(p)
    })?;
    let file = directory.join(installed_file_name(&name, path));
    if file.exists() {
        return Err(Error::TargetExists(file));
    }
    let mut edits = pocket_toml_edits(config, &name, &declared, options.config.as_deref())?;
    write_into_place(&admitted, &file)?;
    // The files its backend reads beside it (an Extism manifest) go with it.
    let suffixes = gate.companion_suffixes(path);
    for (companion, from) in companions(&name, path, suffixes) {
        let to = directory.join(companion);
        if let Err(error) = std::fs::copy(&from, &to) {
            remove_written(&file);
            return Err(io("copy", &from)(error));
        }
    }
    if let Some(edits) = &mut edits
        && let Err(error) = edits.save()
    {
        remove_written(&file);
        return Err(error.into());
    }
    Ok(Loaded { plugin, name, file })
}

/// The pocket.toml changes loading `name` needs (its alias, its config), made
/// in memory: saved only once the plugin file is in place.
fn pocket_toml_edits(
    config: &PocketConfig,
    name: &str,
    declared: &str,
    config_file: Option<&Path>,
) -> Result<Option<PocketToml>, Error> {
    if name == declared && config_file.is_none() {
        return Ok(None);
    }
    let Some(path) = &config.path else {
        return Err(Error::NoPocketToml);
    };
    let mut edits = PocketToml::open(path)?;
    if name != declared {
        edits.set_alias(name, declared)?;
    }
    if let Some(file) = config_file {
        let plugin_config = data_file::read_config(file)?;
        edits
            .set_plugin_config(name, &plugin_config)
            .map_err(|source| Error::ConfigNotStorable {
                file: file.to_path_buf(),
                source,
            })?;
    }
    Ok(Some(edits))
}

/// Removes the plugin file `file` from its plugin directory, with the files
/// its backend reads beside it (`suffixes`, see
/// [`Gate::companion_suffixes`](crate::Gate::companion_suffixes)); running
/// Pockets keep what they loaded.
pub fn unload_file(file: &Path, suffixes: &[&str]) -> Result<(), Error> {
    std::fs::remove_file(file).map_err(io("remove", file))?;
    let name = file.file_stem().unwrap_or_default().to_string_lossy();
    for (_, companion) in companions(&name, file, suffixes) {
        std::fs::remove_file(&companion).map_err(io("remove", &companion))?;
    }
    Ok(())
}

/// Removes from pocket.toml's `[plugins.aliases]` those of `names` that are
/// aliases (of unloaded plugins).
pub fn forget_aliases(config: &PocketConfig, names: &[&str]) -> Result<(), Error> {
    let aliases: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| config.declared_name(name) != *name)
        .collect();
    if let (false, Some(path)) = (aliases.is_empty(), &config.path) {
        let mut edits = PocketToml::open(path)?;
        for alias in aliases {
            edits.remove_alias(alias)?;
        }
        edits.save()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_gate::LuaGate;

    fn plugin(root: &Path) -> PathBuf {
        let path = root.join("libtext.lua");
        let text =
            "return { name = 'text', version = '1.0.0', nodes = { up = { exec = function() return {} end } } }\n";
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_plugin_loads_under_its_alias_with_its_config_recorded_and_unloads_cleanly() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gate = LuaGate::new(root, "");
        let file = plugin(root);
        std::fs::write(root.join("config.yaml"), "label: x\n").unwrap();
        let options = LoadOptions {
            alias: Some("text-v1".into()),
            dir: None,
            config: Some(root.join("config.yaml")),
        };
        let loaded = load(&gate, &file, &options).unwrap();
        assert_eq!(
            (loaded.name.as_str(), loaded.file.clone()),
            ("text-v1", root.join("plugins/text-v1.lua"))
        );
        assert_eq!(std::fs::read(&loaded.file).unwrap(), std::fs::read(&file).unwrap());
        let written: toml::Table = toml::from_str(&std::fs::read_to_string(root.join("pocket.toml")).unwrap()).unwrap();
        assert_eq!(written["plugins"]["aliases"]["text-v1"].as_str(), Some("text"));
        assert_eq!(written["plugins"]["config"]["text-v1"]["label"].as_str(), Some("x"));

        let again = load(&gate, &file, &options).unwrap_err();
        assert!(matches!(again, Error::TargetExists(_)), "{again}");

        // pocket.toml as it is now (with the alias), as a new host reads it.
        let gate = LuaGate::new(root, "[plugins.aliases]\ntext-v1 = \"text\"\n");
        unload_file(&loaded.file, &[]).unwrap();
        forget_aliases(&gate.config, &["text-v1"]).unwrap();
        let written: toml::Table = toml::from_str(&std::fs::read_to_string(root.join("pocket.toml")).unwrap()).unwrap();
        assert!(written["plugins"]["aliases"].get("text-v1").is_none(), "{written}");
        assert_eq!(std::fs::read_dir(root.join("plugins")).unwrap().count(), 0);
    }

    #[test]
    fn a_config_that_cannot_be_recorded_leaves_no_plugin_file() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gate = LuaGate::new(root, "");
        let file = plugin(root);
        std::fs::write(root.join("config.yaml"), "label: null\n").unwrap();
        let options = LoadOptions {
            config: Some(root.join("config.yaml")),
            ..LoadOptions::default()
        };
        let err = load(&gate, &file, &options).unwrap_err();
        assert!(
            crate::chain(&err).contains("TOML has no null"),
            "{}",
            crate::chain(&err)
        );
        assert_eq!(std::fs::read_dir(root.join("plugins")).unwrap().count(), 0);
    }
}
