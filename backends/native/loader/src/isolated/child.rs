//! The plugin's side: [`serve`] runs in the child `pocket` process. It
//! loads the library with the in-process loader and answers the host's
//! requests on stdin/stdout until the host closes the pipe.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RBox, RErr, ROk, RResult, RStr};
use pocket_native_abi::{
    HostObject_TO, NodeObject_TO, NodeTypeDescriptor, NodeTypeObject_TO, PluginDescriptor, RError, RErrorKind, ROutput,
};
use pocket_value::Value;

use super::host_calls::{ForwardingHost, Pipe};
use super::protocol::{Description, Failure, FailureKind, FromChild, NodeTypeInfo, Outcome, ToChild};
use super::sys;
use crate::library::{Panics, open};
use pocket_host::frame::{FrameError, read_frame, write_frame};

/// The plugin's process could not go on serving the host.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// The pipe to the host failed, or the host sent something unreadable.
    #[error("native plugin process for `{plugin}`: {error}")]
    Pipe {
        /// The plugin.
        plugin: String,
        /// What went wrong.
        #[source]
        error: FrameError,
    },
    /// Setting the process up failed.
    #[error("native plugin process for `{plugin}`: cannot set up its pipe: {error}")]
    Setup {
        /// The plugin.
        plugin: String,
        /// The system's error.
        #[source]
        error: std::io::Error,
    },
}

/// Serves the plugin in `library` (registered as `plugin`) to the host on
/// the other end of stdin and stdout, until the host closes stdin. Plugin
/// code that prints to stdout prints to stderr instead; core dumps are off;
/// if the host goes away while plugin code runs (an endless loop), the
/// process ends anyway.
///
/// `library` is the host's private copy of the bytes its load gate read and
/// verified (signature rule included), not the plugin file itself.
pub fn serve(library: &Path, plugin: &str) -> Result<(), ChildError> {
    sys::disable_core_dumps();
    let frames = sys::take_stdout().map_err(|error| ChildError::Setup {
        plugin: plugin.to_string(),
        error,
    })?;
    let stdin = std::io::stdin();
    end_when_the_host_goes(&stdin);
    let pipe = RefCell::new(Pipe {
        input: BufReader::new(stdin),
        output: BufWriter::new(File::from(frames)),
    });
    let fail = |error| ChildError::Pipe {
        plugin: plugin.to_string(),
        error,
    };
    let descriptor = match open(library, Panics::MayAbort) {
        Ok(descriptor) => descriptor,
        Err(reason) => {
            tracing::debug!(plugin, %reason, "library refused in the plugin's process");
            return write_frame(&mut pipe.borrow_mut().output, &FromChild::Refused(reason.to_string())).map_err(fail);
        }
    };
    let mut plugin_state = Served::new(descriptor);
    loop {
        let request = match read_frame::<_, ToChild>(&mut pipe.borrow_mut().input) {
            Ok(request) => request,
            Err(FrameError::Closed) => return Ok(()),
            Err(error) => return Err(fail(error)),
        };
        let reply = plugin_state.answer(request, &pipe);
        write_frame(&mut pipe.borrow_mut().output, &reply).map_err(fail)?;
    }
}

/// Ends the process as soon as the host closes its end of stdin (the host
/// exited, or dropped this process), even while plugin code runs: a thread
/// waits for the hang-up. (`PR_SET_PDEATHSIG` would be tied to the host
/// *thread* that spawned the process, and the host spawns from tokio's
/// blocking threads, which come and go.)
fn end_when_the_host_goes(stdin: &std::io::Stdin) {
    use std::os::fd::AsFd;
    let Ok(watched) = stdin.as_fd().try_clone_to_owned() else {
        return;
    };
    let spawned = std::thread::Builder::new().name("host-watch".into()).spawn(move || {
        sys::wait_for_hangup(watched.as_fd());
        sys::exit_now(0);
    });
    if let Err(error) = spawned {
        tracing::debug!(%error, "cannot watch for the host going away");
    }
}

/// The loaded plugin, its node types and the nodes prepared so far.
struct Served {
    description: Option<Description>,
    node_types: HashMap<String, NodeTypeObject_TO<'static, RBox<()>>>,
    nodes: HashMap<u64, NodeObject_TO<'static, RBox<()>>>,
}

impl Served {
    fn new(descriptor: PluginDescriptor) -> Served {
        let mut node_types = HashMap::new();
        let infos = descriptor
            .node_types
            .into_iter()
            .map(|d: NodeTypeDescriptor| {
                let info = NodeTypeInfo {
                    name: d.name.into_string(),
                    description: d.description.into_string(),
                    config_schema: d.config_schema.into_option().map(to_json),
                    examples: d.examples.into_iter().map(to_json).collect(),
                };
                node_types.insert(info.name.clone(), d.node_type);
                info
            })
            .collect();
        Served {
            description: Some(Description {
                name: descriptor.name.into_string(),
                version: descriptor.version.into_string(),
                description: descriptor.description.into_string(),
                author: descriptor.author.into_string(),
                permissions: descriptor
                    .permissions
                    .into_iter()
                    .map(abi_stable::std_types::RString::into_string)
                    .collect(),
                node_types: infos,
            }),
            node_types,
            nodes: HashMap::new(),
        }
    }

    /// The reply to one request.
    fn answer<R: Read, W: Write>(&mut self, request: ToChild, pipe: &RefCell<Pipe<R, W>>) -> FromChild {
        match request {
            ToChild::Describe => match self.description.take() {
                Some(description) => FromChild::Described(description),
                None => FromChild::Refused("the plugin was described already".into()),
            },
            ToChild::Prepare {
                key,
                node_type,
                node,
                config,
                plugin_config,
            } => FromChild::Prepared(self.prepare(key, &node_type, &node, &config, &plugin_config)),
            ToChild::Call { key, input, config } => FromChild::Done(self.call(key, &input, config.as_ref(), pipe)),
            ToChild::Host(_) => FromChild::Refused("a host-call answer came with no host call pending".into()),
        }
    }

    fn prepare(
        &mut self,
        key: u64,
        node_type: &str,
        node: &str,
        config: &Value,
        plugin: &Value,
    ) -> Result<(), Failure> {
        let object = self.node_types.get(node_type).ok_or_else(|| Failure {
            kind: FailureKind::InvalidConfig,
            message: format!("the plugin has no node type `{node_type}`"),
        })?;
        match object.prepare(RStr::from_str(node), config.clone(), plugin.clone()) {
            ROk(prepared) => {
                self.nodes.insert(key, prepared);
                Ok(())
            }
            RErr(error) => Err(failure(error)),
        }
    }

    fn call<R: Read, W: Write>(
        &self,
        key: u64,
        input: &Value,
        config: Option<&Value>,
        pipe: &RefCell<Pipe<R, W>>,
    ) -> Result<Outcome, Failure> {
        let node = self.nodes.get(&key).ok_or_else(|| Failure {
            kind: FailureKind::Failed,
            message: format!("no node prepared under key {key}"),
        })?;
        let host = ForwardingHost { pipe };
        let object = HostObject_TO::from_ptr(RRef::new(&host), TD_Opaque);
        let result: RResult<ROutput, RError> = node.exec(input.clone(), config.cloned().into(), object);
        match result {
            ROk(output) => Ok(Outcome {
                output: output.output,
                action: output
                    .action
                    .into_option()
                    .map(abi_stable::std_types::RString::into_string),
            }),
            RErr(error) => Err(failure(error)),
        }
    }
}

fn to_json(value: Value) -> serde_json::Value {
    serde_json::Value::from(&value)
}

fn failure(error: RError) -> Failure {
    let kind = match error.kind() {
        RErrorKind::InvalidInput => FailureKind::InvalidInput,
        RErrorKind::InvalidConfig => FailureKind::InvalidConfig,
        RErrorKind::Panicked => FailureKind::Panicked,
        _ => FailureKind::Failed,
    };
    Failure {
        kind,
        message: error.message.into_string(),
    }
}
