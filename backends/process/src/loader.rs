//! [`ProcessLoader`]: opens a process plugin's directory through its
//! `pocket-plugin.toml`. Opening starts the program once, with no
//! capability and no granted variable, to ask for its description; that
//! process is stopped, and binding the plugin to its policy makes a
//! supervisor that starts it again, with its grants, on first use.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{
    Capability, Example, Limits, LoadError, NodeDescription, NodeType, OpenedPlugin, Permissions, Plugin,
    PluginDescription, PluginKind, PluginLoader, PluginSource, Policy,
};
use pocket_host::PluginHost;
use tokio::sync::Semaphore;

use crate::connection::Connection;
use crate::jail::{self, Granted, JailSpec};
use crate::manifest::{MANIFEST, ProcessManifest};
use crate::plugin::{ProcessNodeType, ProcessPlugin, Runtime};
use crate::protocol::Described;
use crate::supervisor::{Supervisor, start};

/// Loads process plugins: a directory's `pocket-plugin.toml` whose `kind`
/// is `process`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessLoader;

impl ProcessLoader {
    /// A loader.
    pub fn new() -> ProcessLoader {
        ProcessLoader
    }
}

impl PluginLoader for ProcessLoader {
    fn kind(&self) -> PluginKind {
        PluginKind::Process
    }

    fn handles(&self, path: &Path) -> bool {
        path.file_name().is_some_and(|name| name == MANIFEST) && ProcessManifest::is_process(path)
    }

    fn open(&self, source: &PluginSource<'_>, _limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let path = source.path();
        let refuse = |why: String| LoadError::new(path, why);
        if source.signer().is_some() {
            return Err(refuse(
                "a process plugin cannot be loaded signed yet: a signature over pocket-plugin.toml alone would not \
                 cover the program it starts (signatures over a plugin's whole directory are to come)"
                    .into(),
            ));
        }
        let text = std::str::from_utf8(source.bytes()).map_err(|_| refuse(format!("{MANIFEST} is not UTF-8")))?;
        let manifest = ProcessManifest::parse(text).map_err(|e| refuse(e.to_string()))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .canonicalize()
            .map_err(|e| refuse(format!("its directory cannot be read: {e}")))?;
        let spec = JailSpec {
            program: manifest.program(&dir),
            dir,
            args: manifest.args.clone(),
            env: Vec::new(),
            memory: manifest.resources.memory,
            granted: Vec::new(),
        };
        let name: Arc<str> = source.name().into();
        let nobody = PluginHost::new(name.clone(), Permissions::new(Vec::new()));
        let (connection, described) = start(&spec, &name, &nobody, manifest.resources.start_timeout)
            .map_err(|why| refuse(format!("process plugin `{name}`: its program {why}")))?;
        let description = match describe(*described, path) {
            Ok(description) => description,
            Err(why) => {
                connection.kill("its description was refused");
                return Err(refuse(why));
            }
        };
        Ok(Box::new(Opened {
            description,
            manifest,
            spec,
            connection: Some(connection),
        }))
    }
}

/// The description a program gave, in the shape every kind shares.
fn describe(described: Described, path: &Path) -> Result<PluginDescription, String> {
    let permissions = Capability::parse_list(&described.permissions).map_err(|e| format!("its permissions: {e}"))?;
    let mut nodes = Vec::with_capacity(described.nodes.len());
    for node in described.nodes {
        let examples = Example::parse_list(&node.node_type, serde_json::Value::Array(node.examples))?;
        nodes.push(NodeDescription {
            node_type: node.node_type,
            description: node.description,
            config_schema: node.config_schema,
            examples,
        });
    }
    if nodes.is_empty() {
        return Err("its program describes no node type".into());
    }
    Ok(PluginDescription {
        name: described.name,
        version: described.version,
        description: described.description,
        author: described.author,
        kind: PluginKind::Process,
        source: Some(path.to_path_buf()),
        nodes,
        permissions,
    })
}

/// A process plugin described, not yet bound.
struct Opened {
    description: PluginDescription,
    manifest: ProcessManifest,
    spec: JailSpec,
    /// The process that described it: kept for the calls when its
    /// environment would not change (no `env:` grant), else stopped.
    connection: Option<Arc<Connection>>,
}

/// A plugin opened and never bound (`plugin check`, a refused name) leaves
/// no process behind.
impl Drop for Opened {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            connection.kill("the plugin was not bound");
        }
    }
}

impl OpenedPlugin for Opened {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(mut self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        let describing = self.connection.take();
        let description = std::mem::replace(
            &mut self.description,
            PluginDescription::new("", PluginKind::Process, &[]),
        );
        let resources = self.manifest.resources;
        let mut spec = self.spec.clone();
        let name: Arc<str> = description.name.as_str().into();
        let host = PluginHost::bound(&name, &policy);
        spec.env = host.granted_environment();
        spec.granted = host
            .whole_dirs()
            .into_iter()
            .filter(|(path, _)| {
                // `file:*` (the Go engine's `write_files`) would bind the
                // host's whole filesystem over the jail's own root.
                let everything = path == "/";
                if everything {
                    tracing::warn!(
                        plugin = &*name,
                        "a grant of every file is not given to a process plugin: grant the directories it needs"
                    );
                }
                !everything
            })
            .map(|(path, write)| Granted {
                path: path.into(),
                write,
            })
            .collect();
        let supervisor = Supervisor::new(name.clone(), spec.clone(), host.clone(), resources.start_timeout);
        // The process that described the plugin serves its calls, unless it
        // must start again with the variables and directories its grants name.
        if let Some(connection) = describing {
            if spec.env.is_empty() && spec.granted.is_empty() && connection.ended().is_none() {
                connection.bind_host(host.clone());
                supervisor.adopt(connection);
            } else {
                connection.kill("restarted with its granted environment");
            }
        }
        let runtime = Arc::new(Runtime {
            supervisor,
            name,
            host,
            in_flight: Semaphore::new(resources.max_in_flight),
            call_timeout: resources.call_timeout.min(policy.limits.timeout),
            confinement: jail::confinement(),
        });
        let node_types: Vec<Arc<dyn NodeType>> = description
            .nodes
            .iter()
            .map(|node| {
                Arc::new(ProcessNodeType {
                    description: node.clone(),
                    runtime: runtime.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        Ok(Arc::new(ProcessPlugin {
            description,
            node_types,
            runtime,
        }))
    }
}
