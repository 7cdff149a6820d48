//! [`IsolatedPlugin`]: a native plugin described by, and running in, its own
//! processes; its library is never opened in the host.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{
    Capability, Example, LoadError, NodeDescription, NodeType, OpenedPlugin, Plugin, PluginDescription, PluginKind,
    PluginSource, Policy,
};
use pocket_host::PluginHost;

use super::node::IsolatedNodeType;
use super::process::{ChildCommand, ChildProcess, Ended};
use super::protocol::{Description, FromChild, ToChild};
use super::runtime::Runtime;
use crate::copies::Staged;
use crate::error::IsolationError;

/// Starts the plugin of `source`, its library staged as `library`, in a
/// process of its own (with `command`) and asks it to describe itself,
/// within `policy`'s timeout limit.
pub(crate) fn open(
    source: &PluginSource<'_>,
    library: Staged,
    policy: &Policy,
    command: &ChildCommand,
) -> Result<OpenedIsolated, LoadError> {
    let path = source.path();
    let fail = |error: IsolationError| LoadError::new(path, error);
    let registered = source.name().to_string();
    let mut process = ChildProcess::spawn(command, &library.path, &registered)
        .map_err(|e| fail(IsolationError::Spawn(e.to_string())))?;
    let timeout = policy.limits.timeout;
    let wait = super::process::Wait {
        deadline: Some(std::time::Instant::now() + timeout),
        ..Default::default()
    };
    let described = match process.exchange(&ToChild::Describe, wait, None) {
        Ok(FromChild::Described(description)) => description,
        Ok(FromChild::Refused(reason)) => return Err(fail(IsolationError::Refused(reason))),
        Ok(_) => {
            return Err(fail(IsolationError::Crashed(
                "answered Describe with something else".into(),
            )));
        }
        Err(Ended::Died(how) | Ended::Broke(how)) => return Err(fail(IsolationError::Crashed(how))),
        Err(Ended::TooLarge(len)) => {
            return Err(fail(IsolationError::Crashed(format!(
                "could not be sent its {len}-byte request"
            ))));
        }
        Err(Ended::TimedOut | Ended::Cancelled) => {
            return Err(fail(IsolationError::TimedOut(pocket_core::format_duration(timeout))));
        }
    };
    let description = describe(described, path).map_err(|e| fail(IsolationError::BadDescription(e)))?;
    tracing::debug!(plugin = %description.name, file = %path.display(), "native plugin described by its own process");
    Ok(OpenedIsolated {
        description,
        registered,
        library,
        command: command.clone(),
        process,
    })
}

/// The host's description of what the plugin's process described.
fn describe(described: Description, path: &Path) -> Result<PluginDescription, String> {
    let permissions = Capability::parse_list(&described.permissions).map_err(|e| format!("permissions: {e}"))?;
    let nodes = described
        .node_types
        .into_iter()
        .map(|t| {
            Ok(NodeDescription {
                examples: Example::parse_list(&t.name, serde_json::Value::Array(t.examples))?,
                config_schema: t.config_schema,
                ..NodeDescription::new(t.name, t.description)
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PluginDescription {
        name: described.name,
        version: described.version,
        description: described.description,
        author: described.author,
        kind: PluginKind::Native,
        source: Some(path.to_path_buf()),
        nodes,
        permissions,
    })
}

/// A plugin described by its process, not yet bound to a policy. The
/// process that described it serves its first calls.
pub(crate) struct OpenedIsolated {
    description: PluginDescription,
    registered: String,
    library: Staged,
    command: ChildCommand,
    process: ChildProcess,
}

/// Binding gives the node types the plugin's host (in this process: every
/// host call the plugin's process makes is checked here) and its timeout.
impl OpenedPlugin for OpenedIsolated {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn bind(self: Box<Self>, policy: Policy) -> Result<Arc<dyn Plugin>, LoadError> {
        let OpenedIsolated {
            description,
            registered,
            library,
            command,
            process,
        } = *self;
        let runtime = Arc::new(Runtime::new(
            &description.name,
            registered,
            library,
            command,
            PluginHost::bound(&description.name, &policy),
            policy.limits.timeout,
            process,
        ));
        let node_types = description
            .nodes
            .iter()
            .map(|node| {
                Arc::new(IsolatedNodeType {
                    description: node.clone(),
                    runtime: runtime.clone(),
                }) as Arc<dyn NodeType>
            })
            .collect();
        Ok(Arc::new(IsolatedPlugin {
            description,
            node_types,
        }))
    }
}

/// A native plugin running in processes of its own (`isolation = "process"`).
/// Built by [`crate::NativeLoader`] when the plugin's policy asks for it.
pub struct IsolatedPlugin {
    description: PluginDescription,
    node_types: Vec<Arc<dyn NodeType>>,
}

impl Plugin for IsolatedPlugin {
    fn description(&self) -> &PluginDescription {
        &self.description
    }

    fn node_types(&self) -> Vec<Arc<dyn NodeType>> {
        self.node_types.clone()
    }
}
