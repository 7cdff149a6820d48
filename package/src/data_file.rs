//! Data files a plugin command reads (an input, a plugin's config): TOML
//! (`.toml`) or YAML (anything else; JSON is YAML).

use std::path::{Path, PathBuf};

use pocket_core::Value;

/// A data file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataFileError {
    /// The file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid in its format.
    #[error("{}: not valid {format}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// `TOML` or `YAML`.
        format: &'static str,
        /// Where and why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A plugin's config file holds something other than a mapping.
    #[error("{}: a plugin's config must be a mapping of keys to values", .0.display())]
    NotAMapping(PathBuf),
}

/// Reads the data file `file`: TOML when its name ends in `.toml`, else YAML.
pub fn read(file: &Path) -> Result<Value, DataFileError> {
    let text = std::fs::read_to_string(file).map_err(|source| DataFileError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let invalid = |format, source| DataFileError::Parse {
        path: file.to_path_buf(),
        format,
        source,
    };
    if file.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table = toml::from_str(&text).map_err(|e| invalid("TOML", Box::new(e)))?;
        let json = serde_json::to_value(table).map_err(|e| invalid("TOML", Box::new(e)))?;
        Ok(Value::from(json))
    } else {
        pocket_core::parse_yaml_value(&text).map_err(|e| invalid("YAML", Box::new(e)))
    }
}

/// Reads a plugin's config file ([`read`]): a mapping.
pub fn read_config(file: &Path) -> Result<Value, DataFileError> {
    let value = read(file)?;
    if !matches!(value, Value::Object(_)) {
        return Err(DataFileError::NotAMapping(file.to_path_buf()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_yaml_files_read_to_values_and_a_config_is_a_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("c.toml");
        std::fs::write(&toml, "label = 'x'\n[limits]\nrows = 3\n").unwrap();
        let yaml = dir.path().join("c.yaml");
        std::fs::write(&yaml, "label: x\nlimits: {rows: 3}\n").unwrap();
        assert_eq!(read_config(&toml).unwrap(), read_config(&yaml).unwrap());
        let list = dir.path().join("list.json");
        std::fs::write(&list, "[1, 2]").unwrap();
        assert!(read(&list).is_ok());
        assert!(matches!(read_config(&list), Err(DataFileError::NotAMapping(_))));
        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "a = ").unwrap();
        assert!(crate::chain(&read(&broken).unwrap_err()).contains("broken.toml: not valid TOML"));
    }
}
