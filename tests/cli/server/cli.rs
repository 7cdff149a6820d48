//! `pocket run --remote` and `pocket runs` against a running server and its history.

use super::{Site, call};
use crate::{exec, pocket};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_remote_and_runs_list_show_work_against_the_server_and_the_local_history() {
    let site = Site::new("");
    let server = site.start();
    let base = server.base.clone();
    let config = site.path().join("pocket.toml");
    let hello_file = site.path().join("flows/hello.yaml");
    let (by_file, by_name, failing, remote_list, local_list) = tokio::task::spawn_blocking(move || {
        let by_file = exec(
            pocket()
                .args(["run", "--remote", &base, "--input", r#"{"who": "file"}"#])
                .arg(&hello_file),
        );
        let by_name = exec(pocket().args(["run", "hello", "--remote", &base, "--set", "who=name", "--trace"]));
        let broken =
            "name: broken\nstart: a\nnodes:\n  - {name: a, type: transform, config: {jq: 'error(\"nope\")'}}\n";
        let broken_file = hello_file.with_file_name("broken.workflow");
        std::fs::write(&broken_file, broken).unwrap();
        let failing = exec(pocket().args(["run", "--remote", &base]).arg(&broken_file));
        let remote_list = exec(pocket().args(["runs", "list", "--remote", &base]));
        let local_list = exec(
            pocket()
                .arg("--config")
                .arg(&config)
                .args(["runs", "list", "--status", "succeeded"]),
        );
        (by_file, by_name, failing, remote_list, local_list)
    })
    .await
    .unwrap();
    assert_eq!(by_file.code, 0, "{}", by_file.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&by_file.stdout).unwrap()["greeting"],
        "hello file"
    );
    assert_eq!(by_name.code, 0, "{}", by_name.stderr);
    assert!(by_name.stdout.contains("hello name"), "{}", by_name.stdout);
    assert!(
        by_name.stderr.contains("greet") && by_name.stderr.contains("transform"),
        "the trace: {}",
        by_name.stderr
    );
    assert_eq!(failing.code, 1, "{}", failing.stdout);
    assert!(
        failing.stderr.contains("failed") && failing.stderr.contains("nope"),
        "{}",
        failing.stderr
    );
    assert_eq!(remote_list.code, 0, "{}", remote_list.stderr);
    assert_eq!(
        remote_list.stdout.lines().filter(|l| l.contains("succeeded")).count(),
        2,
        "{}",
        remote_list.stdout
    );
    assert!(
        remote_list.stdout.contains("broken") && remote_list.stdout.contains("failed"),
        "{}",
        remote_list.stdout
    );
    assert_eq!(local_list.code, 0, "{}", local_list.stderr);
    assert_eq!(
        local_list.stdout.lines().filter(|l| l.contains("succeeded")).count(),
        2,
        "{}",
        local_list.stdout
    );

    let id = call("GET", &server.url("/v1/runs?status=failed"), None, None)
        .await
        .json["runs"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = server.base.clone();
    let config = site.path().join("pocket.toml");
    let (remote_show, local_show, missing) = tokio::task::spawn_blocking(move || {
        (
            exec(pocket().args(["runs", "show", &id, "--remote", &base])),
            exec(pocket().arg("--config").arg(&config).args(["runs", "show", &id])),
            exec(pocket().args(["runs", "show", "nope", "--remote", &base])),
        )
    })
    .await
    .unwrap();
    for shown in [&remote_show, &local_show] {
        assert_eq!(shown.code, 0, "{}", shown.stderr);
        let run: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
        assert_eq!(run["status"], "failed");
        assert!(run["error"].as_str().unwrap().contains("nope"), "{run}");
        assert_eq!(run["timeline"][0]["node"], "a");
    }
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("404") && missing.stderr.contains("not found"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_commands_send_the_token_and_say_when_one_is_needed() {
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"cli-secret"))
    };
    let site = Site::new(&format!(
        "[[server.tokens]]\nname = \"cli\"\nsha256 = \"{hash}\"\nscopes = [\"run\", \"read\"]\n"
    ));
    let server = site.start();
    let base = server.base.clone();
    let (without, with_env, with_flag) = tokio::task::spawn_blocking(move || {
        (
            exec(pocket().args(["run", "hello", "--remote", &base])),
            exec(
                pocket()
                    .args(["run", "hello", "--remote", &base])
                    .env("POCKET_TOKEN", "cli-secret"),
            ),
            exec(pocket().args(["runs", "list", "--remote", &base, "--token", "cli-secret"])),
        )
    })
    .await
    .unwrap();
    assert_eq!(without.code, 1);
    assert!(
        without.stderr.contains("401") && without.stderr.contains("--token"),
        "{}",
        without.stderr
    );
    assert_eq!(with_env.code, 0, "{}", with_env.stderr);
    assert_eq!(with_flag.code, 0, "{}", with_flag.stderr);
    assert!(with_flag.stdout.contains("hello"), "{}", with_flag.stdout);
}
