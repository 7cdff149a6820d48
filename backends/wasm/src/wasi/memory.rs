//! Moving data between the host and a WASI guest's memory: the pointers,
//! counts and iovec buffers preview-1 functions take, and the structs they
//! fill in. Every access is bounds-checked by wasmer's memory view; a bad
//! address answers `EFAULT`.

use wasmer::{FunctionEnvMut, MemoryView};

use super::errno::{FAULT, SUCCESS};
use crate::abi::unsigned;
use crate::host_functions::HostEnv;

/// What a preview-1 function is called with.
pub(super) type Env<'a> = FunctionEnvMut<'a, HostEnv>;

/// The most one `fd_write` takes: a larger write is partly done, as on a
/// pipe, and the guest writes the rest with its next call.
pub const MAX_WRITE: usize = 64 * 1024;

/// The most buffers one `fd_write` looks at (POSIX's usual `IOV_MAX`).
pub const MAX_BUFFERS: u32 = 1024;

/// Runs `f` on a view of the guest's memory; `FAULT` without one.
pub(super) fn with_memory(env: &mut Env<'_>, f: impl FnOnce(&MemoryView<'_>, &mut HostEnv) -> i32) -> i32 {
    let (data, store) = env.data_and_store_mut();
    let Some(memory) = data.memory().cloned() else {
        return FAULT;
    };
    let view = memory.view(&store);
    f(&view, data)
}

/// Writes `bytes` at guest address `at` (+ `offset`); false when any of it
/// lies outside memory.
pub(super) fn put(view: &MemoryView<'_>, at: i32, offset: u64, bytes: &[u8]) -> bool {
    u64::from(unsigned(at))
        .checked_add(offset)
        .is_some_and(|start| view.write(start, bytes).is_ok())
}

pub(super) fn put_u32(view: &MemoryView<'_>, at: i32, value: u32) -> bool {
    put(view, at, 0, &value.to_le_bytes())
}

pub(super) fn put_u64(view: &MemoryView<'_>, at: i32, value: u64) -> bool {
    put(view, at, 0, &value.to_le_bytes())
}

pub(super) fn answer(written: bool) -> i32 {
    if written { SUCCESS } else { FAULT }
}

/// `struct fdstat`: filetype u8, flags u16 at 2, rights_base u64 at 8,
/// rights_inheriting u64 at 16.
pub(super) fn fdstat_bytes(filetype: u8, rights: u64, inheriting: u64) -> [u8; 24] {
    let mut stat = [0u8; 24];
    stat[0] = filetype;
    stat[8..16].copy_from_slice(&rights.to_le_bytes());
    stat[16..24].copy_from_slice(&inheriting.to_le_bytes());
    stat
}

/// The buffers of the `count` iovecs at `iovs` (at most [`MAX_BUFFERS`]),
/// as (address, length).
pub(super) fn iovecs(view: &MemoryView<'_>, iovs: i32, count: i32) -> Result<Vec<(u64, u32)>, i32> {
    let count = unsigned(count).min(MAX_BUFFERS);
    let mut bytes = vec![0u8; count as usize * 8];
    view.read(u64::from(unsigned(iovs)), &mut bytes).map_err(|_| FAULT)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|iovec| {
            let word = |at: usize| u32::from_le_bytes([iovec[at], iovec[at + 1], iovec[at + 2], iovec[at + 3]]);
            (u64::from(word(0)), word(4))
        })
        .collect())
}

/// What the iovecs at `iovs` hold, at most [`MAX_WRITE`] bytes (a larger
/// write is partly done, as on a pipe).
pub(super) fn gather(view: &MemoryView<'_>, iovs: i32, count: i32) -> Result<Vec<u8>, i32> {
    let mut bytes = Vec::new();
    for (at, len) in iovecs(view, iovs, count)? {
        let take = (len as usize).min(MAX_WRITE - bytes.len());
        let start = bytes.len();
        bytes.resize(start + take, 0);
        view.read(at, &mut bytes[start..]).map_err(|_| FAULT)?;
        if bytes.len() == MAX_WRITE {
            break;
        }
    }
    Ok(bytes)
}

/// Spreads `bytes` over `buffers`; false when one lies outside memory.
pub(super) fn scatter(view: &MemoryView<'_>, buffers: &[(u64, u32)], mut bytes: &[u8]) -> bool {
    for &(at, len) in buffers {
        if bytes.is_empty() {
            break;
        }
        let (now, rest) = bytes.split_at((len as usize).min(bytes.len()));
        if view.write(at, now).is_err() {
            return false;
        }
        bytes = rest;
    }
    true
}
