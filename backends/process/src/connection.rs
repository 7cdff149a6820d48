//! [`Connection`]: one running plugin process. Requests go to a writer
//! thread (so no caller ever blocks on a pipe the program does not read);
//! a reader thread hands each answer to the request waiting for its id and
//! answers host calls, each on a thread of its own (at most
//! [`MAX_HOST_CALLS`] at once); a third thread logs stderr, one bounded
//! line at a time. When the process ends, for whatever reason, every
//! request still waiting is told why.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStderr, ChildStdout, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use pocket_core::{Request, Value};
use pocket_host::{LogLevel, MAX_LOG_LINE, PluginHost};
use tokio::sync::oneshot;

use crate::host_calls::{self, CallScope};
use crate::jail::{self, Confinement, JailSpec};
use crate::protocol::{Described, ErrorKind, FrameError, FromPlugin, MAX_FRAME, ToPlugin, read_frame, write_frame};

/// The most host calls one process has answered at once.
pub(crate) const MAX_HOST_CALLS: usize = 64;

/// How long a process whose stdout closed gets to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// The answer to a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The plugin's description, and the protocol version it speaks.
    Described(Box<Described>, u32),
    /// A config is usable.
    Prepared,
    /// A call's output.
    Output {
        /// What the node gives.
        output: Value,
        /// The action it chose.
        action: Option<String>,
    },
    /// The plugin reported a failure.
    Failed {
        /// Its message.
        message: String,
        /// Its kind.
        kind: ErrorKind,
    },
    /// The process ended before answering: why.
    Ended(String),
}

struct Pending {
    reply: oneshot::Sender<Reply>,
    scope: Option<Arc<CallScope>>,
}

/// A running plugin process.
pub(crate) struct Connection {
    plugin: Arc<str>,
    /// Who answers its host calls and logs its stderr: the plugin's host
    /// once it is bound (a process that only described itself has none
    /// of its grants).
    host: RwLock<PluginHost>,
    child: Mutex<Option<Child>>,
    confinement: Confinement,
    /// Frames for the writer thread.
    outbox: Mutex<Sender<Vec<u8>>>,
    pending: Mutex<HashMap<u64, Pending>>,
    next_id: AtomicU64,
    /// Why the process is over, once it is.
    ended: Mutex<Option<String>>,
    host_calls: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connection {
    /// Starts `spec`'s program for plugin `plugin`, whose host calls are
    /// answered by `host`.
    pub(crate) fn start(spec: &JailSpec, plugin: Arc<str>, host: PluginHost) -> std::io::Result<Arc<Connection>> {
        let confinement = jail::confinement();
        let mut child = jail::command(spec, confinement)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the process has no pipes"));
        };
        tracing::debug!(
            plugin = &*plugin,
            pid = child.id(),
            ?confinement,
            "started a process plugin"
        );
        let (outbox, frames) = mpsc::channel::<Vec<u8>>();
        let connection = Arc::new(Connection {
            plugin: plugin.clone(),
            host: RwLock::new(host),
            child: Mutex::new(Some(child)),
            confinement,
            outbox: Mutex::new(outbox),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            ended: Mutex::new(None),
            host_calls: AtomicUsize::new(0),
        });
        let writer = Arc::downgrade(&connection);
        spawn_thread(&plugin, "writer", move || {
            for frame in frames {
                if stdin.write_all(&frame).and_then(|()| stdin.flush()).is_err() {
                    if let Some(connection) = writer.upgrade() {
                        connection.kill("its stdin closed");
                    }
                    return;
                }
            }
        })?;
        let reader = connection.clone();
        spawn_thread(&plugin, "reader", move || reader.read_loop(stdout))?;
        let logger = Arc::downgrade(&connection);
        spawn_thread(&plugin, "stderr", move || log_stderr(&logger, stderr))?;
        Ok(connection)
    }

    /// The host that answers its host calls.
    fn host(&self) -> PluginHost {
        self.host.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Hands its host calls and stderr to `host` (the plugin is bound).
    pub(crate) fn bind_host(&self, host: PluginHost) {
        *self.host.write().unwrap_or_else(PoisonError::into_inner) = host;
    }

    /// Why it is over, if it is.
    pub(crate) fn ended(&self) -> Option<String> {
        lock(&self.ended).clone()
    }

    /// Sends the request `make` builds from a fresh id; the receiver gets
    /// its answer (or why none will come). `scope` is what its host calls
    /// run in (a node call's).
    pub(crate) fn request<'a>(
        &self,
        make: impl FnOnce(u64) -> ToPlugin<'a>,
        scope: Option<Arc<CallScope>>,
    ) -> Result<(u64, oneshot::Receiver<Reply>), String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode(&make(id))?;
        let (reply, receiver) = oneshot::channel();
        {
            // Checked with the waiting requests held, as the reader marks
            // the end: no request waits on a process that has ended.
            let mut pending = lock(&self.pending);
            if let Some(why) = self.ended() {
                return Err(why);
            }
            pending.insert(id, Pending { reply, scope });
        }
        self.send_frame(frame);
        Ok((id, receiver))
    }

    /// Waits on this thread, for at most `timeout`, for the answer `reply`
    /// brings (for start-up and validation, which are not async). Past the
    /// time the process is stopped, and the error says it did not `what`
    /// within it.
    pub(crate) fn wait_blocking(
        &self,
        mut reply: oneshot::Receiver<Reply>,
        timeout: Duration,
        what: &str,
    ) -> Result<Reply, String> {
        let until = Instant::now() + timeout;
        loop {
            match reply.try_recv() {
                Ok(answer) => return Ok(answer),
                Err(oneshot::error::TryRecvError::Closed) => return Ok(Reply::Ended("went away".into())),
                Err(oneshot::error::TryRecvError::Empty) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(oneshot::error::TryRecvError::Empty) => {
                    let why = format!("did not {what} within {}", pocket_core::format_duration(timeout));
                    self.kill(&why);
                    return Err(why);
                }
            }
        }
    }

    /// Tells the plugin the host no longer waits for call `id`.
    pub(crate) fn cancel(&self, id: u64) {
        lock(&self.pending).remove(&id);
        if let Ok(frame) = encode(&ToPlugin::Cancel { id }) {
            self.send_frame(frame);
        }
    }

    fn send_frame(&self, frame: Vec<u8>) {
        // A closed outbox means the writer is gone: the process is ending,
        // and the reader will tell every waiting request.
        let _ = lock(&self.outbox).send(frame);
    }

    /// Stops the process (killing everything it started) because of `why`,
    /// which every request still waiting is told.
    pub(crate) fn kill(&self, why: &str) {
        {
            let mut ended = lock(&self.ended);
            if ended.is_none() {
                *ended = Some(why.to_string());
            }
        }
        if let Some(mut child) = lock(&self.child).take() {
            stop(&mut child, self.confinement);
        }
    }

    fn read_loop(self: Arc<Self>, stdout: ChildStdout) {
        let mut reader = BufReader::new(stdout);
        let why = loop {
            match read_frame::<_, FromPlugin>(&mut reader) {
                Ok(message) => self.dispatch(message),
                Err(FrameError::Closed) => break self.exit_status(),
                Err(error @ (FrameError::TooLarge { .. } | FrameError::Malformed(_))) => {
                    let why = format!("broke the protocol ({error}) and was stopped");
                    self.kill(&why);
                    break why;
                }
                Err(FrameError::Io(error)) => break format!("its stdout failed ({error})"),
            }
        };
        // Marked ended while the waiting requests are held: a request
        // either is among them, or sees the end (see `request`).
        let mut pending = lock(&self.pending);
        let why = {
            let mut ended = lock(&self.ended);
            ended.get_or_insert(why).clone()
        };
        tracing::debug!(plugin = &*self.plugin, why, "a process plugin ended");
        for (_, waiting) in pending.drain() {
            let _ = waiting.reply.send(Reply::Ended(why.clone()));
        }
    }

    fn dispatch(self: &Arc<Self>, message: FromPlugin) {
        let (id, reply) = match message {
            FromPlugin::Described { id, protocol, plugin } => (id, Reply::Described(Box::new(plugin), protocol)),
            FromPlugin::Prepared { id } => (id, Reply::Prepared),
            FromPlugin::Result { id, output, action } => (id, Reply::Output { output, action }),
            FromPlugin::Error { id, message, kind } => (id, Reply::Failed { message, kind }),
            FromPlugin::Host {
                id,
                call,
                function,
                args,
            } => return self.host_call(id, call, function, args),
        };
        match lock(&self.pending).remove(&id) {
            Some(pending) => {
                let _ = pending.reply.send(reply);
            }
            // A late answer to a call the host stopped waiting for.
            None => tracing::debug!(plugin = &*self.plugin, id, "an answer to no request in flight"),
        }
    }

    /// Answers host call `id` of call `call` on a thread of its own.
    fn host_call(self: &Arc<Self>, id: u64, call: u64, function: String, args: serde_json::Value) {
        let scope = lock(&self.pending).get(&call).and_then(|p| p.scope.clone());
        let Some(scope) = scope else {
            return self.answer_host(id, Err(format!("no call {call} is in flight")));
        };
        if self.host_calls.fetch_add(1, Ordering::AcqRel) >= MAX_HOST_CALLS {
            self.host_calls.fetch_sub(1, Ordering::AcqRel);
            return self.answer_host(id, Err(format!("more than {MAX_HOST_CALLS} host calls at once")));
        }
        let connection = self.clone();
        let answered = spawn_thread(&self.plugin, "host-call", move || {
            let _entered = scope.runtime.as_ref().map(tokio::runtime::Handle::enter);
            let result = host_calls::answer(&connection.host(), &scope, &function, args);
            connection.answer_host(id, result);
            connection.host_calls.fetch_sub(1, Ordering::AcqRel);
        });
        if answered.is_err() {
            self.host_calls.fetch_sub(1, Ordering::AcqRel);
            self.answer_host(id, Err("the host could not start a thread for the call".into()));
        }
    }

    fn answer_host(&self, id: u64, result: Result<Value, String>) {
        let message = match result {
            Ok(value) => ToPlugin::HostResult {
                id,
                value: Some(value),
                error: None,
            },
            Err(error) => ToPlugin::HostResult {
                id,
                value: None,
                error: Some(error),
            },
        };
        match encode(&message) {
            Ok(frame) => self.send_frame(frame),
            Err(why) => self.answer_host(id, Err(why)),
        }
    }

    /// What became of a process whose stdout closed.
    fn exit_status(&self) -> String {
        let Some(mut child) = lock(&self.child).take() else {
            return "was stopped".into();
        };
        let until = Instant::now() + EXIT_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return describe_exit(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                _ => {
                    stop(&mut child, self.confinement);
                    return "closed its stdout and was killed".into();
                }
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(mut child) = lock(&self.child).take() {
            stop(&mut child, self.confinement);
        }
    }
}

/// Kills `child` and all it started, and reaps it.
fn stop(child: &mut Child, confinement: Confinement) {
    if confinement == Confinement::Limits
        && let Ok(group) = libc::pid_t::try_from(child.id())
    {
        // SAFETY: kill takes plain integers; the group is the child's own
        // (it called setpgid(0, 0)), so nothing else is signalled.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    // In namespaces, killing the start-up process kills the program (its
    // parent-death signal), and with it its PID namespace.
    let _ = child.kill();
    let _ = child.wait();
}

/// One message as a frame; refused past [`MAX_FRAME`].
fn encode(message: &ToPlugin<'_>) -> Result<Vec<u8>, String> {
    let mut frame = Vec::new();
    write_frame(&mut frame, message).map_err(|e| match e {
        FrameError::TooLarge { len } => format!("a message of {len} bytes is over the protocol's {MAX_FRAME}"),
        other => format!("cannot encode a message: {other}"),
    })?;
    Ok(frame)
}

fn spawn_thread(plugin: &str, role: &str, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("{plugin}-{role}"))
        .spawn(body)
        .map(drop)
}

/// What an exit status says about a plugin process.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        // The jail's start-up process passes a signal on as 128 + it.
        (Some(code), _) if code > 128 && code < 128 + 65 => format!("was killed by signal {}", code - 128),
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => format!("ended ({status})"),
    }
}

/// Logs the program's stderr under the plugin's name, one line at a time
/// (a line cut at [`MAX_LOG_LINE`]), with its `log` grant (dropped quietly
/// without it) and within its `log_bytes` limit.
fn log_stderr(connection: &Weak<Connection>, stderr: ChildStderr) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.by_ref().take(MAX_LOG_LINE as u64).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line));
                let Some(host) = connection.upgrade().map(|c| c.host()) else {
                    return;
                };
                if !text.is_empty() && host.permissions().refusal(Request::Log).is_none() {
                    let _ = host.log(LogLevel::Warn, &text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_length_and_refuse_what_is_too_large() {
        let frame = encode(&ToPlugin::Shutdown).unwrap();
        assert_eq!(&frame[..4], &19u32.to_le_bytes());
        assert_eq!(&frame[4..], br#"{"type":"shutdown"}"#.as_slice());
        let huge = Value::from("x".repeat(MAX_FRAME as usize));
        let empty = Value::Null;
        let exec = ToPlugin::Exec {
            id: 1,
            node_type: "t",
            node: "n",
            input: &huge,
            config: &empty,
            plugin_config: &empty,
            attempt: 1,
            timeout_ms: 1,
        };
        assert!(encode(&exec).unwrap_err().contains("over the protocol's"));
    }

    #[test]
    fn exits_read_as_what_happened() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exited with code 3");
        assert_eq!(describe_exit(ExitStatus::from_raw(137 << 8)), "was killed by signal 9");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGSEGV)),
            "was killed by signal 11"
        );
    }
}
