//! The preview-1 functions Pocket's layer serves (see the module docs for
//! what each gives); every other one is refused by `super::refused`.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wasmer::{Function, FunctionEnv, MemoryView, RuntimeError, Store};

use super::errno::{BADF, FAULT, INVAL, NOTSUP, SPIPE, SUCCESS};
use super::files;
use super::memory::{Env, MAX_WRITE, answer, fdstat_bytes, gather, put, put_u32, put_u64, with_memory};
use crate::abi::unsigned;
use crate::host_functions::{HostEnv, charge};

/// A guest's `proc_exit`: ends the call with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plugin called proc_exit({})", self.0)
    }
}

impl std::error::Error for Exit {}

/// The function Pocket serves as `name`, bound to `env`; `None` for a
/// function it refuses.
pub(crate) fn served(store: &mut Store, env: &FunctionEnv<HostEnv>, name: &str) -> Option<Function> {
    Some(match name {
        "args_get" => Function::new_typed_with_env(store, env, args_get),
        "args_sizes_get" => Function::new_typed_with_env(store, env, args_sizes_get),
        "environ_get" => Function::new_typed_with_env(store, env, environ_get),
        "environ_sizes_get" => Function::new_typed_with_env(store, env, environ_sizes_get),
        "clock_res_get" => Function::new_typed_with_env(store, env, clock_res_get),
        "clock_time_get" => Function::new_typed_with_env(store, env, clock_time_get),
        "fd_advise" => Function::new_typed_with_env(store, env, fd_advise),
        "fd_close" => Function::new_typed_with_env(store, env, fd_close),
        "fd_datasync" => Function::new_typed_with_env(store, env, fd_datasync),
        "fd_fdstat_get" => Function::new_typed_with_env(store, env, fd_fdstat_get),
        "fd_fdstat_set_flags" => Function::new_typed_with_env(store, env, fd_fdstat_set_flags),
        "fd_filestat_get" => Function::new_typed_with_env(store, env, fd_filestat_get),
        "fd_filestat_set_size" => Function::new_typed_with_env(store, env, files::fd_filestat_set_size),
        "fd_pread" => Function::new_typed_with_env(store, env, fd_pread),
        "fd_prestat_get" => Function::new_typed_with_env(store, env, files::fd_prestat_get),
        "fd_prestat_dir_name" => Function::new_typed_with_env(store, env, files::fd_prestat_dir_name),
        "fd_pwrite" => Function::new_typed_with_env(store, env, fd_pwrite),
        "fd_read" => Function::new_typed_with_env(store, env, fd_read),
        "fd_readdir" => Function::new_typed_with_env(store, env, files::fd_readdir),
        "fd_seek" => Function::new_typed_with_env(store, env, fd_seek),
        "fd_sync" => Function::new_typed_with_env(store, env, fd_sync),
        "fd_tell" => Function::new_typed_with_env(store, env, fd_tell),
        "fd_write" => Function::new_typed_with_env(store, env, fd_write),
        "path_create_directory" => Function::new_typed_with_env(store, env, files::path_create_directory),
        "path_filestat_get" => Function::new_typed_with_env(store, env, files::path_filestat_get),
        "path_open" => Function::new_typed_with_env(store, env, files::path_open),
        "path_remove_directory" => Function::new_typed_with_env(store, env, files::path_remove_directory),
        "path_rename" => Function::new_typed_with_env(store, env, files::path_rename),
        "path_unlink_file" => Function::new_typed_with_env(store, env, files::path_unlink_file),
        "poll_oneoff" => Function::new_typed_with_env(store, env, poll_oneoff),
        "proc_exit" => Function::new_typed_with_env(store, env, proc_exit),
        "sched_yield" => Function::new_typed_with_env(store, env, sched_yield),
        "random_get" => Function::new_typed_with_env(store, env, random_get),
        _ => return None,
    })
}

/// The standard streams: the only descriptors there are.
const STDIN: i32 = 0;
const STDOUT: i32 = 1;
const STDERR: i32 = 2;

/// `filetype::character_device`.
const CHARACTER_DEVICE: u8 = 2;
/// `rights::fd_read` and `rights::fd_write`.
const RIGHT_READ: u64 = 1 << 1;
const RIGHT_WRITE: u64 = 1 << 6;

/// `*_sizes_get` of a NUL-terminated list: its length and total size.
fn sizes(view: &MemoryView<'_>, list: &[Vec<u8>], count_at: i32, size_at: i32) -> i32 {
    let size = list.iter().map(Vec::len).sum::<usize>();
    let (Ok(count), Ok(size)) = (u32::try_from(list.len()), u32::try_from(size)) else {
        return INVAL;
    };
    answer(put_u32(view, count_at, count) && put_u32(view, size_at, size))
}

/// `*_get` of a NUL-terminated list: a pointer to each entry at
/// `pointers_at`, the entries one after another at `buffer_at`.
fn entries(view: &MemoryView<'_>, list: &[Vec<u8>], pointers_at: i32, buffer_at: i32) -> i32 {
    let mut offset = 0u32;
    for (i, entry) in (0u64..).zip(list) {
        let address = unsigned(buffer_at).wrapping_add(offset);
        let Ok(len) = u32::try_from(entry.len()) else {
            return INVAL;
        };
        if !put(view, pointers_at, i * 4, &address.to_le_bytes()) || !put(view, buffer_at, u64::from(offset), entry) {
            return FAULT;
        }
        offset = offset.wrapping_add(len);
    }
    SUCCESS
}

fn args_sizes_get(mut env: Env<'_>, count_at: i32, size_at: i32) -> i32 {
    with_memory(&mut env, |view, data| sizes(view, &data.wasi.args, count_at, size_at))
}

fn args_get(mut env: Env<'_>, pointers_at: i32, buffer_at: i32) -> i32 {
    with_memory(&mut env, |view, data| {
        entries(view, &data.wasi.args, pointers_at, buffer_at)
    })
}

fn environ_sizes_get(mut env: Env<'_>, count_at: i32, size_at: i32) -> i32 {
    with_memory(&mut env, |view, data| {
        sizes(view, data.wasi_environ(), count_at, size_at)
    })
}

fn environ_get(mut env: Env<'_>, pointers_at: i32, buffer_at: i32) -> i32 {
    with_memory(&mut env, |view, data| {
        entries(view, data.wasi_environ(), pointers_at, buffer_at)
    })
}

/// `clockid::realtime` and `clockid::monotonic`; the CPU-time clocks are not offered.
const REALTIME: i32 = 0;
const MONOTONIC: i32 = 1;
const PROCESS_CPUTIME: i32 = 2;
const THREAD_CPUTIME: i32 = 3;

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The time on clock `id`, in nanoseconds.
fn now_on(id: i32) -> Result<u64, i32> {
    static START: OnceLock<Instant> = OnceLock::new();
    match id {
        REALTIME => Ok(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, nanos)),
        MONOTONIC => Ok(nanos(START.get_or_init(Instant::now).elapsed())),
        PROCESS_CPUTIME | THREAD_CPUTIME => Err(NOTSUP),
        _ => Err(INVAL),
    }
}

fn clock_res_get(mut env: Env<'_>, id: i32, at: i32) -> i32 {
    match now_on(id) {
        Ok(_) => with_memory(&mut env, |view, _| answer(put_u64(view, at, 1_000))),
        Err(code) => code,
    }
}

fn clock_time_get(mut env: Env<'_>, id: i32, _precision: i64, at: i32) -> i32 {
    match now_on(id) {
        Ok(time) => with_memory(&mut env, |view, _| answer(put_u64(view, at, time))),
        Err(code) => code,
    }
}

fn is_standard(fd: i32) -> bool {
    matches!(fd, STDIN | STDOUT | STDERR)
}

fn fd_close(mut env: Env<'_>, fd: i32) -> i32 {
    if is_standard(fd) {
        SUCCESS
    } else {
        files::close(&mut env, fd)
    }
}

fn fd_fdstat_get(mut env: Env<'_>, fd: i32, at: i32) -> i32 {
    let rights = match fd {
        STDIN => RIGHT_READ,
        STDOUT | STDERR => RIGHT_WRITE,
        _ => return files::fdstat(&mut env, fd, at),
    };
    let stat = fdstat_bytes(CHARACTER_DEVICE, rights, 0);
    with_memory(&mut env, |view, _| answer(put(view, at, 0, &stat)))
}

/// Flags change nothing here (a descriptor never blocks, and appending is
/// chosen at open): accepted on every open descriptor.
fn fd_fdstat_set_flags(mut env: Env<'_>, fd: i32, _flags: i32) -> i32 {
    if is_standard(fd) || files::is_open(&mut env, fd) {
        SUCCESS
    } else {
        BADF
    }
}

/// Advice is only advice: accepted on every open descriptor.
fn fd_advise(mut env: Env<'_>, fd: i32, _offset: i64, _len: i64, _advice: i32) -> i32 {
    fd_fdstat_set_flags(env.as_mut(), fd, 0)
}

fn fd_sync(mut env: Env<'_>, fd: i32) -> i32 {
    if is_standard(fd) {
        SUCCESS
    } else {
        files::sync(&mut env, fd, false)
    }
}

fn fd_datasync(mut env: Env<'_>, fd: i32) -> i32 {
    if is_standard(fd) {
        SUCCESS
    } else {
        files::sync(&mut env, fd, true)
    }
}

fn fd_filestat_get(mut env: Env<'_>, fd: i32, at: i32) -> i32 {
    if !is_standard(fd) {
        return files::filestat(&mut env, fd, at);
    }
    // struct filestat: dev, ino, filetype u8 at 16, nlink, size, atim, mtim, ctim.
    let mut stat = [0u8; 64];
    stat[16] = CHARACTER_DEVICE;
    with_memory(&mut env, |view, _| answer(put(view, at, 0, &stat)))
}

fn fd_read(mut env: Env<'_>, fd: i32, iovs: i32, iovs_len: i32, read_at: i32) -> i32 {
    match fd {
        // stdin is empty: end of file at once.
        STDIN => with_memory(&mut env, |view, _| answer(put_u32(view, read_at, 0))),
        STDOUT | STDERR => BADF,
        _ => files::read_file(&mut env, fd, iovs, iovs_len, None, read_at),
    }
}

fn fd_pread(mut env: Env<'_>, fd: i32, iovs: i32, iovs_len: i32, offset: i64, read_at: i32) -> i32 {
    if is_standard(fd) {
        return SPIPE;
    }
    files::read_file(&mut env, fd, iovs, iovs_len, Some(offset.cast_unsigned()), read_at)
}

fn fd_seek(mut env: Env<'_>, fd: i32, offset: i64, whence: i32, at: i32) -> i32 {
    if is_standard(fd) {
        SPIPE
    } else {
        files::seek_file(&mut env, fd, offset, whence, at)
    }
}

fn fd_tell(mut env: Env<'_>, fd: i32, at: i32) -> i32 {
    if is_standard(fd) {
        SPIPE
    } else {
        files::seek_file(&mut env, fd, 0, 1, at)
    }
}

/// Writes to stdout or stderr: at most [`MAX_BUFFERS`] buffers and
/// [`MAX_WRITE`] bytes a call, as a pipe takes a partial write.
fn fd_write(mut env: Env<'_>, fd: i32, iovs: i32, iovs_len: i32, written_at: i32) -> i32 {
    if fd == STDIN {
        return BADF;
    }
    if !is_standard(fd) {
        return files::write_file(&mut env, fd, iovs, iovs_len, None, written_at);
    }
    let mut copied = 0;
    let answer_code = with_memory(&mut env, |view, data| {
        let bytes = match gather(view, iovs, iovs_len) {
            Ok(bytes) => bytes,
            Err(code) => return code,
        };
        let host = data.host().clone();
        let stream = if fd == STDOUT {
            &mut data.wasi.stdout
        } else {
            &mut data.wasi.stderr
        };
        stream.write(&host, &bytes);
        copied = bytes.len();
        let written = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        answer(put_u32(view, written_at, written))
    });
    charge(&mut env, copied);
    answer_code
}

fn fd_pwrite(mut env: Env<'_>, fd: i32, iovs: i32, iovs_len: i32, offset: i64, written_at: i32) -> i32 {
    if is_standard(fd) {
        return SPIPE;
    }
    files::write_file(&mut env, fd, iovs, iovs_len, Some(offset.cast_unsigned()), written_at)
}

/// The most subscriptions one `poll_oneoff` looks at.
pub const MAX_SUBSCRIPTIONS: u32 = 64;

/// The longest one `poll_oneoff` sleeps in a call without a deadline.
const MAX_SLEEP: Duration = Duration::from_secs(10);

/// `eventtype`: a clock, a read, a write.
const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;

/// Waits for the first of the subscriptions at `subscriptions` (48 bytes
/// each): a clock's timeout (relative, or absolute with flag 1), or a
/// descriptor ready to read or write. stdin (at its end), stdout and stderr
/// are always ready, other descriptors answer `EBADF` at once; a clock
/// sleeps the thread, never past the call's deadline. Writes one 32-byte
/// event per subscription that is due at `events`, and their count.
fn poll_oneoff(mut env: Env<'_>, subscriptions: i32, events: i32, count: i32, events_at: i32) -> i32 {
    let count = unsigned(count);
    if count == 0 || count > MAX_SUBSCRIPTIONS {
        return INVAL;
    }
    let deadline = env.data().deadline();
    let mut read = Vec::new();
    let parsed = with_memory(&mut env, |view, _| {
        let mut bytes = vec![0u8; 48 * count as usize];
        if view.read(u64::from(unsigned(subscriptions)), &mut bytes).is_err() {
            return FAULT;
        }
        read = bytes.chunks_exact(48).map(Subscription::parse).collect();
        SUCCESS
    });
    if parsed != SUCCESS {
        return parsed;
    }
    let mut due: Vec<[u8; 32]> = read.iter().filter_map(Subscription::ready_now).collect();
    if due.is_empty() {
        let now = Instant::now();
        let wake = read.iter().filter_map(|s| s.wakes_at(now)).min().unwrap_or(now);
        let limit = deadline.unwrap_or(now + MAX_SLEEP);
        std::thread::sleep(wake.min(limit).saturating_duration_since(now));
        let woke = Instant::now();
        due = read
            .iter()
            .filter(|s| s.wakes_at(now).is_some_and(|at| at <= woke))
            .map(|s| s.event(SUCCESS, 0))
            .collect();
    }
    with_memory(&mut env, |view, _| {
        let written = due
            .iter()
            .enumerate()
            .all(|(i, event)| put(view, events, i as u64 * 32, event));
        let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
        answer(written && put_u32(view, events_at, count))
    })
}

/// One `subscription` of `poll_oneoff`.
struct Subscription {
    userdata: u64,
    tag: u8,
    /// The clock's id, or the descriptor.
    id: u32,
    timeout: u64,
    absolute: bool,
}

impl Subscription {
    fn parse(bytes: &[u8]) -> Subscription {
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
        Subscription {
            userdata: u64_at(0),
            tag: bytes[8],
            id: u32_at(16),
            timeout: u64_at(24),
            absolute: bytes[40] & 1 == 1,
        }
    }

    /// Its event, answering `errno` (with `nbytes` for a descriptor).
    fn event(&self, errno: i32, nbytes: u64) -> [u8; 32] {
        let mut event = [0u8; 32];
        event[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        event[8..10].copy_from_slice(&u16::try_from(errno).unwrap_or(u16::MAX).to_le_bytes());
        event[10] = self.tag;
        event[16..24].copy_from_slice(&nbytes.to_le_bytes());
        event
    }

    /// Its event if it is due without waiting: every descriptor is.
    fn ready_now(&self) -> Option<[u8; 32]> {
        match (self.tag, i32::try_from(self.id)) {
            (CLOCK, _) => None,
            (FD_READ, Ok(STDIN)) => Some(self.event(SUCCESS, 0)),
            (FD_WRITE, Ok(STDOUT | STDERR)) => Some(self.event(SUCCESS, MAX_WRITE as u64)),
            _ => Some(self.event(BADF, 0)),
        }
    }

    /// When a clock subscription is due, from `now`.
    fn wakes_at(&self, now: Instant) -> Option<Instant> {
        if self.tag != CLOCK {
            return None;
        }
        let timeout = if self.absolute {
            let clock = i32::try_from(self.id).ok().and_then(|id| now_on(id).ok())?;
            self.timeout.saturating_sub(clock)
        } else {
            self.timeout
        };
        now.checked_add(Duration::from_nanos(timeout)).or(Some(now + MAX_SLEEP))
    }
}

/// Ends the call (see [`Exit`]).
fn proc_exit(_env: Env<'_>, code: i32) -> Result<(), RuntimeError> {
    Err(RuntimeError::user(Box::new(Exit(code))))
}

fn sched_yield(_env: Env<'_>) -> i32 {
    SUCCESS
}

/// Fills the guest's buffer with random bytes, a chunk at a time.
fn random_get(mut env: Env<'_>, at: i32, len: i32) -> i32 {
    const CHUNK: u32 = 64 * 1024;
    // Filling a large buffer is real work: the call pays for it in fuel.
    charge(&mut env, usize::try_from(unsigned(len)).unwrap_or(usize::MAX));
    with_memory(&mut env, |view, _| {
        let (start, len) = (u64::from(unsigned(at)), unsigned(len));
        if start + u64::from(len) > view.data_size() {
            return FAULT;
        }
        let mut chunk = vec![0u8; CHUNK.min(len) as usize];
        let mut done = 0;
        while done < len {
            let part = &mut chunk[..(len - done).min(CHUNK) as usize];
            if getrandom::fill(part).is_err() || view.write(start + u64::from(done), part).is_err() {
                return FAULT;
            }
            done += CHUNK.min(len - done);
        }
        SUCCESS
    })
}
