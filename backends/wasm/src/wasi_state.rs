//! What an instance's WASI functions give and keep: its arguments and
//! environment, its open files and directories, and the unfinished lines of its stdout and stderr, each
//! finished line written to the plugin's log (escaped and cut by
//! `PluginHost::log`, under its `log` grant and `log_bytes` limit).

use pocket_core::Request;
use pocket_host::{LogLevel, MAX_LOG_LINE, PluginHost};

use crate::wasi_descriptors::Descriptors;

/// What one instance's WASI functions give and keep.
#[derive(Debug)]
pub(crate) struct WasiState {
    /// The arguments, each ending in NUL.
    pub(crate) args: Vec<Vec<u8>>,
    /// `NAME=value` for each granted variable, each ending in NUL: read on
    /// the first `environ_*` call (most modules never make one).
    environ: Option<Vec<Vec<u8>>>,
    /// Its descriptors from 3 on: the granted directories are opened on
    /// the first file call (most modules never make one).
    descriptors: Option<Descriptors>,
    /// Unfinished lines of stdout and stderr.
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
}

impl WasiState {
    /// The state of an instance of `host`'s plugin.
    pub(crate) fn new(host: &PluginHost) -> WasiState {
        WasiState {
            args: vec![with_nul(host.plugin().to_string())],
            environ: None,
            descriptors: None,
            stdout: Output::new(LogLevel::Info),
            stderr: Output::new(LogLevel::Warn),
        }
    }

    /// The environment `host`'s plugin may see.
    pub(crate) fn environ(&mut self, host: &PluginHost) -> &[Vec<u8>] {
        self.environ.get_or_insert_with(|| {
            host.granted_environment()
                .into_iter()
                .map(|(name, value)| with_nul(format!("{name}={value}")))
                .collect()
        })
    }

    /// Its descriptors from 3 on (see [`Descriptors`]).
    pub(crate) fn descriptors(&mut self, host: &PluginHost) -> &mut Descriptors {
        self.descriptors
            .get_or_insert_with(|| Descriptors::preopened(host.granted_dirs()))
    }

    /// Logs what is left of unfinished output lines (at the end of a call).
    pub(crate) fn flush(&mut self, host: &PluginHost) {
        self.stdout.flush(host);
        self.stderr.flush(host);
    }
}

/// `text` as WASI hands strings over: its bytes and a NUL.
fn with_nul(text: String) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    bytes.push(0);
    bytes
}

/// One output stream's unfinished line.
#[derive(Debug)]
pub(crate) struct Output {
    level: LogLevel,
    line: Vec<u8>,
    /// The line was cut at [`MAX_LOG_LINE`]: the rest of it is dropped.
    skipping: bool,
}

impl Output {
    /// A stream whose lines are logged at `level`.
    pub(crate) fn new(level: LogLevel) -> Output {
        Output {
            level,
            line: Vec::new(),
            skipping: false,
        }
    }

    /// Takes `bytes`: each finished line goes to `host`'s log, and a line
    /// longer than [`MAX_LOG_LINE`] bytes is logged cut there.
    pub(crate) fn write(&mut self, host: &PluginHost, bytes: &[u8]) {
        for chunk in bytes.split_inclusive(|&b| b == b'\n') {
            let (text, ends) = match chunk.strip_suffix(b"\n") {
                Some(text) => (text, true),
                None => (chunk, false),
            };
            if !self.skipping {
                let room = MAX_LOG_LINE - self.line.len();
                self.line.extend_from_slice(&text[..text.len().min(room)]);
                if self.line.len() == MAX_LOG_LINE {
                    self.line.extend_from_slice(b" [cut]");
                    self.flush(host);
                    self.skipping = true;
                }
            }
            if ends {
                self.flush(host);
                self.skipping = false;
            }
        }
    }

    /// Logs the unfinished line, if any (at the end of a call).
    pub(crate) fn flush(&mut self, host: &PluginHost) {
        if self.line.is_empty() {
            return;
        }
        // Without the `log` grant the line is dropped quietly (a guest that
        // prints would otherwise log a refusal per line); over the rate or
        // `log_bytes`, `log` drops it. The write itself succeeded.
        if host.permissions().refusal(Request::Log).is_none() {
            let _ = host.log(self.level, &String::from_utf8_lossy(&self.line));
        }
        self.line.clear();
    }
}
