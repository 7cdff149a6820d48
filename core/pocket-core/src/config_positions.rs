//! Where each value of a node's `config:` is written in a YAML workflow, so
//! that a config error points at the offending key's line, not the node's.
//!
//! The workflow model reads configs as plain [`Value`](pocket_value::Value)s;
//! this reads the same YAML a second time, keeping only each config value's
//! position under its JSON pointer. Only a config error needs that, so the
//! second reading waits for the first error ([`ConfigPlaces`]): a workflow
//! that validates reads its text once.

use std::sync::{Arc, OnceLock};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::location::Position;

/// Where the node configs of a workflow are written: the YAML text they were
/// read from, read again for positions the first time one is asked for.
/// JSON and TOML workflows (and workflows built in code) have none.
#[derive(Debug, Clone, Default)]
pub struct ConfigPlaces {
    yaml: Option<Arc<str>>,
    read: OnceLock<Vec<ConfigPositions>>,
}

impl ConfigPlaces {
    /// The places of the configs written in `text`, a YAML workflow.
    pub(crate) fn yaml(text: &str) -> ConfigPlaces {
        ConfigPlaces {
            yaml: Some(text.into()),
            read: OnceLock::new(),
        }
    }

    /// Where the value at `pointer` of the `node`-th node's config is written
    /// (or its nearest enclosing value that is known, as
    /// [`ConfigPositions::find`]).
    pub fn find(&self, node: usize, pointer: &str) -> Option<Position> {
        let text = self.yaml.as_deref()?;
        let nodes = self.read.get_or_init(|| read(text).unwrap_or_default());
        nodes.get(node)?.find(pointer)
    }
}

/// A node config's positions: JSON pointer (`""` for the config itself,
/// `/conditions/0/if`) -> where that value is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigPositions(Vec<(String, Position)>);

impl ConfigPositions {
    /// Where the value at `pointer` is written, or its nearest enclosing
    /// value that is known (an error about a missing key points at the
    /// mapping that lacks it).
    pub fn find(&self, pointer: &str) -> Option<Position> {
        let mut pointer = pointer;
        loop {
            if let Some((_, position)) = self.0.iter().find(|(p, _)| p == pointer) {
                return Some(*position);
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }
}

/// Reads the config positions of every node of a YAML workflow, in node
/// order; `None` when the text does not read as a workflow.
fn read(text: &str) -> Option<Vec<ConfigPositions>> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        nodes: Vec<NodeConfig>,
    }
    #[derive(serde::Deserialize)]
    struct NodeConfig {
        #[serde(default)]
        config: Option<Spanned<Tree>>,
    }
    let file: File = serde_saphyr::from_str(text).ok()?;
    Some(
        file.nodes
            .into_iter()
            .map(|node| {
                let mut positions = Vec::new();
                if let Some(config) = node.config {
                    flatten(String::new(), config, &mut positions);
                }
                ConfigPositions(positions)
            })
            .collect(),
    )
}

fn flatten(pointer: String, spanned: Spanned<Tree>, into: &mut Vec<(String, Position)>) {
    let at = spanned.referenced;
    if at.line() > 0 {
        into.push((pointer.clone(), Position::new(at.line(), at.column())));
    }
    match spanned.value {
        Tree::Map(entries) => {
            for (key, value) in entries {
                flatten(format!("{pointer}/{}", escape(&key)), value, into);
            }
        }
        Tree::Seq(items) => {
            for (i, value) in items.into_iter().enumerate() {
                flatten(format!("{pointer}/{i}"), value, into);
            }
        }
        Tree::Leaf => {}
    }
}

/// A JSON pointer segment: `~` as `~0`, `/` as `~1`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A config value's shape, each part with its position.
enum Tree {
    Map(Vec<(String, Spanned<Tree>)>),
    Seq(Vec<Spanned<Tree>>),
    Leaf,
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<KeyText>()? {
            entries.push((key.0, map.next_value()?));
        }
        Ok(Tree::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Leaf)
    }
}

/// A mapping key as text, whatever its YAML type (`1: x` has key `1`).
pub(crate) struct KeyText(pub(crate) String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyText, D::Error> {
        let value = pocket_value::Value::deserialize(deserializer)?;
        Ok(KeyText(match value {
            pocket_value::Value::String(s) => s.to_string(),
            other => other.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_config_value_is_found_by_its_json_pointer() {
        let yaml = "name: t\nnodes:\n  - name: a\n    type: x\n  - name: b\n    type: y\n    config:\n      threshold: -5\n      list:\n        - 1\n        - { deep: true }\n      a/b: 1\n";
        let nodes = read(yaml).unwrap();
        assert_eq!(nodes[0], ConfigPositions::default());
        let at = |pointer: &str| nodes[1].find(pointer).map(|p| p.line);
        assert_eq!(at("/threshold"), Some(8));
        assert_eq!(at("/list/1/deep"), Some(11));
        assert_eq!(at("/a~1b"), Some(12));
        assert_eq!(at("/missing"), at(""), "an unknown key points at the config");
        assert_eq!(at("/list/5"), Some(10), "the list, which starts at its first item");
    }

    #[test]
    fn places_read_the_text_when_first_asked() {
        let places = ConfigPlaces::yaml("nodes:\n  - name: a\n    config:\n      x: 1\n");
        assert!(
            places.read.get().is_none(),
            "nothing is read before a position is needed"
        );
        assert_eq!(places.find(0, "/x").map(|p| p.line), Some(4));
        assert_eq!(places.find(1, "/x"), None, "no such node");
        assert_eq!(ConfigPlaces::default().find(0, "/x"), None, "no text, no positions");
    }
}
