//! The manifest beside an Extism module, `NAME.extism.toml`: which of its
//! exports are node types and how they are described. Optional: without
//! it, every exported `() -> i32` function not starting with `_` is a node
//! type, with no description, schema or examples.
//!
//! The manifest only describes. It cannot change what runs (a node type is
//! always the export of the same name), nor widen what a plugin may do:
//! its `permissions` are what the plugin declares, and pocket.toml's grants
//! still decide. Without `permissions`, a module importing a `log_*`
//! function declares `log`; HTTP needs its `http:<host>` declared here.
//!
//! ```toml
//! version = "1.0.0"
//! description = "Counts vowels"
//! permissions = ["log", "http:api.example.com"]
//!
//! [nodes.count_vowels]
//! description = "Counts the vowels of a text"
//! input = "text"                # a string input as bare text (default: JSON)
//! config_schema = { type = "object", properties = { vowels = { type = "string" } } }
//! examples = [{ input = "hello", output = { count = 2 } }]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use pocket_wasm_abi::{Description, NodeDescription};
use wasmer::Module;

use super::{EXTISM_MODULE, InputMode, is_plugin_function};
use crate::error::ModuleError;

/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 256 * 1024;

/// What a module's manifest file is named after the module's own name.
pub const MANIFEST_SUFFIX: &str = ".extism.toml";

/// The manifest file of the module at `module`: `NAME.extism.toml` beside
/// `NAME.wasm` (beside the file a symbolic link leads to, for an installed
/// plugin's link).
pub fn manifest_path(module: &Path) -> PathBuf {
    let module = std::fs::canonicalize(module).unwrap_or_else(|_| module.to_path_buf());
    let stem = module.file_stem().unwrap_or_default().to_string_lossy();
    module.with_file_name(format!("{stem}{MANIFEST_SUFFIX}"))
}

/// What the manifest file holds.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    author: String,
    permissions: Option<Vec<String>>,
    #[serde(default)]
    nodes: BTreeMap<String, NodeEntry>,
}

/// One node type in the manifest, under its export's name.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    #[serde(default)]
    description: String,
    #[serde(default)]
    input: InputMode,
    config_schema: Option<serde_json::Value>,
    #[serde(default)]
    examples: Vec<serde_json::Value>,
}

/// An Extism module described: its description (as a Pocket module's
/// `pocket_describe` would give it) and how each node type takes its input.
pub(crate) struct Described {
    pub description: Description,
    pub inputs: HashMap<String, InputMode>,
}

/// Describes the Extism module `module`, loaded from `path` as plugin
/// `name`, from the manifest beside it (if any) and its exports.
pub(crate) fn describe(module: &Module, path: &Path, name: &str) -> Result<Described, ModuleError> {
    let manifest_file = manifest_path(path);
    let invalid = |message: String| ModuleError::ExtismManifest {
        path: manifest_file.clone(),
        message,
    };
    let manifest = read(&manifest_file).map_err(invalid)?;
    let functions: Vec<String> = module
        .exports()
        .filter(|export| is_plugin_function(export.name(), export.ty()))
        .map(|export| export.name().to_string())
        .collect();
    let mut nodes = Vec::new();
    let mut inputs = HashMap::new();
    if manifest.nodes.is_empty() {
        if functions.is_empty() {
            return Err(ModuleError::Export {
                name: "(plugin functions)".into(),
                problem: "are missing: an Extism plugin exports functions of type () -> i32".into(),
            });
        }
        for function in functions {
            inputs.insert(function.clone(), InputMode::Json);
            nodes.push(node(function, NodeEntry::default()));
        }
    } else {
        for (export, entry) in manifest.nodes {
            if !functions.contains(&export) {
                return Err(invalid(format!(
                    "[nodes.{export}]: the module exports no function `{export}` of type () -> i32 (it exports: {})",
                    if functions.is_empty() {
                        "none".to_string()
                    } else {
                        functions.join(", ")
                    }
                )));
            }
            inputs.insert(export.clone(), entry.input);
            nodes.push(node(export, entry));
        }
    }
    let logs = module
        .imports()
        .any(|i| i.module() == EXTISM_MODULE && i.name().starts_with("log_"));
    let description = Description {
        name: manifest.name.unwrap_or_else(|| name.to_string()),
        version: manifest.version.unwrap_or_else(|| "0.0.0".into()),
        description: manifest.description,
        author: manifest.author,
        permissions: manifest
            .permissions
            .unwrap_or_else(|| if logs { vec!["log".into()] } else { Vec::new() }),
        nodes,
    };
    Ok(Described { description, inputs })
}

fn node(export: String, entry: NodeEntry) -> NodeDescription {
    NodeDescription {
        node_type: export,
        description: entry.description,
        config_schema: entry.config_schema,
        examples: entry.examples,
    }
}

/// The manifest at `path`; the defaults when there is none.
fn read(path: &Path) -> Result<Manifest, String> {
    let text = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
        Err(e) => return Err(e.to_string()),
        Ok(meta) if meta.len() > MAX_MANIFEST_BYTES => {
            return Err(format!(
                "{} bytes; a manifest may have at most {MAX_MANIFEST_BYTES}",
                meta.len()
            ));
        }
        Ok(_) => std::fs::read_to_string(path).map_err(|e| e.to_string())?,
    };
    toml::from_str(&text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_strict_about_what_they_say() {
        let ok: Manifest = toml::from_str(
            r#"
            version = "1.2.0"
            permissions = ["log"]
            [nodes.greet]
            input = "text"
            examples = [{ input = "x", output = "y" }]
            "#,
        )
        .unwrap();
        assert_eq!(ok.nodes["greet"].input, InputMode::Text);
        assert!(
            toml::from_str::<Manifest>("colour = 'red'").is_err(),
            "unknown keys are refused"
        );
        assert!(toml::from_str::<Manifest>("[nodes.a]\ninput = 'xml'").is_err());
    }
}
