//! Workflow records and plugin artifacts: what a scheduler publishes so any
//! worker can run a workflow's nodes, and how a worker gets and checks the
//! plugin files it lacks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::PoisonError;
use std::time::Instant;

use pocket_core::{Catalog, Format, Graph, PluginKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::connection::{Cluster, read_object};
use crate::digests::{Artifact, Digests, read_signature, signature_object};
use crate::error::ClusterError;

/// The largest plugin file a worker fetches.
const MAX_ARTIFACT: u64 = 512 * 1024 * 1024;

/// A workflow as the cluster stores it: its source, and the plugins its
/// nodes use, so a worker can build the same graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkflowRecord {
    /// The source's format.
    pub format: Format,
    /// The workflow file's text.
    pub source: String,
    /// The plugins the workflow's nodes use, by registered name.
    pub plugins: BTreeMap<String, Artifact>,
}

impl WorkflowRecord {
    /// The record of `graph`, parsed from `source` in `format`, its plugins
    /// looked up in `catalog`, their files' digests from `digests`.
    fn new(
        (source, format): (&str, Format),
        graph: &Graph,
        catalog: &Catalog,
        digests: &Digests,
    ) -> Result<WorkflowRecord, ClusterError> {
        let mut plugins = BTreeMap::new();
        for node in graph.nodes() {
            let name = node.plugin();
            if plugins.contains_key(name) {
                continue;
            }
            let registered = catalog.plugin(name).ok_or_else(|| ClusterError::Artifact {
                plugin: name.to_string(),
                message: "not registered".into(),
            })?;
            let description = registered.description();
            if description.kind == PluginKind::Process {
                // Its program is a directory of files, which the object
                // store does not carry yet.
                return Err(ClusterError::Artifact {
                    plugin: name.to_string(),
                    message: "a process plugin cannot run on a cluster yet: run the workflow without --cluster".into(),
                });
            }
            let artifact = match (&description.source, description.kind) {
                (Some(path), kind) if kind != PluginKind::Builtin => digests.artifact(name, kind, path)?,
                (_, kind) => Artifact {
                    kind: kind.to_string(),
                    file: None,
                    sha256: None,
                    signature: None,
                },
            };
            plugins.insert(name.to_string(), artifact);
        }
        Ok(WorkflowRecord {
            format,
            source: source.to_string(),
            plugins,
        })
    }

    /// The kind of the plugin `name` (`builtin` when unknown).
    pub(crate) fn kind_of(&self, plugin: &str) -> &str {
        self.plugins.get(plugin).map_or("builtin", |a| a.kind.as_str())
    }
}

impl Cluster {
    /// The record of `graph`, parsed from `text` (source and format), its
    /// plugins looked up in `catalog`.
    pub fn record(
        &self,
        text: (&str, Format),
        graph: &Graph,
        catalog: &Catalog,
    ) -> Result<WorkflowRecord, ClusterError> {
        WorkflowRecord::new(text, graph, catalog, &self.digests)
    }

    /// Publishes `record` and the plugin files it names (from `catalog`'s
    /// sources; each once, by digest); the record's key.
    pub async fn publish_workflow(&self, record: &WorkflowRecord, catalog: &Catalog) -> Result<String, ClusterError> {
        let text = serde_json::to_string(record).map_err(|e| ClusterError::malformed("workflow record", e))?;
        let key = hex::encode(Sha256::digest(text.as_bytes()));
        let fresh = self.settings.retention / 2;
        if self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .is_some_and(|at| at.elapsed() < fresh)
        {
            return Ok(key);
        }
        for (name, artifact) in &record.plugins {
            let Some(sha256) = &artifact.sha256 else { continue };
            let signature = artifact.signature.as_deref().map(signature_object);
            let has_file = self.plugins.info(sha256).await.is_ok();
            let has_signature = match &signature {
                Some(object) => self.plugins.info(object).await.is_ok(),
                None => true,
            };
            if has_file && has_signature {
                continue;
            }
            let source = catalog
                .plugin(name)
                .and_then(|p| p.description().source.clone())
                .ok_or_else(|| ClusterError::Artifact {
                    plugin: name.clone(),
                    message: "its file is no longer known".into(),
                })?;
            if !has_file {
                let bytes = std::fs::read(&source).map_err(|e| ClusterError::Artifact {
                    plugin: name.clone(),
                    message: format!("cannot read {}: {e}", source.display()),
                })?;
                self.publish_object(name, (sha256, sha256), &bytes, &source).await?;
            }
            if let (Some(object), Some(digest), false) = (&signature, &artifact.signature, has_signature) {
                let bytes = read_signature(name, &source)?.unwrap_or_default();
                self.publish_object(name, (object, digest), &bytes, &source).await?;
                tracing::debug!(plugin = name, object, "published a plugin's signature");
            }
        }
        self.workflows
            .put(&key, text.into())
            .await
            .map_err(|e| ClusterError::jetstream("store a workflow record", e))?;
        // Published within half the retention: not again (it outlives that).
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), Instant::now());
        Ok(key)
    }

    /// Stores `bytes` (read for plugin `plugin` from its file `path`, or
    /// its signature) as `object`, if they still have the SHA-256 `digest`
    /// the record names.
    async fn publish_object(
        &self,
        plugin: &str,
        (object, digest): (&str, &str),
        bytes: &[u8],
        path: &Path,
    ) -> Result<(), ClusterError> {
        if hex::encode(Sha256::digest(bytes)) != digest {
            return Err(ClusterError::Artifact {
                plugin: plugin.to_string(),
                message: format!("{} changed while it was being published", path.display()),
            });
        }
        let mut reader = bytes;
        self.plugins
            .put(object, &mut reader)
            .await
            .map(drop)
            .map_err(|e| ClusterError::jetstream(format!("store plugin `{plugin}`"), e))
    }

    /// The workflow record stored under `key`.
    pub async fn workflow(&self, key: &str) -> Result<WorkflowRecord, ClusterError> {
        let bytes = self
            .workflows
            .get(key)
            .await
            .map_err(|e| ClusterError::jetstream("read a workflow record", e))?
            .ok_or_else(|| ClusterError::malformed("workflow record", format!("no workflow {key} in the cluster")))?;
        serde_json::from_slice(&bytes).map_err(|e| ClusterError::malformed("workflow record", e))
    }

    /// The key of the workflow record run `run` started with, if it started here.
    pub async fn workflow_of_run(&self, run: &str) -> Result<Option<String>, ClusterError> {
        let key = self
            .runs
            .get(run)
            .await
            .map_err(|e| ClusterError::jetstream("read a run record", e))?;
        Ok(key.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Fetches the plugin file of `artifact` into `dir` (with its signature,
    /// if it has one) and checks it against its digest; the file's path.
    pub(crate) async fn fetch_plugin(
        &self,
        plugin: &str,
        artifact: &Artifact,
        dir: &Path,
    ) -> Result<PathBuf, ClusterError> {
        let refuse = |message: String| ClusterError::Artifact {
            plugin: plugin.to_string(),
            message,
        };
        let (Some(sha256), Some(file)) = (&artifact.sha256, &artifact.file) else {
            return Err(refuse("it has no file to fetch".into()));
        };
        if !is_plain_file_name(file) || !is_hex_digest(sha256) {
            return Err(refuse(format!("refused a malformed artifact name `{file}` ({sha256})")));
        }
        let bytes = read_object(&self.plugins, sha256, MAX_ARTIFACT).await?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if &actual != sha256 {
            return Err(refuse(format!(
                "the cluster's copy does not match its checksum (expected sha256 {sha256}, got {actual}): refused"
            )));
        }
        let target = dir.join(sha256);
        let path = target.join(file);
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::create_dir_all(&target)
                .and_then(|()| std::fs::write(path, bytes))
                .map_err(|e| refuse(format!("cannot write {}: {e}", path.display())))
        };
        write(&path, &bytes)?;
        let signature_path = pocket_trust::signature_path(&path);
        match &artifact.signature {
            Some(digest) => {
                if !is_hex_digest(digest) {
                    return Err(refuse(format!("refused a malformed signature digest `{digest}`")));
                }
                let object = signature_object(digest);
                let signature = read_object(&self.plugins, &object, pocket_trust::MAX_SIGNATURE_BYTES).await?;
                if hex::encode(Sha256::digest(&signature)) != *digest {
                    return Err(refuse(format!(
                        "the cluster's copy of its signature does not match its checksum ({object}): refused"
                    )));
                }
                write(&signature_path, &signature)?;
            }
            // A signature fetched with an earlier record of the same file
            // does not count for this one.
            None => match std::fs::remove_file(&signature_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(refuse(format!("cannot remove {}: {e}", signature_path.display())));
                }
                _ => {}
            },
        }
        Ok(path)
    }
}

/// 64 hex digits: a SHA-256, and so a safe object and directory name.
fn is_hex_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A name with no directory part: what a fetched file may be called.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_names_cannot_leave_the_cache() {
        for bad in ["", ".", "..", "../x.so", "a/b.lua", "c\\d", "e\0"] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
        assert!(is_plain_file_name("text-tools.so"));
    }
}
