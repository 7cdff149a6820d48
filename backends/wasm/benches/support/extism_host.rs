//! Extism's own host, for comparison: `libextism` (Extism's Rust runtime
//! built as a C library, installed from PyPI's extism-sys by
//! `scripts/install-extism-runtime.sh`), opened at run time and called
//! through its C API.

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::Path;
use std::process::Command;

/// `ExtismSize`.
type Size = u64;

type PluginNew =
    unsafe extern "C" fn(*const u8, Size, *const *const c_void, Size, bool, *mut *mut c_char) -> *mut c_void;
type PluginCall = unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, Size) -> i32;
type OutputLength = unsafe extern "C" fn(*mut c_void) -> Size;
type OutputData = unsafe extern "C" fn(*mut c_void) -> *const u8;
type PluginError = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type PluginFree = unsafe extern "C" fn(*mut c_void);

/// One Extism plugin in Extism's own runtime.
pub struct ExtismPlugin {
    plugin: *mut c_void,
    call: PluginCall,
    output_length: OutputLength,
    output_data: OutputData,
    error: PluginError,
    free: PluginFree,
    /// Keeps the library loaded while the plugin lives.
    _library: libloading::Library,
}

impl ExtismPlugin {
    /// The module `wasm` as an Extism plugin (no WASI), in libextism
    /// installed by the repository's script under `repo`.
    pub fn new(repo: &Path, wasm: &[u8]) -> ExtismPlugin {
        let installed = Command::new("bash")
            .arg(repo.join("scripts/install-extism-runtime.sh"))
            .output()
            .expect("run scripts/install-extism-runtime.sh");
        assert!(installed.status.success(), "scripts/install-extism-runtime.sh failed");
        let path = String::from_utf8(installed.stdout).unwrap();
        // SAFETY: libextism is Extism's released runtime; loading it runs
        // only its (Rust) initialisers.
        let library = unsafe { libloading::Library::new(path.trim()) }.expect("load libextism");
        // SAFETY: each symbol has the type of its declaration in extism.h
        // (Extism 1.x's C API), and the library outlives the copies.
        let (new, call, output_length, output_data, error, free) = unsafe {
            (
                *library.get::<PluginNew>(b"extism_plugin_new").unwrap(),
                *library.get::<PluginCall>(b"extism_plugin_call").unwrap(),
                *library.get::<OutputLength>(b"extism_plugin_output_length").unwrap(),
                *library.get::<OutputData>(b"extism_plugin_output_data").unwrap(),
                *library.get::<PluginError>(b"extism_plugin_error").unwrap(),
                *library.get::<PluginFree>(b"extism_plugin_free").unwrap(),
            )
        };
        let mut message: *mut c_char = std::ptr::null_mut();
        // SAFETY: the module bytes are valid for the call; no host functions.
        let plugin = unsafe {
            new(
                wasm.as_ptr(),
                wasm.len() as Size,
                std::ptr::null(),
                0,
                false,
                &raw mut message,
            )
        };
        assert!(!plugin.is_null(), "extism_plugin_new failed");
        ExtismPlugin {
            plugin,
            call,
            output_length,
            output_data,
            error,
            free,
            _library: library,
        }
    }

    /// Calls `function` on `input`; its output bytes.
    pub fn call(&mut self, function: &CStr, input: &[u8]) -> Vec<u8> {
        // SAFETY: `plugin` is live; the name and input are valid for the call.
        let code = unsafe { (self.call)(self.plugin, function.as_ptr(), input.as_ptr(), input.len() as Size) };
        if code != 0 {
            // SAFETY: the plugin's last error, a NUL-terminated string it owns.
            let error = unsafe { CStr::from_ptr((self.error)(self.plugin)) };
            panic!("extism call failed: {}", error.to_string_lossy());
        }
        // SAFETY: the output of the last call, valid until the next call.
        unsafe {
            let len = usize::try_from((self.output_length)(self.plugin)).unwrap();
            std::slice::from_raw_parts((self.output_data)(self.plugin), len).to_vec()
        }
    }

    /// `name` as the C string `call` takes.
    pub fn function(name: &str) -> CString {
        CString::new(name).unwrap()
    }
}

impl Drop for ExtismPlugin {
    fn drop(&mut self) {
        // SAFETY: `plugin` came from extism_plugin_new and is freed once.
        unsafe { (self.free)(self.plugin) }
    }
}
