//! [`Kernel`]: the state Extism's kernel keeps for one instance: its memory
//! of blocks, the call's input, output and error, the config map, vars and
//! the last HTTP response's status and headers. Pure data, no wasm: the
//! host functions in [`crate::extism::functions`] are thin wrappers over it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// At most this many bytes of vars (keys and values) per instance, as
/// Extism's own default (`max_var_bytes`).
pub const MAX_VAR_BYTES: usize = 1024 * 1024;

/// Blocks start at multiples of this, and offset 0 is never a block (it
/// means "none" throughout the kernel's API).
const ALIGN: u64 = 8;

/// Why a kernel call stops the guest: a bad offset, a full var store, a
/// refused request. The call fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct KernelError(pub String);

/// The kernel's state for one instance.
#[derive(Debug, Default)]
pub(crate) struct Kernel {
    /// Extism's memory: blocks laid end to end; offsets index it. It is
    /// only ever grown, up to the cap (each byte zeroed once in the
    /// instance's life): a freed last block or a reset lowers `top`, and the
    /// next blocks reuse those bytes without zeroing them again, so a guest
    /// that allocates and frees (or resets) in a loop makes the host do no
    /// work its fuel does not pay for.
    memory: Vec<u8>,
    /// Where the next block starts: the end of the last live one.
    top: usize,
    /// The live blocks: offset to length.
    blocks: HashMap<u64, u64>,
    /// How large `memory` may grow (the plugin's memory limit).
    cap: u64,
    /// The call's input.
    input: Arc<[u8]>,
    /// The input's copy in memory, once a guest asked for it (`input_offset`).
    input_block: Option<u64>,
    /// What the call set as its output and error.
    output: Vec<u8>,
    error: Option<u64>,
    /// The call's config map.
    config: Arc<BTreeMap<String, String>>,
    /// Vars, kept from call to call, and their size.
    vars: HashMap<String, Vec<u8>>,
    var_bytes: usize,
    /// The last HTTP response's status and headers (as a JSON object).
    pub(crate) http_status: i32,
    pub(crate) http_headers: Option<String>,
}

impl Kernel {
    /// A kernel whose memory may grow to `cap` bytes.
    pub(crate) fn new(cap: u64) -> Kernel {
        Kernel {
            cap,
            ..Kernel::default()
        }
    }

    /// Starts a call: memory emptied, `input` and `config` in place, no output or error.
    pub(crate) fn begin(&mut self, input: Arc<[u8]>, config: Arc<BTreeMap<String, String>>) {
        self.reset();
        self.input = input;
        self.config = config;
        self.output.clear();
        self.http_status = 0;
        self.http_headers = None;
    }

    /// Ends a call: its output, and the error it set (if any), as text.
    pub(crate) fn finish(&mut self) -> (Vec<u8>, Option<String>) {
        let error = self
            .error
            .take()
            .map(|offset| String::from_utf8_lossy(self.block(offset)).into_owned());
        let output = std::mem::take(&mut self.output);
        self.reset();
        self.input = Arc::from(&[][..]);
        (output, error)
    }

    /// Frees every block (`reset`).
    pub(crate) fn reset(&mut self) {
        // The bytes stay (the next blocks reuse them without zeroing them
        // again: a guest calling `reset` in a loop gets no free work done).
        self.top = 0;
        self.blocks.clear();
        self.input_block = None;
        self.error = None;
    }

    /// A new block of `len` bytes; 0 when `len` is 0 or memory would pass its cap.
    pub(crate) fn alloc(&mut self, len: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        let start = (self.top as u64).max(ALIGN).next_multiple_of(ALIGN);
        let end = match start.checked_add(len) {
            Some(end) if end <= self.cap => end,
            _ => return 0,
        };
        let Ok(end) = usize::try_from(end) else { return 0 };
        if end > self.memory.len() {
            self.memory.resize(end, 0);
        }
        self.top = end;
        self.blocks.insert(start, len);
        start
    }

    /// Frees the block at `offset` (the last block's bytes are reclaimed at
    /// once; others when the call ends).
    pub(crate) fn free(&mut self, offset: u64) {
        if let Some(len) = self.blocks.remove(&offset)
            && offset + len == self.top as u64
        {
            // `offset` is below `top`, a usize.
            self.top = usize::try_from(offset).unwrap_or(self.top);
        }
    }

    /// The length of the block at `offset`; 0 if no block starts there.
    pub(crate) fn length(&self, offset: u64) -> u64 {
        self.blocks.get(&offset).copied().unwrap_or(0)
    }

    /// How many bytes the live blocks reach to.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.top as u64
    }

    /// The bytes of the block at `offset` (empty if none starts there).
    fn block(&self, offset: u64) -> &[u8] {
        let len = self.length(offset);
        self.range(offset, len).map_or(&[], |r| &self.memory[r])
    }

    /// `len` bytes at `offset`, if all of them lie in memory.
    fn range(&self, offset: u64, len: u64) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        (end <= self.memory.len()).then_some(start..end)
    }

    /// `N` bytes at `offset` in `bytes`, or an error naming `what`.
    fn bytes_at<const N: usize>(bytes: &[u8], offset: u64, what: &str) -> Result<[u8; N], KernelError> {
        usize::try_from(offset)
            .ok()
            .and_then(|start| bytes.get(start..start.checked_add(N)?))
            .and_then(|slice| slice.try_into().ok())
            .ok_or_else(|| {
                KernelError(format!(
                    "{what} at offset {offset} is outside Extism's memory ({} bytes)",
                    bytes.len()
                ))
            })
    }

    /// `load_u8`.
    pub(crate) fn load_u8(&self, offset: u64) -> Result<u8, KernelError> {
        Self::bytes_at::<1>(&self.memory, offset, "load_u8").map(|[b]| b)
    }

    /// `load_u64` (little-endian, as wasm).
    pub(crate) fn load_u64(&self, offset: u64) -> Result<u64, KernelError> {
        Self::bytes_at::<8>(&self.memory, offset, "load_u64").map(u64::from_le_bytes)
    }

    /// `store_u8`.
    pub(crate) fn store_u8(&mut self, offset: u64, value: u8) -> Result<(), KernelError> {
        self.store(offset, &[value], "store_u8")
    }

    /// `store_u64`.
    pub(crate) fn store_u64(&mut self, offset: u64, value: u64) -> Result<(), KernelError> {
        self.store(offset, &value.to_le_bytes(), "store_u64")
    }

    fn store(&mut self, offset: u64, bytes: &[u8], what: &str) -> Result<(), KernelError> {
        let len = self.memory.len();
        let range = self.range(offset, bytes.len() as u64).ok_or_else(|| {
            KernelError(format!(
                "{what} at offset {offset} is outside Extism's memory ({len} bytes)"
            ))
        })?;
        self.memory[range].copy_from_slice(bytes);
        Ok(())
    }

    /// `input_length`.
    pub(crate) fn input_length(&self) -> u64 {
        self.input.len() as u64
    }

    /// `input_load_u8`.
    pub(crate) fn input_load_u8(&self, offset: u64) -> Result<u8, KernelError> {
        Self::bytes_at::<1>(&self.input, offset, "input_load_u8").map(|[b]| b)
    }

    /// `input_load_u64`.
    pub(crate) fn input_load_u64(&self, offset: u64) -> Result<u64, KernelError> {
        Self::bytes_at::<8>(&self.input, offset, "input_load_u64").map(u64::from_le_bytes)
    }

    /// `input_offset`: the input copied into a block (once per call).
    pub(crate) fn input_offset(&mut self) -> u64 {
        if let Some(offset) = self.input_block {
            return offset;
        }
        let input = self.input.clone();
        let offset = self.give(&input);
        self.input_block = Some(offset);
        offset
    }

    /// `output_set`: the call's output is `len` bytes at `offset`.
    pub(crate) fn output_set(&mut self, offset: u64, len: u64) -> Result<(), KernelError> {
        if len == 0 {
            self.output.clear();
            return Ok(());
        }
        let range = self.range(offset, len).ok_or_else(|| {
            KernelError(format!(
                "output_set({offset}, {len}) is outside Extism's memory ({} bytes)",
                self.memory.len()
            ))
        })?;
        self.output.clear();
        self.output.extend_from_slice(&self.memory[range]);
        Ok(())
    }

    /// `error_set`: the call's error is the block at `offset` (0 clears it).
    pub(crate) fn error_set(&mut self, offset: u64) {
        self.error = (offset != 0).then_some(offset);
    }

    /// `error_get`.
    pub(crate) fn error_get(&self) -> u64 {
        self.error.unwrap_or(0)
    }

    /// The text of the block at `offset`, for a key or a log line.
    pub(crate) fn text(&self, offset: u64) -> String {
        String::from_utf8_lossy(self.block(offset)).into_owned()
    }

    /// The bytes of the block at `offset`, copied (a request body).
    pub(crate) fn bytes(&self, offset: u64) -> Vec<u8> {
        self.block(offset).to_vec()
    }

    /// `bytes` in a new block; 0 if memory is full (or `bytes` is empty).
    pub(crate) fn give(&mut self, bytes: &[u8]) -> u64 {
        let offset = self.alloc(bytes.len() as u64);
        if let Some(range) = self.range(offset, bytes.len() as u64)
            && offset != 0
        {
            self.memory[range].copy_from_slice(bytes);
        }
        offset
    }

    /// `config_get`: the value of the key at `offset`, in a new block; 0 if unset.
    pub(crate) fn config_get(&mut self, offset: u64) -> u64 {
        let key = self.text(offset);
        let config = self.config.clone();
        config.get(&key).map_or(0, |value| self.give(value.as_bytes()))
    }

    /// `var_get`: the var named by the block at `offset`, in a new block; 0 if unset.
    pub(crate) fn var_get(&mut self, offset: u64) -> u64 {
        let key = self.text(offset);
        match self.vars.get(&key) {
            Some(value) => {
                let value = value.clone();
                self.give(&value)
            }
            None => 0,
        }
    }

    /// `var_set`: sets (or, with `value` 0, removes) the var named by the
    /// block at `key`; refused past [`MAX_VAR_BYTES`].
    pub(crate) fn var_set(&mut self, key: u64, value: u64) -> Result<(), KernelError> {
        let name = self.text(key);
        if let Some(old) = self.vars.remove(&name) {
            self.var_bytes -= name.len() + old.len();
        }
        if value == 0 {
            return Ok(());
        }
        let value = self.bytes(value);
        let size = name.len() + value.len();
        if self.var_bytes + size > MAX_VAR_BYTES {
            return Err(KernelError(format!(
                "var `{name}` of {size} bytes would take the plugin's vars past {MAX_VAR_BYTES} bytes"
            )));
        }
        self.var_bytes += size;
        self.vars.insert(name, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> Kernel {
        let mut kernel = Kernel::new(1024);
        kernel.begin(Arc::from(&b"input bytes"[..]), Arc::default());
        kernel
    }

    #[test]
    fn blocks_hold_what_is_stored_and_never_reach_past_memory() {
        let mut k = kernel();
        let a = k.alloc(10);
        assert!(a != 0 && a.is_multiple_of(ALIGN));
        assert_eq!(k.length(a), 10);
        k.store_u64(a, 0x0102_0304_0506_0708).unwrap();
        k.store_u8(a + 8, 9).unwrap();
        assert_eq!(k.load_u64(a).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(k.load_u8(a + 8).unwrap(), 9);
        // Past the end, or an offset near u64::MAX: an error, no read.
        assert!(k.load_u64(a + 10).is_err());
        assert!(k.load_u8(u64::MAX).is_err());
        assert!(k.store_u64(u64::MAX - 3, 1).is_err());
        assert!(k.output_set(a, u64::MAX).is_err());
        assert_eq!(k.length(a + 1), 0, "only a block's start has a length");
    }

    #[test]
    fn memory_stops_at_its_cap_and_the_last_block_is_reclaimed_when_freed() {
        let mut k = kernel();
        assert_eq!(k.alloc(2000), 0, "past the cap");
        assert_eq!(k.alloc(u64::MAX), 0);
        // A guest that allocates and frees in a loop (a log line each time) stays small.
        for _ in 0..10_000 {
            let block = k.alloc(100);
            assert_ne!(block, 0);
            k.free(block);
        }
        assert!(k.memory_bytes() <= 2 * ALIGN);
        // A big block allocated and freed in a loop is zeroed once, not
        // every time (the host's work stays within what fuel pays for).
        let mut big = Kernel::new(8 << 20);
        big.begin(Arc::default(), Arc::default());
        for _ in 0..1_000 {
            let block = big.alloc(4 << 20);
            assert_ne!(block, 0);
            big.free(block);
        }
        for _ in 0..1_000 {
            assert_ne!(big.alloc(4 << 20), 0);
            big.reset();
        }
        assert!(big.memory.len() as u64 <= (4 << 20) + 2 * ALIGN);
    }

    #[test]
    fn input_output_error_and_config_cross_as_extism_defines_them() {
        let mut config = BTreeMap::new();
        config.insert("greeting".to_string(), "hi".to_string());
        let mut k = Kernel::new(1024);
        k.begin(Arc::from(&b"0123456789"[..]), Arc::new(config));
        assert_eq!(k.input_length(), 10);
        assert_eq!(k.input_load_u64(0).unwrap(), u64::from_le_bytes(*b"01234567"));
        assert_eq!(k.input_load_u8(9).unwrap(), b'9');
        assert!(k.input_load_u64(3).is_err(), "past the input's end");
        let copy = k.input_offset();
        assert_eq!(k.bytes(copy), b"0123456789");
        let key = k.give(b"greeting");
        let value = k.config_get(key);
        assert_eq!(k.text(value), "hi");
        let missing = k.give(b"nope");
        assert_eq!(k.config_get(missing), 0);
        let out = k.give(b"{\"ok\":1}");
        k.output_set(out, 8).unwrap();
        let error = k.give(b"it broke");
        k.error_set(error);
        assert_eq!(k.error_get(), error);
        assert_eq!(k.finish(), (b"{\"ok\":1}".to_vec(), Some("it broke".to_string())));
        assert_eq!(k.memory_bytes(), 0, "a call's blocks go with it");
        assert_eq!(k.length(out), 0);
    }

    #[test]
    fn vars_outlive_a_call_and_are_capped() {
        let mut k = kernel();
        let (key, value) = (k.give(b"n"), k.give(b"41"));
        k.var_set(key, value).unwrap();
        k.finish();
        k.begin(Arc::default(), Arc::default());
        let key = k.give(b"n");
        let got = k.var_get(key);
        assert_eq!(k.bytes(got), b"41");
        k.var_set(key, 0).unwrap();
        assert_eq!(k.var_get(key), 0);
        // A var store filled past its cap: refused, and what was there stays.
        let mut big = Kernel::new(4 * MAX_VAR_BYTES as u64);
        big.begin(Arc::default(), Arc::default());
        let (a, b) = (big.give(b"a"), big.give(b"b"));
        let half = big.give(&vec![7; MAX_VAR_BYTES / 2 + 1]);
        big.var_set(a, half).unwrap();
        let err = big.var_set(b, half).unwrap_err();
        assert!(err.0.contains("past 1048576 bytes"), "{err}");
        // Replacing a var frees its old size first.
        big.var_set(a, half).unwrap();
    }
}
