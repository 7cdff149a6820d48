//! Reading what a module says about itself through `pocket_describe`: a
//! [`Description`] (from `pocket-wasm-abi`), checked.

use std::collections::HashSet;

use pocket_core::MAX_NODE_TYPES;
use pocket_wasm_abi::Description;

use crate::error::ModuleError;

/// Parses and checks the JSON `pocket_describe` returned.
pub(crate) fn parse_description(json: &[u8]) -> Result<Description, ModuleError> {
    let invalid = |m: String| ModuleError::Manifest(m);
    let manifest: Description = serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?;
    if manifest.name.trim().is_empty() {
        return Err(invalid("`name` is empty".into()));
    }
    if manifest.nodes.is_empty() {
        return Err(invalid("`nodes` is empty: the plugin provides no node type".into()));
    }
    if manifest.nodes.len() > MAX_NODE_TYPES {
        return Err(invalid(format!(
            "`nodes` lists {} node types; at most {MAX_NODE_TYPES} are allowed",
            manifest.nodes.len()
        )));
    }
    let mut seen = HashSet::with_capacity(manifest.nodes.len());
    for (i, node) in manifest.nodes.iter().enumerate() {
        if node.node_type.trim().is_empty() {
            return Err(invalid(format!("nodes[{i}]: `type` is empty")));
        }
        if !seen.insert(node.node_type.as_str()) {
            return Err(invalid(format!("node type `{}` is listed twice", node.node_type)));
        }
        if node.config_schema.as_ref().is_some_and(|s| !s.is_object()) {
            return Err(invalid(format!(
                "node type `{}`: config_schema must be an object",
                node.node_type
            )));
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_need_a_name_and_distinct_nodes() {
        let ok = parse_description(br#"{"name":"t","nodes":[{"type":"a"}]}"#).unwrap();
        assert_eq!(ok.version, "0.0.0");
        assert!(parse_description(br#"{"name":"","nodes":[{"type":"a"}]}"#).is_err());
        assert!(parse_description(br#"{"name":"t","nodes":[]}"#).is_err());
        assert!(parse_description(br#"{"name":"t","nodes":[{"type":"a"},{"type":"a"}]}"#).is_err());
        assert!(parse_description(b"not json").is_err());
    }

    #[test]
    fn a_manifest_with_too_many_node_types_is_refused_quickly() {
        let nodes: Vec<String> = (0..100_000).map(|i| format!(r#"{{"type":"t{i}"}}"#)).collect();
        let json = format!(r#"{{"name":"t","nodes":[{}]}}"#, nodes.join(","));
        let err = parse_description(json.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("100000 node types") && err.contains("at most 1000"),
            "{err}"
        );
    }
}
