//! `exec`: programs, arguments, limits and the allow-list.

use std::time::{Duration, Instant};

use super::{at, json, run_error, run_yaml, validation_errors};

fn exec(config: &str) -> String {
    format!("name: t\nstart: x\nnodes:\n- {{name: x, type: exec, config: {config}}}\n")
}

#[tokio::test]
async fn a_program_runs_with_its_arguments_and_output_is_captured() {
    let out = run_yaml(
        &exec("{command: echo, args: ['hi {{.who}}', '$HOME; ls']}"),
        r#"{"who": "ada"}"#,
    )
    .await;
    assert_eq!(
        at(&out, "stdout"),
        json(r#""hi ada $HOME; ls\n""#),
        "no shell interprets the arguments"
    );
    assert_eq!(at(&out, "exit_code"), json("0"));
    assert_eq!(at(&out, "command"), json(r#""echo""#));
    assert_eq!(at(&out, "args"), json(r#"["hi ada", "$HOME; ls"]"#));
    assert!(at(&out, "duration").as_str().is_some());
}

#[tokio::test]
async fn a_non_zero_exit_is_reported_with_stderr() {
    let out = run_yaml(&exec("{command: sh, args: ['-c', 'echo oops >&2; exit 3']}"), "{}").await;
    assert_eq!(at(&out, "exit_code"), json("3"));
    assert_eq!(at(&out, "stderr"), json(r#""oops\n""#));
}

#[tokio::test]
async fn env_and_working_dir_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{{command: sh, args: ['-c', 'echo $GREETING; pwd'], env: {{GREETING: hello}}, working_dir: '{}'}}",
        dir.path().display()
    );
    let out = run_yaml(&exec(&config), "{}").await;
    let expected = format!("hello\n{}\n", dir.path().canonicalize().unwrap().display());
    assert_eq!(at(&out, "stdout").as_str(), Some(expected.as_str()));
}

#[tokio::test]
async fn capture_output_false_discards_output() {
    let out = run_yaml(&exec("{command: echo, args: [x], capture_output: false}"), "{}").await;
    assert_eq!(at(&out, "stdout"), json("null"));
}

/// Waits (up to 5 s) until process `pid` is gone or a zombie; whether it is.
fn ends(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.is_empty() || state.contains(") Z") {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid a program wrote to `file`, once it is there.
fn pid_in(file: &std::path::Path) -> String {
    for _ in 0..250 {
        if let Ok(text) = std::fs::read_to_string(file)
            && text.ends_with('\n')
        {
            return text.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no pid in {}", file.display());
}

/// A shell command starting a daemon (a new session, so it leaves the
/// program's process group; output detached; its parent gone), which writes
/// its pid to `file`; the command goes on once the pid is there.
fn daemon(file: &std::path::Path) -> String {
    let file = file.display();
    format!(
        "setsid sh -c 'echo $$ > {file}.tmp; mv {file}.tmp {file}; exec sleep 300' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {file} ]; do sleep 0.01; done;"
    )
}

#[tokio::test]
async fn a_daemon_the_program_starts_ends_with_the_node() {
    let dir = tempfile::tempdir().unwrap();
    // The program exits at once, leaving the daemon behind.
    let pid_file = dir.path().join("after-exit");
    let config = format!("{{command: sh, args: [-c, \"{}\"]}}", daemon(&pid_file));
    let out = run_yaml(&exec(&config), "{}").await;
    assert_eq!(at(&out, "exit_code"), json("0"));
    let pid = pid_in(&pid_file);
    assert!(ends(&pid), "the daemon {pid} outlived the node");

    // The program runs past its timeout.
    let pid_file = dir.path().join("after-timeout");
    let config = format!(
        "{{command: sh, args: [-c, \"{} sleep 300\"], timeout: 300ms}}",
        daemon(&pid_file)
    );
    let err = run_error(&exec(&config), "{}").await;
    assert!(err.contains("timed out after 300ms"), "{err}");
    let pid = pid_in(&pid_file);
    assert!(ends(&pid), "the daemon {pid} outlived the timeout");

    // The host still works afterwards.
    assert_eq!(
        at(&run_yaml(&exec("{command: 'true'}"), "{}").await, "exit_code"),
        json("0")
    );
}

#[tokio::test]
async fn a_program_killed_by_a_signal_reports_no_exit_code() {
    let out = run_yaml(&exec("{command: sh, args: [-c, 'kill -9 $$']}"), "{}").await;
    assert_eq!(at(&out, "exit_code"), json("-1"));
    let out = run_yaml(&exec("{command: sh, args: [-c, 'exit 7']}"), "{}").await;
    assert_eq!(at(&out, "exit_code"), json("7"));
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let config = format!(
        "{{command: sh, args: ['-c', 'sleep 30 & echo $! > {}; wait'], timeout: 300ms}}",
        pid_file.display()
    );
    let started = Instant::now();
    let err = run_error(&exec(&config), "{}").await;
    assert!(err.contains("timed out after 300ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
    // The background `sleep` (a grandchild) is gone, or a zombie awaiting its reaper.
    std::thread::sleep(Duration::from_millis(200));
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.contains(") Z"),
        "the grandchild still runs: {state}"
    );
    // The host still works afterwards.
    assert_eq!(
        at(&run_yaml(&exec("{command: 'true'}"), "{}").await, "exit_code"),
        json("0")
    );
}

#[tokio::test]
async fn only_allowed_commands_run() {
    let err = validation_errors(&exec("{command: rm, args: [-rf, x], allowed_commands: [echo, ls]}"));
    assert!(
        err.contains("config at /command") && err.contains("not in `allowed_commands`"),
        "{err}"
    );
    let templated = exec("{command: '{{.cmd}}', allowed_commands: [echo]}");
    let err = run_error(&templated, r#"{"cmd": "rm"}"#).await;
    assert!(err.contains("permission denied") && err.contains("`rm`"), "{err}");
    let out = run_yaml(&templated, r#"{"cmd": "echo"}"#).await;
    assert_eq!(at(&out, "exit_code"), json("0"));
}

#[tokio::test]
async fn a_missing_program_fails_the_node() {
    let err = run_error(&exec("{command: no-such-program-pocket}"), "{}").await;
    assert!(err.contains("cannot run `no-such-program-pocket`"), "{err}");
}

#[test]
fn bad_exec_config_is_caught_before_the_run() {
    let err = validation_errors(&exec("{command: echo, timeout: soon}"));
    assert!(err.contains("config at /timeout"), "{err}");
    let err = validation_errors(&exec("{args: [x]}"));
    assert!(err.contains("command"), "{err}");
}

#[tokio::test]
async fn output_past_max_output_fails_the_node_and_kills_the_program() {
    // `yes` writes forever: without the cap it fills memory until the timeout.
    let started = Instant::now();
    let err = run_error(&exec("{command: yes, max_output: 64KiB, timeout: 20s}"), "{}").await;
    assert!(err.contains("more than 65536 bytes to stdout (`max_output`)"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped at the cap, not the timeout"
    );
    let out = run_yaml(
        &exec("{command: sh, args: ['-c', 'head -c 1000 /dev/zero'], max_output: 1000}"),
        "{}",
    )
    .await;
    assert_eq!(
        at(&out, "stdout").as_str().map(str::len),
        Some(1000),
        "exactly the cap is fine"
    );
}

#[tokio::test]
async fn a_templated_working_dir_cannot_leave_the_workflow_directory() {
    // The test workflows have no file: their directory is the current one.
    let config = "{command: pwd, working_dir: '{{.dir}}'}";
    let err = run_error(&exec(config), r#"{"dir": "/"}"#).await;
    assert!(err.contains("leads outside the workflow's directory"), "{err}");
    let err = run_error(&exec(config), r#"{"dir": "../.."}"#).await;
    assert!(err.contains("leads outside"), "{err}");
    let out = run_yaml(&exec(config), r#"{"dir": "src"}"#).await;
    assert!(
        at(&out, "stdout")
            .as_str()
            .is_some_and(|s| s.trim_end().ends_with("/src")),
        "{out}"
    );
}
