//! Every preview-1 function called from a guest: each refused one answers
//! its errno, each served one does what the module docs say and no more.

use pocket_core::PocketConfig;
use pocket_host::PluginHost;
use pocket_wasm_abi::ValType;
use wasmer::{FunctionEnv, Instance, Memory, Module, Store, Value};

use super::errno::{BADF, FAULT, INVAL, NOTSUP, SPIPE, SUCCESS};
use super::{Answer, Exit, FUNCTIONS, add_imports};
use crate::engine::new_engine;
use crate::host_functions::{HostEnv, imports};

fn wat_types(types: &[ValType]) -> String {
    types
        .iter()
        .map(|t| match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A guest importing every preview-1 function and exporting `call_NAME`,
/// which calls it with the arguments it is given.
fn probe() -> String {
    let mut wat = String::from("(module\n");
    for function in FUNCTIONS {
        let s = &function.signature;
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{0}\" (func ${0} (param {1}) (result {2})))\n",
            s.name,
            wat_types(s.params),
            wat_types(s.results)
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    wat += "(func (export \"pocket_alloc\") (param i32) (result i32) (i32.const 1024))\n";
    for function in FUNCTIONS {
        let s = &function.signature;
        let args = (0..s.params.len())
            .map(|i| format!("(local.get {i})"))
            .collect::<Vec<_>>()
            .join(" ");
        wat += &format!(
            "(func (export \"call_{0}\") (param {1}) (result {2}) (call ${0} {args}))\n",
            s.name,
            wat_types(s.params),
            wat_types(s.results)
        );
    }
    wat + ")"
}

struct Probe {
    store: Store,
    instance: Instance,
    memory: Memory,
}

impl Probe {
    fn new(toml: &str) -> Probe {
        let mut store = Store::new(new_engine(false));
        let module = Module::new(&store, probe()).unwrap();
        let config = PocketConfig::parse(toml, std::path::Path::new("pocket.toml")).unwrap();
        let host = PluginHost::bound("probe", &config.policy("probe"));
        let env = FunctionEnv::new(&mut store, HostEnv::new(host, 1 << 20));
        let mut imports = imports(&mut store, &env);
        add_imports(&mut store, &env, &module, &mut imports);
        let instance = Instance::new(&mut store, &module, &imports).unwrap();
        let memory = instance.exports.get_memory("memory").unwrap().clone();
        let alloc = instance.exports.get_typed_function(&store, "pocket_alloc").unwrap();
        env.as_mut(&mut store).connect(memory.clone(), Some(alloc), None);
        Probe {
            store,
            instance,
            memory,
        }
    }

    /// Calls `name` with `args`; its errno.
    fn call(&mut self, name: &str, args: &[Value]) -> i32 {
        let function = self.instance.exports.get_function(&format!("call_{name}")).unwrap();
        match function
            .call(&mut self.store, args)
            .unwrap_or_else(|e| panic!("{name}: {e}"))[..]
        {
            [Value::I32(code)] => code,
            ref other => panic!("{name} answered {other:?}"),
        }
    }

    fn write(&mut self, at: u64, bytes: &[u8]) {
        self.memory.view(&self.store).write(at, bytes).unwrap();
    }

    fn read(&self, at: u64, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        self.memory.view(&self.store).read(at, &mut bytes).unwrap();
        bytes
    }

    fn u32_at(&self, at: u64) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }
}

fn zeros(types: &[ValType]) -> Vec<Value> {
    types
        .iter()
        .map(|t| match t {
            ValType::I32 => Value::I32(0),
            ValType::I64 => Value::I64(0),
        })
        .collect()
}

#[test]
fn every_preview_1_function_is_listed_once() {
    assert_eq!(FUNCTIONS.len(), 46);
    let mut names: Vec<_> = FUNCTIONS.iter().map(|f| f.signature.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FUNCTIONS.len());
}

#[test]
fn every_function_called_from_a_guest_answers_as_listed() {
    let mut probe = Probe::new("");
    // What a served function answers to all-zero arguments (descriptor 0
    // is stdin, address 0 is in memory, clock 0 is real time).
    // stdin is no file or directory, and there is no preopen without a grant.
    let served = |name: &str| match name {
        "fd_seek" | "fd_tell" | "fd_pread" | "fd_pwrite" => SPIPE,
        "fd_write" | "fd_filestat_set_size" | "fd_prestat_get" | "fd_prestat_dir_name" | "fd_readdir" => BADF,
        name if name.starts_with("path_") => BADF,
        "poll_oneoff" => INVAL,
        _ => SUCCESS,
    };
    for function in FUNCTIONS {
        let name = function.signature.name;
        let args = zeros(function.signature.params);
        if name == "proc_exit" {
            let call = probe.instance.exports.get_function("call_proc_exit").unwrap();
            let error = call.call(&mut probe.store, &args).unwrap_err();
            assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(0)));
            continue;
        }
        let expected = match function.answer {
            Answer::Refused(code) => code,
            Answer::Served => served(name),
        };
        assert_eq!(probe.call(name, &args), expected, "{name}");
    }
}

#[test]
fn a_file_grant_is_preopened_under_its_own_path_and_nothing_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let mut probe = Probe::new(&format!("[plugins.permissions]\nprobe = [\"file:{path}/*\"]\n"));
    assert_eq!(probe.call("fd_prestat_get", &[Value::I32(3), Value::I32(0)]), SUCCESS);
    assert_eq!((probe.read(0, 1)[0], probe.u32_at(4) as usize), (0, path.len()));
    let name_len = i32::try_from(path.len()).unwrap();
    assert_eq!(
        probe.call(
            "fd_prestat_dir_name",
            &[Value::I32(3), Value::I32(16), Value::I32(name_len)]
        ),
        SUCCESS
    );
    assert_eq!(probe.read(16, path.len()), path.as_bytes());
    assert_eq!(probe.call("fd_prestat_get", &[Value::I32(4), Value::I32(0)]), BADF);
}

#[test]
fn the_arguments_are_the_plugin_name_and_the_environment_is_empty_without_a_grant() {
    let mut probe = Probe::new("");
    assert_eq!(probe.call("args_sizes_get", &[Value::I32(0), Value::I32(4)]), SUCCESS);
    assert_eq!((probe.u32_at(0), probe.u32_at(4)), (1, 6));
    assert_eq!(probe.call("args_get", &[Value::I32(100), Value::I32(200)]), SUCCESS);
    assert_eq!(probe.u32_at(100), 200);
    assert_eq!(probe.read(200, 6), b"probe\0");
    assert_eq!(
        probe.call("environ_sizes_get", &[Value::I32(0), Value::I32(4)]),
        SUCCESS
    );
    assert_eq!((probe.u32_at(0), probe.u32_at(4)), (0, 0));
}

#[test]
fn the_environment_holds_the_granted_variables_only() {
    // PATH is set wherever tests run; HOME is not granted.
    let path = std::env::var("PATH").unwrap();
    let mut probe = Probe::new("[plugins.permissions]\nprobe = [\"env:PATH\"]\n");
    assert_eq!(
        probe.call("environ_sizes_get", &[Value::I32(0), Value::I32(4)]),
        SUCCESS
    );
    let entry = format!("PATH={path}\0");
    assert_eq!((probe.u32_at(0), probe.u32_at(4) as usize), (1, entry.len()));
    assert_eq!(probe.call("environ_get", &[Value::I32(8), Value::I32(64)]), SUCCESS);
    assert_eq!(probe.read(64, entry.len()), entry.as_bytes());
}

#[test]
fn only_real_time_and_monotonic_clocks_are_offered() {
    let mut probe = Probe::new("");
    let time = |probe: &mut Probe, id| probe.call("clock_time_get", &[Value::I32(id), Value::I64(0), Value::I32(0)]);
    assert_eq!(time(&mut probe, 0), SUCCESS);
    let now = u64::from_le_bytes(probe.read(0, 8).try_into().unwrap());
    assert!(now > 1_600_000_000_000_000_000, "{now}");
    assert_eq!(time(&mut probe, 1), SUCCESS);
    assert_eq!(time(&mut probe, 2), NOTSUP);
    assert_eq!(time(&mut probe, 9), INVAL);
}

#[test]
fn a_write_reads_at_most_its_cap_however_many_buffers_it_names() {
    let mut probe = Probe::new("[plugins.permissions]\nprobe = [\"log\"]\n");
    // 1,000,000 buffers of 60,000 bytes each, all the same: one call may not
    // read 60 GB of the guest's memory; it writes part, as a pipe does.
    probe.write(0, &[0u8; 8]);
    probe.write(0, &8u32.to_le_bytes());
    probe.write(4, &60_000u32.to_le_bytes());
    let iovecs: Vec<u8> = (0..2000)
        .flat_map(|_| [8u32.to_le_bytes(), 60_000u32.to_le_bytes()].concat())
        .collect();
    probe.write(0, &iovecs);
    let written = probe.call(
        "fd_write",
        &[Value::I32(1), Value::I32(0), Value::I32(1_000_000), Value::I32(60_000)],
    );
    assert_eq!(written, SUCCESS);
    assert_eq!(probe.u32_at(60_000) as usize, super::memory::MAX_WRITE);
    // A buffer outside memory is a fault, not a crash.
    probe.write(0, &[0xff; 8]);
    assert_eq!(
        probe.call(
            "fd_write",
            &[Value::I32(2), Value::I32(0), Value::I32(1), Value::I32(60_000)]
        ),
        FAULT
    );
}

#[test]
fn random_bytes_fill_the_buffer_inside_memory_only() {
    let mut probe = Probe::new("");
    assert_eq!(probe.call("random_get", &[Value::I32(0), Value::I32(4096)]), SUCCESS);
    assert!(probe.read(0, 4096).iter().any(|&b| b != 0));
    assert_eq!(
        probe.call("random_get", &[Value::I32(60_000), Value::I32(10_000)]),
        FAULT
    );
}

#[test]
fn poll_oneoff_sleeps_on_a_clock_and_finds_the_standard_streams_ready() {
    let mut probe = Probe::new("");
    let subscription = |userdata: u64, tag: u8, id: u32, timeout: u64| {
        let mut bytes = [0u8; 48];
        bytes[0..8].copy_from_slice(&userdata.to_le_bytes());
        bytes[8] = tag;
        bytes[16..20].copy_from_slice(&id.to_le_bytes());
        bytes[24..32].copy_from_slice(&timeout.to_le_bytes());
        bytes
    };
    // A 1 ms sleep on the monotonic clock: one event, its userdata.
    probe.write(0, &subscription(7, 0, 1, 1_000_000));
    let args = |count| [Value::I32(0), Value::I32(1000), Value::I32(count), Value::I32(2000)];
    assert_eq!(probe.call("poll_oneoff", &args(1)), SUCCESS);
    assert_eq!(probe.u32_at(2000), 1);
    assert_eq!(probe.read(1000, 8), 7u64.to_le_bytes());
    // stdin to read and a 60 s clock: stdin answers at once, no sleep.
    probe.write(
        0,
        &[subscription(1, 1, 0, 0), subscription(2, 0, 1, 60_000_000_000)].concat(),
    );
    assert_eq!(probe.call("poll_oneoff", &args(2)), SUCCESS);
    assert_eq!(probe.u32_at(2000), 1);
    assert_eq!(probe.read(1000, 8), 1u64.to_le_bytes());
    // A descriptor there is not: EBADF in its event.
    probe.write(0, &subscription(3, 1, 9, 0));
    assert_eq!(probe.call("poll_oneoff", &args(1)), SUCCESS);
    assert_eq!(probe.read(1008, 2), u16::try_from(BADF).unwrap().to_le_bytes());
    // Too many subscriptions, or none: EINVAL.
    assert_eq!(probe.call("poll_oneoff", &args(65)), INVAL);
    assert_eq!(probe.call("poll_oneoff", &args(0)), INVAL);
}
