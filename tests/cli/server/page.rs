//! The web page, in headless Chromium: it loads, starts a run through the
//! API, and shows the run finished with its output and timeline.

use std::path::PathBuf;
use std::process::Command;

use super::{Site, call};

/// Chromium: `$POCKET_TEST_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("POCKET_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    let found = ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    });
    PathBuf::from(found.expect("Chromium is not installed: scripts/test.sh installs it (Debian: chromium)"))
}

/// Headless Chromium on `url` with `args`, once the page's scripts have had
/// `budget_ms` of (virtual) time; its stdout.
fn headless(url: &str, args: &[&str], budget_ms: u32) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_starts_a_run_and_shows_it_finished() {
    let site = Site::new("");
    let server = site.start();
    // `#run=WORKFLOW&input=JSON`: the page starts the run itself, as its Run button does.
    let url = server.url("/#run=hello&input=%7B%22who%22%3A%22browser%22%7D");
    let dom = tokio::task::spawn_blocking(move || headless(&url, &["--dump-dom"], 10_000))
        .await
        .unwrap();
    assert!(
        dom.contains(r#"id="run-status" class="status succeeded""#),
        "the run is shown finished:\n{dom}"
    );
    assert!(dom.contains("hello browser"), "its output is shown:\n{dom}");
    assert!(
        dom.contains(r#"id="timeline""#) && dom.contains("greet"),
        "its timeline is shown:\n{dom}"
    );
    assert!(dom.contains(r#"id="runs-table""#), "the run list is shown:\n{dom}");

    let runs = call("GET", &server.url("/v1/runs"), None, None).await.json;
    assert_eq!(
        runs["runs"][0]["status"], "succeeded",
        "the browser's run is in the history: {runs}"
    );

    // A picture a person can look at: the same page with the run finished.
    let shot = site.path().join("page.png");
    let url = server.url("/#runs");
    let arg = format!("--screenshot={}", shot.display());
    tokio::task::spawn_blocking(move || headless(&url, &[&arg, "--window-size=1280,800"], 5_000))
        .await
        .unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot ({} bytes)",
        png.len()
    );
    if let Some(dir) = std::env::var_os("POCKET_TEST_SCREENSHOTS") {
        std::fs::copy(&shot, PathBuf::from(dir).join("server-page.png")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_without_a_token_and_the_graph_data_with_one() {
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"ui-secret"))
    };
    let site = Site::new(&format!(
        "[[server.tokens]]\nname = \"ui\"\nsha256 = \"{hash}\"\nscopes = [\"read\"]\n"
    ));
    let server = site.start();
    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(page.text().await.unwrap().contains("<title>Pocket</title>"));
    let workflow = call("GET", &server.url("/v1/workflows/hello"), Some("ui-secret"), None)
        .await
        .json;
    assert_eq!(workflow["graph"]["start"], "greet");
    assert_eq!(workflow["graph"]["nodes"][0]["type"], "transform");
}
