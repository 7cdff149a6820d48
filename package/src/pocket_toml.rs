//! Edits to pocket.toml made by `pocket plugin` commands, in place: its
//! comments, order and layout stay as the operator wrote them.

use std::path::{Path, PathBuf};

use pocket_core::Value;
use toml_edit::{DocumentMut, Item, Table};

/// pocket.toml could not be read, edited or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PocketTomlError {
    /// The file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{}: not valid TOML", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: Box<toml_edit::TomlError>,
    },
    /// A key that holds a table holds something else.
    #[error("{}: `{key}` is not a table", .path.display())]
    NotATable {
        /// The file.
        path: PathBuf,
        /// The key (`plugins`, `plugins.aliases`).
        key: String,
    },
    /// A plugin's config is not a mapping.
    #[error("a plugin's config must be a mapping, not {0}")]
    NotAMapping(&'static str),
    /// A plugin's config holds what TOML cannot say.
    #[error("the config cannot be written as TOML (TOML has no null)")]
    NotToml(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The file could not be written or replaced.
    #[error("cannot {action} {}", .path.display())]
    Write {
        /// `write`, `replace`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// pocket.toml, parsed for editing.
pub struct PocketToml {
    path: PathBuf,
    document: DocumentMut,
}

impl PocketToml {
    /// Opens the pocket.toml at `path`.
    pub fn open(path: &Path) -> Result<PocketToml, PocketTomlError> {
        let text = std::fs::read_to_string(path).map_err(|source| PocketTomlError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let document = text.parse::<DocumentMut>().map_err(|source| PocketTomlError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(PocketToml {
            path: path.to_path_buf(),
            document,
        })
    }

    /// `[plugins.aliases] alias = "declared"`.
    pub fn set_alias(&mut self, alias: &str, declared: &str) -> Result<(), PocketTomlError> {
        self.plugins_table("aliases")?[alias] = toml_edit::value(declared);
        Ok(())
    }

    /// Removes `alias` from `[plugins.aliases]`; whether it was there.
    pub fn remove_alias(&mut self, alias: &str) -> Result<bool, PocketTomlError> {
        Ok(self.plugins_table("aliases")?.remove(alias).is_some())
    }

    /// Replaces `[plugins.config.<plugin>]` with `config`, a mapping.
    pub fn set_plugin_config(&mut self, plugin: &str, config: &Value) -> Result<(), PocketTomlError> {
        let Value::Object(_) = config else {
            return Err(PocketTomlError::NotAMapping(config.type_name()));
        };
        // TOML has no null: such a key would be lost silently, so refuse it.
        let toml = toml::to_string(config).map_err(|e| PocketTomlError::NotToml(Box::new(e)))?;
        let table = toml
            .parse::<DocumentMut>()
            .map_err(|e| PocketTomlError::NotToml(Box::new(e)))?
            .as_table()
            .clone();
        let configs = self.plugins_table("config")?;
        configs.set_implicit(true);
        configs[plugin] = Item::Table(table);
        Ok(())
    }

    /// Writes the file back atomically (a temporary file renamed over it).
    pub fn save(&self) -> Result<(), PocketTomlError> {
        let directory = pocket_core::directory_of(&self.path);
        let partial = directory.join(".pocket.toml.partial");
        std::fs::write(&partial, self.document.to_string()).map_err(|source| PocketTomlError::Write {
            action: "write",
            path: partial.clone(),
            source,
        })?;
        std::fs::rename(&partial, &self.path).map_err(|source| PocketTomlError::Write {
            action: "replace",
            path: self.path.clone(),
            source,
        })
    }

    /// `[plugins.<section>]`, created when missing.
    fn plugins_table(&mut self, section: &str) -> Result<&mut Table, PocketTomlError> {
        let not_a_table = |key: String| PocketTomlError::NotATable {
            path: self.path.clone(),
            key,
        };
        let plugins = self
            .document
            .entry("plugins")
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .ok_or_else(|| not_a_table("plugins".into()))?;
        plugins
            .entry(section)
            .or_insert_with(toml_edit::table)
            .as_table_mut()
            .ok_or_else(|| not_a_table(format!("plugins.{section}")))
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
