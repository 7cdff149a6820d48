//! WASI preview 1 (`wasi_snapshot_preview1`) for plugins built by WASI
//! toolchains (Go's `wasip1`, Zig, AssemblyScript, Rust's `wasm32-wasip1`):
//! Pocket's own small layer, which gives a guest only what a node needs and
//! what its grants allow. With no grant:
//!
//! - **args** are the plugin's name alone; the **environment** holds the
//!   variables its `env:` grants name (none by default);
//! - **stdin** is empty; **stdout and stderr** go to the plugin's log, one
//!   line at a time, escaped, under its `log` grant and `log_bytes` limit
//!   (a write takes at most [`memory::MAX_WRITE`] bytes, as a pipe would);
//! - **clocks** (real time, monotonic) and **`random_get`** work;
//! - **`proc_exit`** ends the call: code 0 gives a `null` output, any other
//!   code fails the node with it;
//! - **`poll_oneoff`** waits on clocks (a `sleep`), never past the call's
//!   deadline; stdin is always readable (at its end), stdout and stderr
//!   always writable, and any other descriptor answers `EBADF` in its event;
//! - **files**: each directory the plugin's `file:` (read) and
//!   `file_write:` (read and write) grants name is preopened under its own
//!   absolute path, as descriptors 3, 4...; none without a grant. Every
//!   path a guest opens, lists, creates, removes or renames beneath one
//!   goes through pocket-host's one file rule (`PluginHost::open_file` and
//!   its siblings): checked against the grants, never leaving its
//!   directory (`ENOTCAPABLE`), no symlink followed (`ELOOP`), only regular
//!   files and directories (`EACCES`), at most [`MAX_OPEN`] descriptors
//!   (`EMFILE`). Links and symlinks cannot be made or read
//!   (`ENOTCAPABLE`); times, rights, renumbering and allocation are not
//!   supported (`ENOTSUP`);
//! - **sockets** answer `ENOTCAPABLE` (HTTP goes through the `http` host
//!   function and its grants); `proc_raise` answers `ENOSYS`.
//!
//! Fuel, memory and the timeout hold inside these calls as everywhere: only
//! `poll_oneoff` waits, and never past the call's deadline; each call copies
//! at most what the guest's own memory holds (a read or write moves at most
//! [`memory::MAX_WRITE`] bytes), and reads, writes, listings and
//! `random_get` charge the call's fuel for the bytes they move (one unit per
//! 8, as `memory.copy`).

mod calls;
pub(crate) mod errno;
mod files;
mod memory;

use pocket_wasm_abi::Signature;
use pocket_wasm_abi::ValType::{I32, I64};
use wasmer::{Function, FunctionEnv, FunctionType, Imports, Module, Store, Value};

use crate::abi::wasmer_type;
use crate::host_functions::HostEnv;

pub use crate::wasi_descriptors::MAX_OPEN;
pub(crate) use calls::Exit;

/// The import module of WASI preview 1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// How a preview-1 function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Served by Pocket's layer (see the module docs for how).
    Served,
    /// Always refused with this `errno`.
    Refused(i32),
}

/// One preview-1 function: its signature and how Pocket answers it.
#[derive(Debug)]
pub struct WasiFunction {
    /// Name and wasm signature.
    pub signature: Signature,
    /// How Pocket answers it.
    pub answer: Answer,
}

const fn f(name: &'static str, params: &'static [pocket_wasm_abi::ValType], answer: Answer) -> WasiFunction {
    WasiFunction {
        signature: Signature {
            name,
            params,
            results: &[I32],
        },
        answer,
    }
}

const SERVED: Answer = Answer::Served;
const NOSYS: Answer = Answer::Refused(errno::NOSYS);
const NOTSUP: Answer = Answer::Refused(errno::NOTSUP);
const NOTCAPABLE: Answer = Answer::Refused(errno::NOTCAPABLE);

/// Every preview-1 function, in the specification's order.
pub const FUNCTIONS: &[WasiFunction] = &[
    f("args_get", &[I32, I32], SERVED),
    f("args_sizes_get", &[I32, I32], SERVED),
    f("environ_get", &[I32, I32], SERVED),
    f("environ_sizes_get", &[I32, I32], SERVED),
    f("clock_res_get", &[I32, I32], SERVED),
    f("clock_time_get", &[I32, I64, I32], SERVED),
    f("fd_advise", &[I32, I64, I64, I32], SERVED),
    f("fd_allocate", &[I32, I64, I64], NOTSUP),
    f("fd_close", &[I32], SERVED),
    f("fd_datasync", &[I32], SERVED),
    f("fd_fdstat_get", &[I32, I32], SERVED),
    f("fd_fdstat_set_flags", &[I32, I32], SERVED),
    f("fd_fdstat_set_rights", &[I32, I64, I64], NOTSUP),
    f("fd_filestat_get", &[I32, I32], SERVED),
    f("fd_filestat_set_size", &[I32, I64], SERVED),
    f("fd_filestat_set_times", &[I32, I64, I64, I32], NOTSUP),
    f("fd_pread", &[I32, I32, I32, I64, I32], SERVED),
    f("fd_prestat_get", &[I32, I32], SERVED),
    f("fd_prestat_dir_name", &[I32, I32, I32], SERVED),
    f("fd_pwrite", &[I32, I32, I32, I64, I32], SERVED),
    f("fd_read", &[I32, I32, I32, I32], SERVED),
    f("fd_readdir", &[I32, I32, I32, I64, I32], SERVED),
    f("fd_renumber", &[I32, I32], NOTSUP),
    f("fd_seek", &[I32, I64, I32, I32], SERVED),
    f("fd_sync", &[I32], SERVED),
    f("fd_tell", &[I32, I32], SERVED),
    f("fd_write", &[I32, I32, I32, I32], SERVED),
    f("path_create_directory", &[I32, I32, I32], SERVED),
    f("path_filestat_get", &[I32, I32, I32, I32, I32], SERVED),
    f("path_filestat_set_times", &[I32, I32, I32, I32, I64, I64, I32], NOTSUP),
    f("path_link", &[I32, I32, I32, I32, I32, I32, I32], NOTCAPABLE),
    f("path_open", &[I32, I32, I32, I32, I32, I64, I64, I32, I32], SERVED),
    f("path_readlink", &[I32, I32, I32, I32, I32, I32], NOTCAPABLE),
    f("path_remove_directory", &[I32, I32, I32], SERVED),
    f("path_rename", &[I32, I32, I32, I32, I32, I32], SERVED),
    f("path_symlink", &[I32, I32, I32, I32, I32], NOTCAPABLE),
    f("path_unlink_file", &[I32, I32, I32], SERVED),
    f("poll_oneoff", &[I32, I32, I32, I32], SERVED),
    WasiFunction {
        signature: Signature {
            name: "proc_exit",
            params: &[I32],
            results: &[],
        },
        answer: SERVED,
    },
    f("proc_raise", &[I32], NOSYS),
    f("sched_yield", &[], SERVED),
    f("random_get", &[I32, I32], SERVED),
    f("sock_accept", &[I32, I32, I32], NOTCAPABLE),
    f("sock_recv", &[I32, I32, I32, I32, I32, I32], NOTCAPABLE),
    f("sock_send", &[I32, I32, I32, I32, I32], NOTCAPABLE),
    f("sock_shutdown", &[I32, I32], NOTCAPABLE),
];

/// What a module importing the preview-1 functions `imported` gets, for
/// `pocket plugin check`: one line naming them, then one per grant or
/// refusal that bears on them.
pub fn report(imported: &[&str]) -> Vec<String> {
    if imported.is_empty() {
        return Vec::new();
    }
    let any = |prefix: &str| imported.iter().any(|name| name.starts_with(prefix));
    let mut lines = vec![format!("imports WASI preview 1: {}", imported.join(", "))];
    if imported.contains(&"fd_write") {
        lines
            .push("stdout and stderr go to the plugin's log: they need the `log` grant (else they are dropped)".into());
    }
    if any("environ_") {
        lines.push("its environment holds the variables its `env:` grants name (none without one)".into());
    }
    if any("path_") || imported.contains(&"fd_prestat_get") {
        lines.push(
            "files: it sees the directories its `file:` (read) and `file_write:` (read and write) grants name, \
             and nothing else"
                .into(),
        );
    }
    if any("sock_") {
        lines.push(
            "sockets answer ENOTCAPABLE: HTTP goes through the `http_request` host function and `http:` grants".into(),
        );
    }
    lines
}

/// The preview-1 function `name`, if there is one.
pub fn function(name: &str) -> Option<&'static WasiFunction> {
    FUNCTIONS.iter().find(|f| f.signature.name == name)
}

/// Adds the `wasi_snapshot_preview1` functions `module` imports to `imports`,
/// bound to `env` (a module that imports none gets none).
pub(crate) fn add_imports(store: &mut Store, env: &FunctionEnv<HostEnv>, module: &Module, imports: &mut Imports) {
    for import in module.imports() {
        if import.module() != WASI_MODULE {
            continue;
        }
        let name = import.name();
        let Some(function) = function(name) else { continue };
        let bound = match function.answer {
            Answer::Served => calls::served(store, env, name),
            Answer::Refused(code) => Some(refused(store, env, function, code)),
        };
        if let Some(bound) = bound {
            imports.define(WASI_MODULE, name, bound);
        }
    }
}

/// A function that always answers `code`, saying so in the debug log.
fn refused(store: &mut Store, env: &FunctionEnv<HostEnv>, function: &'static WasiFunction, code: i32) -> Function {
    let types = |list: &[pocket_wasm_abi::ValType]| list.iter().map(|&t| wasmer_type(t)).collect::<Vec<_>>();
    let ty = FunctionType::new(types(function.signature.params), types(function.signature.results));
    let name = function.signature.name;
    Function::new_with_env(store, env, ty, move |env, _args| {
        tracing::debug!(
            plugin = env.data().host().plugin(),
            function = name,
            errno = code,
            "WASI call refused"
        );
        Ok(vec![Value::I32(code)])
    })
}

#[cfg(test)]
mod tests;
