//! What a script can make the host allocate outside Lua's own allocator
//! (which the memory limit counts): parsing, conversions, their stacks.
//! Each attack runs in a process of its own, whose peak resident memory
//! (`VmHWM`) is read before and after; it must stay near the 64 MiB
//! memory limit, not grow with what the input would expand to.

use std::process::Command;

use crate::common::{config, inline_graph, run_graph};

/// The Lua memory limit these attacks run under (the default).
const LIMIT_KIB: u64 = 64 << 10;

/// The script of each attack.
fn attack(name: &str) -> &'static str {
    match name {
        // 4 MiB of text, two million levels deep.
        "decode-deep" => {
            "local text = string.rep('[', 2097152) .. string.rep(']', 2097152)\n\
             local value, err = json.decode(text)\n\
             return { decoded = value ~= nil, err = err }"
        }
        // As deep as text from outside may nest (parsing recurses).
        "decode-deepest" => {
            "local text = string.rep('[', 99999) .. string.rep(']', 99999)\n\
             local value, err = json.decode(text)\n\
             return { decoded = value ~= nil, err = err }"
        }
        // 12 MiB of text whose parsed form is several times larger.
        "decode-wide" => {
            "local text = '[' .. string.rep('{},', 4194303) .. '{}]'\n\
             local value, err = json.decode(text)\n\
             return { decoded = value ~= nil, err = err }"
        }
        // A deep table built within the limit, read out by the host.
        "encode-deep" => {
            "local t = {}\nfor i = 1, 500000 do t = {t} end\n\
             local text, err = json.encode(t)\n\
             return { encoded = text ~= nil, err = err }"
        }
        other => panic!("no attack {other}"),
    }
}

/// The process's peak resident memory so far, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Runs the attack `POCKET_ATTACK` names and prints how far the peak grew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a process of its own by the tests below"]
async fn measured_attack() {
    let name = std::env::var("POCKET_ATTACK").expect("POCKET_ATTACK");
    let graph = inline_graph(attack(&name), &config(""));
    let before = peak_kib();
    let outcome = run_graph(&graph, "{}").await;
    let grown = peak_kib().saturating_sub(before);
    let outcome = match outcome {
        Ok(value) => value.to_json(),
        Err(error) => error.to_string(),
    };
    println!("POCKET_GROWN_KIB={grown}");
    println!("POCKET_OUTCOME={outcome}");
}

/// Runs attack `name` in a new process: how much its peak memory grew (KiB), and the run's outcome.
fn measure(name: &str) -> (u64, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["host_memory::measured_attack", "--exact", "--ignored", "--nocapture"])
        .env("POCKET_ATTACK", name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the attack crashed the host: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_string()
    };
    (field("POCKET_GROWN_KIB=").parse().unwrap(), field("POCKET_OUTCOME="))
}

/// Checks attack `name` grew the host's peak by at most three times the
/// memory limit (Lua's own share, up to the limit, the host's conversion,
/// up to the limit, and the allocators' slack) and ended as `expected` says.
fn bounded(name: &str, expected: &str) {
    let (grown, outcome) = measure(name);
    assert!(
        grown <= 3 * LIMIT_KIB,
        "{name}: the host's peak memory grew by {} MiB, more than three times the {} MiB limit ({outcome})",
        grown >> 10,
        LIMIT_KIB >> 10
    );
    assert!(outcome.contains(expected), "{name}: {outcome}");
}

#[test]
fn json_decode_of_a_deeply_nested_text_is_refused_near_the_limit() {
    // Was 3.5 GB in a debug build (1 GB optimized): the parse's stack.
    bounded("decode-deep", "levels deep, more than the 100000 allowed");
}

#[test]
fn json_decode_of_text_as_deep_as_allowed_is_held_to_the_limit() {
    bounded("decode-deepest", "json.decode");
}

#[test]
fn json_decode_of_a_text_that_expands_is_refused_near_the_limit() {
    // Was 500 MB.
    bounded("decode-wide", "more than the limit");
}

#[test]
fn json_encode_of_a_deep_table_is_read_near_the_limit() {
    // Was 2.8 GB: the read's stack.
    bounded("encode-deep", "larger than the memory limit");
}
