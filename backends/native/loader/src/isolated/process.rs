//! [`ChildProcess`]: the host's handle on one plugin process: starting it,
//! one request-reply exchange at a time (answering the plugin's host calls
//! meanwhile) within a deadline, and what to say when it dies.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pocket_core::Abandoned;
use pocket_native_abi::HostObject;
use tokio_util::sync::CancellationToken;

use super::protocol::HostResponse;
use super::protocol::{FromChild, ToChild};
use super::sys;
use pocket_host::frame::{FrameError, read_frame, write_frame};

/// How the host starts a plugin process: a program and its first
/// arguments; the host appends `--library PATH --plugin NAME`. The CLI
/// gives its own executable and its hidden child subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    program: PathBuf,
    args: Vec<OsString>,
}

impl ChildCommand {
    /// `program` with no argument yet.
    pub fn new(program: impl Into<PathBuf>) -> ChildCommand {
        ChildCommand {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// The program.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The same command with `arg` appended.
    pub fn arg(mut self, arg: impl Into<OsString>) -> ChildCommand {
        self.args.push(arg.into());
        self
    }
}

/// How long one wait on the pipe lasts before the host looks at the run's
/// cancellation again.
const SLICE: Duration = Duration::from_millis(50);

/// How long a process that closed its pipe gets to finish exiting before
/// it is killed (so its own exit status, not the kill, is reported).
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// What an exchange waits for, besides the reply.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wait {
    /// The reply must come by then.
    pub deadline: Option<Instant>,
    /// The run, whose cancellation ends the wait.
    pub cancel: Option<CancellationToken>,
    /// Nobody waits for the result any more (see `run_blocking`).
    pub abandoned: Abandoned,
}

impl Wait {
    fn stopped(&self) -> bool {
        self.abandoned.is_set() || self.cancel.as_ref().is_some_and(CancellationToken::is_cancelled)
    }
}

/// Why an exchange with a plugin process ended without a reply. The
/// process is spent after any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The process died (or closed its pipe): what happened to it, e.g.
    /// "was killed by signal 11 (SIGSEGV)".
    Died(String),
    /// It sent something that is not the protocol.
    Broke(String),
    /// The deadline passed.
    TimedOut,
    /// A message for the process was over the frame limit (not sent).
    TooLarge(u64),
    /// The run was cancelled.
    Cancelled,
}

/// A running plugin process.
pub(crate) struct ChildProcess {
    process: Child,
    to_child: BufWriter<ChildStdin>,
    from_child: BufReader<Watched>,
    /// The keys of the nodes this process has prepared.
    pub prepared: HashSet<u64>,
}

impl ChildProcess {
    /// Starts the plugin in `library` in a process of its own.
    pub(crate) fn spawn(command: &ChildCommand, library: &Path, plugin: &str) -> io::Result<ChildProcess> {
        let mut process = Command::new(&command.program)
            .args(&command.args)
            .arg("--library")
            .arg(library)
            .arg("--plugin")
            .arg(plugin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (process.stdin.take(), process.stdout.take()) else {
            let _ = process.kill();
            let _ = process.wait();
            return Err(io::Error::other("the process has no pipes"));
        };
        tracing::debug!(plugin, pid = process.id(), "started a native plugin process");
        Ok(ChildProcess {
            process,
            to_child: BufWriter::new(stdin),
            from_child: BufReader::new(Watched {
                pipe: stdout,
                wait: Wait::default(),
            }),
            prepared: HashSet::new(),
        })
    }

    /// Whether the process still runs (an idle one may have been killed).
    pub(crate) fn is_alive(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// Sends `request` and returns the reply, answering the host calls the
    /// plugin makes meanwhile with `host` (refused when there is none).
    pub(crate) fn exchange(
        &mut self,
        request: &ToChild,
        wait: Wait,
        host: Option<&dyn HostObject>,
    ) -> Result<FromChild, Ended> {
        self.from_child.get_mut().wait = wait;
        self.send(request)?;
        loop {
            match self.receive()? {
                FromChild::Host(call) => {
                    let answer = match host {
                        Some(host) => call.answer(host),
                        None => HostResponse::Failed("host calls are only available during a node call".into()),
                    };
                    self.send(&ToChild::Host(answer))?;
                }
                reply => return Ok(reply),
            }
        }
    }

    fn send(&mut self, message: &ToChild) -> Result<(), Ended> {
        match write_frame(&mut self.to_child, message) {
            Ok(()) => Ok(()),
            // Refused before a byte was written.
            Err(FrameError::TooLarge { len }) => Err(Ended::TooLarge(len)),
            Err(_) => Err(Ended::Died(self.exit())),
        }
    }

    fn receive(&mut self) -> Result<FromChild, Ended> {
        match read_frame(&mut self.from_child) {
            Ok(message) => Ok(message),
            Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::TimedOut => {
                self.kill();
                Err(Ended::TimedOut)
            }
            Err(FrameError::Io(e)) if e.get_ref().is_some_and(|inner| inner.is::<Stopped>()) => {
                self.kill();
                Err(Ended::Cancelled)
            }
            Err(FrameError::Closed | FrameError::Io(_)) => Err(Ended::Died(self.exit())),
            Err(error @ (FrameError::TooLarge { .. } | FrameError::Malformed(_))) => {
                self.kill();
                Err(Ended::Broke(error.to_string()))
            }
        }
    }

    /// What became of a process whose pipe closed: its exit status, once
    /// it has exited (killed after [`EXIT_GRACE`] if it has not).
    fn exit(&mut self) -> String {
        let until = Instant::now() + EXIT_GRACE;
        let status = loop {
            match self.process.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                _ => break None,
            }
        };
        match status {
            Some(status) => describe_exit(status),
            None => {
                self.kill();
                "closed its pipe and was killed".into()
            }
        }
    }

    /// Kills the process and reaps it.
    pub(crate) fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A plugin process never outlives its handle.
impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What an exit status says about a plugin process.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        return match sys::signal_name(signal) {
            Some("SIGABRT") => format!("aborted (signal {signal}, SIGABRT)"),
            Some(name) => format!("was killed by signal {signal} ({name})"),
            None => format!("was killed by signal {signal}"),
        };
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => format!("ended ({status})"),
    }
}

/// The error a wait returns when the run was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("the run was cancelled")]
struct Stopped;

/// The plugin's stdout, read within the current exchange's [`Wait`]: a
/// read past the deadline fails with `TimedOut`, one after cancellation
/// with [`Stopped`].
struct Watched {
    pipe: ChildStdout,
    wait: Wait,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let slice = match self.wait.deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    left.min(SLICE)
                }
                None => SLICE,
            };
            if sys::wait_readable(self.pipe.as_fd(), slice)? {
                return self.pipe.read(buf);
            }
            if self.wait.stopped() {
                return Err(io::Error::other(Stopped));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_as_what_happened() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGSEGV)),
            "was killed by signal 11 (SIGSEGV)"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGABRT)),
            "aborted (signal 6, SIGABRT)"
        );
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exited with code 3");
    }
}
