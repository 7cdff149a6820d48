//! Edits to pocket.toml made by `pocket plugin` commands, in place: its
//! comments, order and layout stay as the operator wrote them.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use pocket_core::Value;
use toml_edit::{DocumentMut, Item, Table};

/// pocket.toml, parsed for editing.
pub struct PocketToml {
    path: PathBuf,
    document: DocumentMut,
}

impl PocketToml {
    /// Opens the pocket.toml at `path`.
    pub fn open(path: &Path) -> anyhow::Result<PocketToml> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let document = text
            .parse::<DocumentMut>()
            .with_context(|| format!("{}: not valid TOML", path.display()))?;
        Ok(PocketToml {
            path: path.to_path_buf(),
            document,
        })
    }

    /// `[plugins.aliases] alias = "declared"`.
    pub fn set_alias(&mut self, alias: &str, declared: &str) -> anyhow::Result<()> {
        self.plugins_table("aliases")?[alias] = toml_edit::value(declared);
        Ok(())
    }

    /// Removes `alias` from `[plugins.aliases]`; whether it was there.
    pub fn remove_alias(&mut self, alias: &str) -> anyhow::Result<bool> {
        Ok(self.plugins_table("aliases")?.remove(alias).is_some())
    }

    /// Replaces `[plugins.config.<plugin>]` with `config`, a mapping.
    pub fn set_plugin_config(&mut self, plugin: &str, config: &Value) -> anyhow::Result<()> {
        let Value::Object(_) = config else {
            bail!("a plugin's config must be a mapping, not {}", config.type_name());
        };
        // TOML has no null: such a key would be lost silently, so refuse it.
        let toml = toml::to_string(config).context("the config cannot be written as TOML (TOML has no null)")?;
        let table = toml
            .parse::<DocumentMut>()
            .context("the config cannot be written as TOML")?
            .as_table()
            .clone();
        let configs = self.plugins_table("config")?;
        configs.set_implicit(true);
        configs[plugin] = Item::Table(table);
        Ok(())
    }

    /// Writes the file back atomically (a temporary file renamed over it).
    pub fn save(&self) -> anyhow::Result<()> {
        let directory = pocket_core::directory_of(&self.path);
        let partial = directory.join(".pocket.toml.partial");
        std::fs::write(&partial, self.document.to_string())
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &self.path).with_context(|| format!("cannot replace {}", self.path.display()))
    }

    /// `[plugins.<section>]`, created when missing.
    fn plugins_table(&mut self, section: &str) -> anyhow::Result<&mut Table> {
        let path = self.path.display().to_string();
        let plugins = self
            .document
            .entry("plugins")
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .with_context(|| format!("{path}: `plugins` is not a table"))?;
        plugins
            .entry(section)
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .with_context(|| format!("{path}: `plugins.{section}` is not a table"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_the_rest_of_the_file_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pocket.toml");
        let original = "# my settings\n[plugins]\ndirectories = [\"p\"]  # where plugins live\n";
        std::fs::write(&path, original).unwrap();
        let mut file = PocketToml::open(&path).unwrap();
        file.set_alias("text-v1", "text").unwrap();
        let config = Value::from_json(r#"{"label": "x", "limits": {"rows": 3}}"#).unwrap();
        file.set_plugin_config("text-v1", &config).unwrap();
        file.save().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with(original), "{written}");
        let parsed: toml::Table = toml::from_str(&written).unwrap();
        assert_eq!(parsed["plugins"]["aliases"]["text-v1"].as_str(), Some("text"));
        assert_eq!(
            parsed["plugins"]["config"]["text-v1"]["limits"]["rows"].as_integer(),
            Some(3)
        );

        let mut file = PocketToml::open(&path).unwrap();
        assert!(file.remove_alias("text-v1").unwrap());
        assert!(!file.remove_alias("text-v1").unwrap());
        let null = Value::from_json(r#"{"a": null}"#).unwrap();
        assert!(file.set_plugin_config("x", &null).is_err());
    }
}
