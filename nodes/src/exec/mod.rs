//! `exec`: runs a program, never through a shell (unless the program is one).
//!
//! The program runs with `args`, `env` (added to Pocket's environment) and
//! `working_dir` (relative to the workflow file), under a supervisor
//! ([`supervisor`]) that kills every process it started, daemons included,
//! when it exits, on `timeout`, on cancellation of the run, at the node's own
//! time limit, or when Pocket dies. With `allowed_commands`, only those exact
//! commands may run. A non-zero exit is not a failure: the output
//! `{command, args, exit_code, duration, stdout, stderr}` reports it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;
use tokio::io::AsyncReadExt;

use self::supervisor::supervise;
use crate::builtin::{
    Builtin, check_static_duration, config_duration, config_size, format_elapsed, is_template_value, static_string_list,
};

mod supervisor;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The most output captured per stream when `max_output` is not set.
const DEFAULT_MAX_OUTPUT: u64 = 16 * 1024 * 1024;

pub(crate) struct Exec;

impl Builtin for Exec {
    const NAME: &'static str = "exec";
    const DESCRIPTION: &'static str =
        "Runs a program with arguments (no shell): {command, args, exit_code, duration, stdout, stderr}";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "minLength": 1, "description": "The program: a name looked up in PATH, or a path (templates allowed)"},
                "args": {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "default": [], "description": "Its arguments, passed as is (templates allowed)"},
                "timeout": {"type": ["string", "number"], "default": "30s", "description": "Kill the program, and every process it started, after this long"},
                "allowed_commands": {"type": "array", "items": {"type": "string"}, "description": "When set, only these exact commands may run"},
                "env": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}, "description": "Environment variables added to Pocket's"},
                "working_dir": {"type": "string", "description": "The directory to run in, relative to the workflow file; one that comes from a template must stay inside the workflow's directory"},
                "capture_output": {"type": "boolean", "default": true, "description": "Capture stdout and stderr into the output (else they are discarded)"},
                "max_output": {"type": ["string", "integer"], "default": "16MiB", "description": "The most stdout, and the most stderr, captured (`16MiB`, or bytes); more fails the node and kills the program"}
            },
            "required": ["command"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        check_static_duration(setup, "timeout")?;
        let allowed = static_string_list(setup, "allowed_commands")?;
        if let (Some(allowed), Some(command)) = (&allowed, setup.config_value("command"))
            && !is_template_value(command)
        {
            let command = command.as_str().unwrap_or_default();
            if !allowed.iter().any(|a| a == command) {
                return Err(ConfigError::at(
                    "/command",
                    format!("`{command}` is not in `allowed_commands`"),
                ));
            }
        }
        Ok(Arc::new(ExecRun {
            allowed,
            workflow_dir: setup.workflow_dir.map(PathBuf::from),
            templated_dir: setup.config_value("working_dir").is_some_and(is_template_value),
        }))
    }
}

struct ExecRun {
    allowed: Option<Vec<String>>,
    workflow_dir: Option<PathBuf>,
    /// `working_dir` is rendered from the input at run time, so it must not
    /// lead outside the workflow's directory.
    templated_dir: bool,
}

impl Node for ExecRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let request = match self.request(&call.config) {
            Ok(request) => request,
            Err(e) => return Execution::Ready(Err(e)),
        };
        Execution::pending(async move {
            tokio::select! {
                result = request.run() => result.map(NodeOutput::new),
                () = call.run.cancel().cancelled() => Err(NodeError::Cancelled),
            }
        })
    }
}

impl ExecRun {
    /// `dir` resolved against the workflow's directory; when it came from a
    /// template, it must lead to a directory inside that one (symlinks
    /// followed), so an input cannot pick `/` or `../..` to run in.
    fn working_dir(&self, dir: &str) -> Result<PathBuf, NodeError> {
        let base = self.workflow_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let joined = base.join(dir);
        if !self.templated_dir {
            return Ok(joined);
        }
        let outside =
            || NodeError::PermissionDenied(format!("working_dir `{dir}` leads outside the workflow's directory"));
        let (Ok(base), Ok(resolved)) = (base.canonicalize(), joined.canonicalize()) else {
            return Err(NodeError::failed(format!("working_dir `{dir}` does not exist")));
        };
        if resolved.starts_with(&base) {
            Ok(resolved)
        } else {
            Err(outside())
        }
    }

    fn request(&self, config: &Value) -> Result<Request, NodeError> {
        let invalid = NodeError::InvalidConfig;
        let command = match config.get("command") {
            Some(Value::String(s)) if !s.is_empty() => s.to_string(),
            _ => return Err(invalid("`command` must render to a non-empty string".into())),
        };
        if let Some(allowed) = &self.allowed
            && !allowed.contains(&command)
        {
            return Err(NodeError::PermissionDenied(format!(
                "`{command}` is not in `allowed_commands`"
            )));
        }
        let args = match config.get("args") {
            Some(Value::Array(items)) => items.iter().map(Value::to_display_string).collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => return Err(invalid(format!("`args` must be an array, not {}", other.type_name()))),
        };
        let env = match config.get("env") {
            Some(Value::Object(vars)) => vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_display_string()))
                .collect(),
            _ => BTreeMap::new(),
        };
        let working_dir = config
            .get("working_dir")
            .and_then(Value::as_str)
            .map(|dir| self.working_dir(dir))
            .transpose()?;
        Ok(Request {
            command,
            args,
            env,
            working_dir,
            timeout: config_duration(config, "timeout", DEFAULT_TIMEOUT)?,
            capture: config.get("capture_output").and_then(Value::as_bool).unwrap_or(true),
            max_output: config_size(config, "max_output", DEFAULT_MAX_OUTPUT)?,
        })
    }
}

/// One run of a program.
struct Request {
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    working_dir: Option<PathBuf>,
    timeout: Duration,
    capture: bool,
    max_output: u64,
}

impl Request {
    async fn run(self) -> Result<Value, NodeError> {
        let mut command = tokio::process::Command::new(&self.command);
        command
            .args(&self.args)
            .envs(&self.env)
            .stdin(Stdio::null())
            .process_group(0);
        if let Some(dir) = &self.working_dir {
            command.current_dir(dir);
        }
        let output = if self.capture { Stdio::piped } else { Stdio::null };
        command.stdout(output()).stderr(output());
        let cannot_run = |e: std::io::Error| NodeError::failed(format!("cannot run `{}`: {e}", self.command));
        // Dropping the lifeline (timeout, cancellation, or this future
        // dropped) kills the program and everything it started.
        let _lifeline = supervise(&mut command).map_err(cannot_run)?;
        let started = Instant::now();
        let mut child = command.spawn().map_err(cannot_run)?;
        drop(command);
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let max = self.max_output;
        let waited = tokio::time::timeout(self.timeout, async {
            // The first stream over `max_output` ends the wait: dropping the
            // lifeline kills the program, stuck writing to a pipe nobody reads.
            let (out, err) = tokio::try_join!(
                read_capped(stdout.as_mut(), max, "stdout"),
                read_capped(stderr.as_mut(), max, "stderr")
            )?;
            let status = child.wait().await;
            Ok::<_, NodeError>((status, out, err))
        })
        .await;
        let (status, out, err) = match waited {
            Ok(done) => done?,
            Err(_) => {
                tracing::debug!(command = %self.command, timeout = ?self.timeout, "killing the program and what it started");
                return Err(NodeError::Timeout(self.timeout));
            }
        };
        let status = status.map_err(|e| NodeError::failed(format!("waiting for `{}`: {e}", self.command)))?;
        let text = |bytes: Option<Vec<u8>>| {
            bytes.map_or(Value::Null, |b| Value::from(String::from_utf8_lossy(&b).into_owned()))
        };
        Ok(Value::object([
            ("command", Value::from(self.command)),
            ("args", Value::array(self.args.into_iter().map(Value::from))),
            ("exit_code", Value::from(i64::from(status.code().unwrap_or(-1)))),
            ("duration", Value::from(format_elapsed(started.elapsed()))),
            ("stdout", text(out)),
            ("stderr", text(err)),
        ]))
    }
}

/// Everything the program writes to `pipe` (`None` when not captured), or
/// an error as soon as it writes more than `max` bytes.
async fn read_capped(
    pipe: Option<&mut (impl tokio::io::AsyncRead + Unpin)>,
    max: u64,
    stream: &str,
) -> Result<Option<Vec<u8>>, NodeError> {
    let Some(pipe) = pipe else { return Ok(None) };
    let mut bytes = Vec::new();
    if let Err(e) = pipe.take(max.saturating_add(1)).read_to_end(&mut bytes).await {
        tracing::debug!(%e, "reading a pipe of the program failed");
    }
    if bytes.len() as u64 > max {
        return Err(NodeError::failed(format!(
            "the program wrote more than {max} bytes to {stream} (`max_output`); it was killed"
        )));
    }
    Ok(Some(bytes))
}
