//! Plugin and workflow files changing under a running server.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Server, Site, call};

/// A Lua plugin `shout` whose node appends `suffix` to its input.
fn shout(suffix: &str) -> String {
    format!(
        "return {{ name = \"shout\", version = \"1.0.0\", nodes = {{ shout = {{ description = \"appends\", \
         exec = function(input) return input .. \"{suffix}\" end }} }} }}"
    )
}

const USES_SHOUT: &str = "name: loud\nstart: a\nnodes:\n  - {name: a, type: shout}\n";

/// Writes `text` to `path` as editors and deploy tools do: a new file renamed over the old.
fn replace(path: &Path, text: &str) {
    let staging = path.with_extension("staging");
    std::fs::write(&staging, text).unwrap();
    std::fs::rename(&staging, path).unwrap();
}

/// Polls `check` until it holds (at most 20 s; the watcher settles in about a second).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> Option<Value>) -> Value {
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the plugin listing shows a `reload_error` for `name`; the
/// listing.
async fn reload_error_reported(server: &Server, name: &str, what: &str) -> Value {
    eventually(what, async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        plugin(&plugins, name)?.get("reload_error").is_some().then_some(plugins)
    })
    .await
}

async fn run_loud(server: &Server, input: &str) -> Value {
    let answer = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "loud", "input": input})),
    )
    .await;
    answer.json
}

fn plugin<'a>(plugins: &'a Value, name: &str) -> Option<&'a Value> {
    plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_files_dropped_changed_broken_and_removed_take_effect_without_restart() {
    let site = Site::new("");
    std::fs::write(site.path().join("flows/loud.yaml"), USES_SHOUT).unwrap();
    let server = site.start();
    let workflows = call("GET", &server.url("/v1/workflows"), None, None).await.json;
    assert!(
        workflows["failed"][0]["error"].as_str().unwrap().contains("shout"),
        "{workflows}"
    );

    let file = site.path().join("plugins/shout.lua");
    replace(&file, &shout("!"));
    let run = eventually("the dropped-in plugin serves its workflow", async || {
        let run = run_loud(&server, "hey").await;
        (run["status"] == "succeeded").then_some(run)
    })
    .await;
    assert_eq!(run["output"], "hey!");

    // A broken version is refused; the loaded one keeps serving.
    replace(&file, "return { name = 'shout', nodes = ");
    let plugins = reload_error_reported(&server, "shout", "the broken version is reported").await;
    let shout_entry = plugin(&plugins, "shout").unwrap();
    assert_eq!(shout_entry["status"], "loaded", "{plugins}");
    assert_eq!(run_loud(&server, "still").await["output"], "still!");

    // A good version replaces it.
    replace(&file, &shout("?!"));
    eventually("the new version serves", async || {
        let run = run_loud(&server, "v2").await;
        (run["output"] == "v2?!").then_some(run)
    })
    .await;
    let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
    assert!(
        plugin(&plugins, "shout").unwrap().get("reload_error").is_none(),
        "{plugins}"
    );

    // Removed: the plugin goes, and its workflow with it.
    std::fs::remove_file(&file).unwrap();
    eventually("the removed plugin is gone", async || {
        let nodes = call("GET", &server.url("/v1/nodes"), None, None).await.json;
        let gone = !nodes["nodes"].as_array().unwrap().iter().any(|n| n["type"] == "shout");
        gone.then_some(nodes)
    })
    .await;
    let refused = call("POST", &server.url("/v1/runs"), None, Some(json!({"workflow": "loud"}))).await;
    assert_eq!(refused.status, 404, "{}", refused.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_files_reload_and_a_broken_edit_leaves_the_old_version_serving() {
    let site = Site::new("");
    let server = site.start();
    let file = site.path().join("flows/hello.yaml");
    replace(&file, &super::HELLO.replace("hello {{.who}}", "hi {{.who}}"));
    eventually("the edited workflow serves", async || {
        let run = call(
            "POST",
            &server.url("/v1/runs?wait=true"),
            None,
            Some(json!({"workflow": "hello", "input": {"who": "al"}})),
        )
        .await
        .json;
        (run["output"]["greeting"] == "hi al").then_some(run)
    })
    .await;
    replace(&file, "name: hello\nstart: missing\nnodes: []\n");
    let listed = eventually("the broken edit is reported", async || {
        let listed = call("GET", &server.url("/v1/workflows"), None, None).await.json;
        (!listed["failed"].as_array().unwrap().is_empty()).then_some(listed)
    })
    .await;
    assert!(
        listed["failed"][0]["error"].as_str().unwrap().contains("missing"),
        "{listed}"
    );
    let run = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "hello", "input": {"who": "al"}})),
    )
    .await
    .json;
    assert_eq!(run["output"]["greeting"], "hi al", "the last good version still serves");
    std::fs::write(
        site.path().join("flows/new.yaml"),
        "name: new\nstart: a\nnodes:\n  - {name: a, type: transform, config: {fresh: true}}\n",
    )
    .unwrap();
    eventually("a new workflow file serves", async || {
        let run = call(
            "POST",
            &server.url("/v1/runs?wait=true"),
            None,
            Some(json!({"workflow": "new"})),
        )
        .await
        .json;
        (run["output"]["fresh"] == true).then_some(run)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_library_dropped_in_loads_from_a_private_copy() {
    let site = Site::new("");
    let server = site.start();
    let library = super::super::libraries::library("pocket-plugin-text-tools");
    let target = site.path().join("plugins/native-text.so");
    let staging = site.path().join("plugins/native-text.staging");
    std::fs::copy(&library, &staging).unwrap();
    std::fs::rename(&staging, &target).unwrap();
    let plugins = eventually("the library loads", async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        plugin(&plugins, "native-text").is_some().then_some(plugins)
    })
    .await;
    let entry = plugin(&plugins, "native-text").unwrap();
    assert_eq!(entry["type"], "native", "{entry}");
    assert_eq!(entry["source"], json!(target), "{entry}");
    assert_eq!(upper(&server).await, "ABC");
    // Written over in place (same inode), the file is not what runs: the
    // library was loaded from a private copy, which nothing changes.
    std::fs::write(&target, b"not a library any more").unwrap();
    reload_error_reported(&server, "native-text", "the garbage is refused").await;
    assert_eq!(upper(&server).await, "ABC");
}

/// Runs the native `text-upper` node on `{"t": "abc"}`: its output's `t`.
async fn upper(server: &Server) -> Value {
    let inline = "name: up\nstart: a\nnodes:\n  - {name: a, type: text-upper, config: {field: t}}\n";
    let run = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"definition": inline, "input": {"t": "abc"}})),
    )
    .await
    .json;
    assert_eq!(run["status"], "succeeded", "{run}");
    run["output"]["t"].clone()
}

/// A Lua plugin declaring itself `name`, whose `echo` and `lua` nodes say
/// they are impostors.
fn impostor(name: &str) -> String {
    format!(
        "return {{ name = '{name}', nodes = {{ echo = {{ exec = function(input) return 'impostor' end }}, \
         lua = {{ exec = function(input) return 'impostor' end }} }} }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_named_after_a_built_in_plugin_never_replaces_or_removes_it() {
    let site = Site::new("");
    std::fs::write(
        site.path().join("flows/echoes.yaml"),
        "name: echoes\nstart: a\nnodes:\n  - {name: a, type: echo}\n  - {name: b, type: builtin/echo}\n  \
         - {name: c, type: lua, config: {source: 'return input.input.input'}}\nconnections:\n  - {from: a, to: b}\n  - {from: b, to: c}\n",
    )
    .unwrap();
    let server = site.start();
    let echoes = async || {
        let run = call(
            "POST",
            &server.url("/v1/runs?wait=true"),
            None,
            Some(json!({"workflow": "echoes", "input": {"x": 1}})),
        )
        .await
        .json;
        assert_eq!(run["status"], "succeeded", "{run}");
        run["output"].clone()
    };
    assert_eq!(echoes().await, json!({"x": 1}));
    for name in ["builtin", "lua"] {
        replace(&site.path().join(format!("plugins/{name}.lua")), &impostor(name));
    }
    let plugins = eventually("both files are refused", async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        let refused = |name| plugin(&plugins, name).and_then(|p| p.get("reload_error")).is_some();
        (refused("builtin") && refused("lua")).then_some(plugins)
    })
    .await;
    for name in ["builtin", "lua"] {
        let entry = plugin(&plugins, name).unwrap();
        assert!(entry["source"].is_null(), "still Pocket's own: {entry}");
        assert!(
            entry["reload_error"].as_str().unwrap().contains("built into Pocket"),
            "{entry}"
        );
    }
    assert_eq!(echoes().await, json!({"x": 1}), "Pocket's own nodes still serve");
    // Removing the files forgets their failures, and nothing else.
    for name in ["builtin", "lua"] {
        std::fs::remove_file(site.path().join(format!("plugins/{name}.lua"))).unwrap();
    }
    eventually("the refusals are forgotten", async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        let clean = ["builtin", "lua"]
            .iter()
            .all(|name| plugin(&plugins, name).is_some_and(|p| p.get("reload_error").is_none()));
        clean.then_some(plugins)
    })
    .await;
    assert_eq!(echoes().await, json!({"x": 1}));
    let workflows = call("GET", &server.url("/v1/workflows"), None, None).await.json;
    assert!(workflows["failed"].as_array().unwrap().is_empty(), "{workflows}");
}

/// `pocket --config SITE/pocket.toml ARGS`, which must succeed.
fn pocket_in(site: &Site, args: &[&std::ffi::OsStr]) -> String {
    let out = super::super::exec(
        super::super::pocket()
            .arg("--config")
            .arg(site.path().join("pocket.toml"))
            .args(args),
    );
    assert_eq!(out.code, 0, "pocket {args:?}: {}{}", out.stdout, out.stderr);
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_plugin_reloads_when_its_active_version_changes() {
    let site = Site::new("");
    let source = site.path().join("shout.lua");
    std::fs::write(&source, shout("!")).unwrap();
    pocket_in(&site, &["plugin".as_ref(), "install".as_ref(), source.as_os_str()]);
    std::fs::write(site.path().join("flows/loud.yaml"), USES_SHOUT).unwrap();
    let server = site.start();
    assert_eq!(run_loud(&server, "a").await["output"], "a!");

    let version = site.path().join("plugins/shout/1.0.0/shout.lua");
    replace(&version, &shout("?"));
    eventually("an edit in its version directory serves", async || {
        let run = run_loud(&server, "b").await;
        (run["output"] == "b?").then_some(run)
    })
    .await;
    // Written through the link, in place.
    std::fs::write(site.path().join("plugins/shout.lua"), shout("#")).unwrap();
    eventually("an edit through its link serves", async || {
        let run = run_loud(&server, "c").await;
        (run["output"] == "c#").then_some(run)
    })
    .await;
    std::fs::write(&version, "return {").unwrap();
    reload_error_reported(&server, "shout", "a broken edit is reported").await;
    assert_eq!(
        run_loud(&server, "d").await["output"],
        "d#",
        "the last good version serves"
    );
}

/// A site requiring signatures, trusting a new key `alice` (`alice.key`).
fn signing_site() -> Site {
    let site = Site::new("");
    let out = site.path().join("alice");
    pocket_in(
        &site,
        &["plugin".as_ref(), "keygen".as_ref(), "--out".as_ref(), out.as_os_str()],
    );
    let public = std::fs::read_to_string(site.path().join("alice.pub")).unwrap();
    std::fs::write(
        site.path().join("pocket.toml"),
        format!(
            "[plugins]\ndirectories = [\"plugins\"]\nrequire_signatures = true\n\n[plugins.trusted_keys]\nalice = \"{}\"\n\n\
             [server]\nlisten = \"127.0.0.1:0\"\nworkflows = \"flows\"\n",
            public.trim()
        ),
    )
    .unwrap();
    site
}

fn sign(site: &Site, file: &Path) {
    let key = site.path().join("alice.key");
    pocket_in(
        site,
        &[
            "plugin".as_ref(),
            "sign".as_ref(),
            file.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_native_plugin_installed_by_plugin_install_serves_under_required_signatures() {
    let site = signing_site();
    let file = site.path().join("native-text.so");
    std::fs::copy(super::super::libraries::library("pocket-plugin-text-tools"), &file).unwrap();
    sign(&site, &file);
    pocket_in(&site, &["plugin".as_ref(), "install".as_ref(), file.as_os_str()]);
    assert!(site.path().join("plugins/native-text.so").is_symlink());
    let server = site.start();
    let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
    let entry = plugin(&plugins, "native-text").unwrap();
    assert_eq!(entry["status"], "loaded", "{plugins}");
    assert_eq!(upper(&server).await, "ABC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_added_to_a_refused_native_plugin_lets_it_load() {
    let site = signing_site();
    let server = site.start();
    let target = site.path().join("plugins/native-text.so");
    let staging = site.path().join("plugins/native-text.staging");
    std::fs::copy(super::super::libraries::library("pocket-plugin-text-tools"), &staging).unwrap();
    std::fs::rename(&staging, &target).unwrap();
    let plugins = eventually("the unsigned library is refused", async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        (plugin(&plugins, "native-text")?["status"] == "failed").then_some(plugins)
    })
    .await;
    let entry = plugin(&plugins, "native-text").unwrap();
    assert!(entry["error"].as_str().unwrap().contains("not signed"), "{entry}");
    sign(&site, &target);
    eventually("the signed library loads", async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        (plugin(&plugins, "native-text")?["status"] == "loaded").then_some(plugins)
    })
    .await;
    assert_eq!(upper(&server).await, "ABC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_load_reload_and_unload_plugins_through_the_api() {
    let hash = |secret: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    let site = Site::new(&format!(
        "[[server.tokens]]\nname = \"ops\"\nsha256 = \"{}\"\nscopes = [\"admin\"]\n\n\
         [[server.tokens]]\nname = \"viewer\"\nsha256 = \"{}\"\nscopes = [\"read\", \"run\"]\n",
        hash("ops"),
        hash("viewer")
    ));
    let file = site.path().join("plugins/shout.lua");
    std::fs::write(&file, shout("!")).unwrap();
    std::fs::write(site.path().join("flows/loud.yaml"), USES_SHOUT).unwrap();
    let server = site.start();
    let admin = Some("ops");
    let run = async || {
        call(
            "POST",
            &server.url("/v1/runs?wait=true"),
            Some("ops"),
            Some(json!({"workflow": "loud", "input": "a"})),
        )
        .await
    };
    assert_eq!(run().await.json["output"], "a!");

    let refused = call("POST", &server.url("/v1/plugins/shout/unload"), Some("viewer"), None).await;
    assert_eq!(refused.status, 403, "{}", refused.json);
    let unloaded = call("POST", &server.url("/v1/plugins/shout/unload"), admin, None).await;
    assert_eq!(unloaded.json["status"], "unloaded", "{}", unloaded.json);
    assert_eq!(run().await.status, 404, "its workflow is no longer served");
    let builtin = call("POST", &server.url("/v1/plugins/builtin/unload"), admin, None).await;
    assert_eq!(builtin.status, 409);

    let reloaded = call("POST", &server.url("/v1/plugins/shout/reload"), admin, None).await;
    assert_eq!(reloaded.json["status"], "loaded", "{}", reloaded.json);
    assert_eq!(run().await.json["output"], "a!");

    // A broken file is refused by reload; the loaded version keeps serving.
    // (Written in place, so the watcher may also see it: either way it is refused.)
    let elsewhere = site.path().join("shout.lua");
    std::fs::write(&elsewhere, "return {").unwrap();
    let broken = call(
        "POST",
        &server.url("/v1/plugins/load"),
        admin,
        Some(json!({"path": elsewhere})),
    )
    .await;
    assert_eq!(broken.status, 422, "{}", broken.json);
    assert!(
        broken.json["error"].as_str().unwrap().contains("keeps serving"),
        "{}",
        broken.json
    );
    assert_eq!(run().await.json["output"], "a!");
    std::fs::write(&elsewhere, shout("?")).unwrap();
    let loaded = call(
        "POST",
        &server.url("/v1/plugins/load"),
        admin,
        Some(json!({"path": elsewhere})),
    )
    .await;
    assert_eq!(loaded.json["status"], "loaded", "{}", loaded.json);
    assert_eq!(run().await.json["output"], "a?");
    let missing = call(
        "POST",
        &server.url("/v1/plugins/load"),
        admin,
        Some(json!({"path": "/nope.lua"})),
    )
    .await;
    assert_eq!(missing.status, 400);
}

/// A workflow `pay` with the webhook `POST /hooks/pay`, answering `{"by": "pay"}`.
const PAY: &str = "name: pay\nstart: a\ntriggers:\n  - webhook: {path: /hooks/pay}\nnodes:\n  - {name: a, type: transform, config: {by: pay}}\n";

/// The file names `GET /v1/workflows` lists as failed.
fn failed_files(listed: &Value) -> Vec<String> {
    listed["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            Path::new(f["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_workflow_file_cannot_take_an_established_workflows_webhook_or_name() {
    let site = Site::new("");
    let established = site.path().join("flows/pay.yaml");
    std::fs::write(&established, PAY).unwrap();
    let server = site.start();
    let hook = async || {
        call("POST", &server.url("/hooks/pay?wait=true"), None, Some(json!({})))
            .await
            .json
    };
    assert_eq!(hook().await["output"], json!({"by": "pay"}));

    // Files that sort first: one claims the webhook, the other the name.
    replace(
        &site.path().join("flows/aaa-thief.yaml"),
        &PAY.replace("name: pay", "name: thief").replace("by: pay", "by: thief"),
    );
    replace(
        &site.path().join("flows/aab-twin.yaml"),
        &PAY.replace("/hooks/pay", "/hooks/twin").replace("by: pay", "by: twin"),
    );
    let listed = eventually("the newcomers are refused", async || {
        let listed = call("GET", &server.url("/v1/workflows"), None, None).await.json;
        let failed = failed_files(&listed);
        (failed.len() == 2 || failed.contains(&"pay.yaml".to_string())).then_some(listed)
    })
    .await;
    assert_eq!(failed_files(&listed), ["aaa-thief.yaml", "aab-twin.yaml"], "{listed}");
    let errors = listed["failed"].to_string();
    assert!(
        errors.contains("webhook POST /hooks/pay is already used by workflow `pay`"),
        "{errors}"
    );
    assert!(errors.contains("workflow `pay` is already defined by"), "{errors}");
    let pay = hook().await;
    assert_eq!(
        (&pay["workflow"], &pay["output"]),
        (&json!("pay"), &json!({"by": "pay"})),
        "{pay}"
    );

    // The holder keeps its webhook through an edit of its own file...
    replace(&established, &PAY.replace("by: pay", "by: pay-2"));
    eventually("the edited holder serves", async || {
        let run = hook().await;
        (run["output"] == json!({"by": "pay-2"})).then_some(run)
    })
    .await;
    // ...and once it is gone, the newcomers it held off are served.
    std::fs::remove_file(&established).unwrap();
    let taken = eventually("the webhook passes on", async || {
        let run = hook().await;
        (run["workflow"] == "thief").then_some(run)
    })
    .await;
    assert_eq!(taken["output"], json!({"by": "thief"}));
    let twin = call(
        "POST",
        &server.url("/v1/runs?wait=true"),
        None,
        Some(json!({"workflow": "pay"})),
    )
    .await
    .json;
    assert_eq!(twin["output"], json!({"by": "twin"}), "{twin}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extism_manifest_changed_beside_its_module_reloads_the_plugin() {
    let site = Site::new("");
    let module = crate::root().join("backends/wasm/tests/fixtures/extism-attacks.wat");
    std::fs::copy(module, site.path().join("plugins/kernel.wat")).unwrap();
    let server = site.start();
    let version = async || {
        let plugins = call("GET", &server.url("/v1/plugins"), None, None).await.json;
        plugin(&plugins, "kernel").map(|p| p["version"].clone())
    };
    assert_eq!(version().await, Some(json!("0.0.0")), "no manifest yet");
    replace(
        &site.path().join("plugins/kernel.extism.toml"),
        "version = \"2.0.0\"\n[nodes.ok]\ndescription = \"answers ok\"\n",
    );
    eventually("the manifest's version is served", async || {
        version().await.filter(|v| *v == "2.0.0")
    })
    .await;
}

/// A Python process plugin `shout` (in its own directory) whose node
/// appends `suffix` to its input.
fn python_shout(suffix: &str) -> String {
    format!(
        "from pocket_plugin import Plugin\nplugin = Plugin(\"shout\", version=\"1.0.0\")\n\
         @plugin.node(\"shout\", description=\"appends\")\ndef shout(value, config, ctx):\n    \
         return value + \"{suffix}\"\nplugin.run()\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_plugins_program_edited_under_a_running_server_is_reloaded() {
    let site = Site::new("");
    std::fs::write(site.path().join("flows/loud.yaml"), USES_SHOUT).unwrap();
    let dir = site.path().join("plugins/shout");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        super::super::root().join("backends/process/sdks/python/pocket_plugin.py"),
        dir.join("pocket_plugin.py"),
    )
    .unwrap();
    std::fs::write(dir.join("main.py"), python_shout("!")).unwrap();
    std::fs::write(
        dir.join("pocket-plugin.toml"),
        "name = \"shout\"\nversion = \"1.0.0\"\nkind = \"process\"\ncommand = \"python3\"\nargs = [\"main.py\"]\n",
    )
    .unwrap();
    let server = site.start();
    assert_eq!(run_loud(&server, "hey").await["output"], "hey!");
    replace(&dir.join("main.py"), &python_shout("?!"));
    eventually("the edited program serves", async || {
        let run = run_loud(&server, "v2").await;
        (run["output"] == "v2?!").then_some(run)
    })
    .await;
    // A file in a subdirectory of it counts too.
    std::fs::create_dir(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/suffix.py"), "SUFFIX = '...'\n").unwrap();
    replace(
        &dir.join("main.py"),
        &python_shout("\" + __import__('lib.suffix').suffix.SUFFIX + \""),
    );
    eventually("the program using its subdirectory serves", async || {
        let run = run_loud(&server, "v3").await;
        (run["output"] == "v3...").then_some(run)
    })
    .await;
    std::fs::write(dir.join("lib/suffix.py"), "SUFFIX = '!!!'\n").unwrap();
    eventually("an edit in the subdirectory reloads it", async || {
        let run = run_loud(&server, "v4").await;
        (run["output"] == "v4!!!").then_some(run)
    })
    .await;
}
