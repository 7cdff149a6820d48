//! Plugin signatures: keygen, sign, verify, and the load-time rule under
//! `require_signatures = true` and `false`.

use std::os::unix::fs::PermissionsExt;

use crate::deployment::{Deployment, lua_plugin, workflow};
use serde_json::json;

use crate::{exec, listed_row};

/// A deployment trusting a new key `alice` (its key file: `alice.key`).
fn trusting_alice(require: bool) -> Deployment {
    let d = Deployment::new(&["plugins"], "");
    let out = exec(d.pocket().args(["plugin", "keygen", "--out"]).arg(d.path("alice")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let public = std::fs::read_to_string(d.path("alice.pub")).unwrap();
    d.write(
        "pocket.toml",
        &format!(
            "[plugins]\ndirectories = [\"plugins\"]\nrequire_signatures = {require}\n\n[plugins.trusted_keys]\nalice = \"{}\"\n",
            public.trim()
        ),
    );
    d
}

fn sign(d: &Deployment, file: &std::path::Path, key: &str) {
    let out = exec(
        d.pocket()
            .args(["plugin", "sign"])
            .arg(file)
            .arg("--key")
            .arg(d.path(key)),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Four plugins: signed by alice, unsigned, changed after signing, signed by a stranger.
fn four_plugins(d: &Deployment) {
    for name in ["signed", "unsigned", "tampered", "stranger"] {
        d.write(
            &format!("plugins/{name}.lua"),
            &lua_plugin(name, "1.0.0", &format!("{name}-node")),
        );
    }
    sign(d, &d.path("plugins/signed.lua"), "alice.key");
    sign(d, &d.path("plugins/tampered.lua"), "alice.key");
    d.write(
        "plugins/tampered.lua",
        &lua_plugin("tampered", "6.6.6", "tampered-node"),
    );
    let out = exec(d.pocket().args(["plugin", "keygen", "--out"]).arg(d.path("mallory")));
    assert_eq!(out.code, 0);
    sign(d, &d.path("plugins/stranger.lua"), "mallory.key");
}

#[test]
fn keygen_writes_a_private_secret_key_and_the_line_that_trusts_it() {
    let d = Deployment::new(&["plugins"], "");
    let out = exec(d.pocket().args(["plugin", "keygen", "--out"]).arg(d.path("team")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = std::fs::metadata(d.path("team.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let public = std::fs::read_to_string(d.path("team.pub")).unwrap();
    assert!(
        out.stdout.contains(&format!("team = \"{}\"", public.trim())),
        "{}",
        out.stdout
    );
    let again = exec(d.pocket().args(["plugin", "keygen", "--out"]).arg(d.path("team")));
    assert!(
        again.code == 1 && again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );
}

#[test]
fn with_signatures_required_only_a_plugin_signed_by_a_trusted_key_loads() {
    let d = trusting_alice(true);
    four_plugins(&d);
    let out = exec(d.pocket().args(["plugin", "list"]));
    let row = |name: &str| listed_row(&out.stdout, name);
    assert!(row("signed").contains("loaded"), "{}", out.stdout);
    for (name, reason) in [
        ("unsigned", "is not signed"),
        ("tampered", "changed after it was signed"),
        ("stranger", "not a trusted key"),
    ] {
        assert!(row(name).contains("failed"), "{}", out.stdout);
        assert!(
            out.stdout.contains(&format!("{name} failed to load")) && out.stdout.contains(reason),
            "{name}: {}",
            out.stdout
        );
    }
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "signed-node")));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn without_signatures_required_an_unsigned_plugin_loads_with_a_warning_but_a_bad_one_does_not() {
    let d = trusting_alice(false);
    four_plugins(&d);
    let out = exec(d.pocket().args(["plugin", "list"]));
    let row = |name: &str| listed_row(&out.stdout, name);
    assert!(
        row("signed").contains("loaded") && row("unsigned").contains("loaded"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("unsigned.lua") && out.stderr.contains("not signed"),
        "{}",
        out.stderr
    );
    assert!(
        row("tampered").contains("failed") && row("stranger").contains("failed"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_says_by_which_key_or_why_not() {
    let d = trusting_alice(true);
    four_plugins(&d);
    let ok = exec(d.pocket().args(["plugin", "verify"]).arg(d.path("plugins/signed.lua")));
    assert_eq!(ok.code, 0);
    assert!(ok.stdout.contains("signed by trusted key `alice`"), "{}", ok.stdout);
    for (name, reason) in [
        ("unsigned", "not signed"),
        ("tampered", "changed"),
        ("stranger", "not a trusted key"),
    ] {
        let out = exec(
            d.pocket()
                .args(["plugin", "verify"])
                .arg(d.path(&format!("plugins/{name}.lua"))),
        );
        assert_eq!(out.code, 1, "{name}");
        assert!(
            out.stdout.starts_with("invalid: ") && out.stdout.contains(reason),
            "{name}: {}",
            out.stdout
        );
    }
}

#[test]
fn install_verifies_before_it_writes_and_the_installed_version_keeps_its_signature() {
    let d = trusting_alice(true);
    let project = d.path("src");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("hello.lua"), lua_plugin("hello", "1.0.0", "hi")).unwrap();
    std::fs::write(project.join("README.md"), "# hello\n").unwrap();
    std::fs::write(
        project.join("pocket-plugin.toml"),
        "name = 'hello'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'hello.lua'\nreadme = 'README.md'\n",
    )
    .unwrap();
    let package = |name: &str, key: Option<&str>| {
        let out_file = d.path(name);
        let mut command = d.pocket();
        command
            .args(["plugin", "package"])
            .arg(&project)
            .arg("--out")
            .arg(&out_file);
        if let Some(key) = key {
            command.arg("--key").arg(d.path(key));
        }
        let out = exec(&mut command);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out_file
    };
    let install = |package: &std::path::Path| exec(d.pocket().args(["plugin", "install"]).arg(package));
    let unsigned = package("unsigned.tar.gz", None);
    let out = install(&unsigned);
    assert!(out.code == 1 && out.stderr.contains("not signed"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(d.path("plugins")).unwrap().count(), 0);
    // A signed plugin file in an unsigned package: its README and manifest
    // are not covered, so a deployment requiring signatures refuses it.
    sign(&d, &project.join("hello.lua"), "alice.key");
    let out = install(&package("file-signed.tar.gz", None));
    assert!(
        out.code == 1 && out.stderr.contains("the package is not signed"),
        "{}",
        out.stderr
    );

    let signed = package("signed.tar.gz", Some("alice.key"));
    // Changed after signing: the README, a file slipped in, the manifest.
    for (name, edit, reason) in [
        (
            "readme.tar.gz",
            Edit::Replace("README.md", "# pwned\n"),
            "`README.md` does not match its digest",
        ),
        (
            "extra.tar.gz",
            Edit::Add("evil.txt", "x"),
            "`evil.txt` is in the package but not in its manifest",
        ),
        (
            "manifest.tar.gz",
            Edit::Replace(
                "pocket-plugin.toml",
                "name = 'hello'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'hello.lua'\n",
            ),
            "signature",
        ),
    ] {
        let tampered = d.path(name);
        repack(&signed, &tampered, &edit);
        let out = install(&tampered);
        assert!(out.code == 1 && out.stderr.contains(reason), "{name}: {}", out.stderr);
        assert_eq!(std::fs::read_dir(d.path("plugins")).unwrap().count(), 0, "{name}");
    }

    let out = install(&signed);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(d.path("plugins/hello/1.0.0/hello.lua.sig").is_file());
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "hello/hi")));
    assert_eq!(run.code, 0, "the installed, signed version loads: {}", run.stderr);
}

/// A change made to a package after it was signed.
enum Edit {
    /// This file's content replaced.
    Replace(&'static str, &'static str),
    /// A file added.
    Add(&'static str, &'static str),
}

/// Copies the .tar.gz `from` to `to` with `edit` applied.
fn repack(from: &std::path::Path, to: &std::path::Path, edit: &Edit) {
    let mut entries = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap()));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if let Edit::Replace(target, text) = edit
            && *target == name
        {
            bytes = text.as_bytes().to_vec();
        }
        entries.push((name, bytes));
    }
    if let Edit::Add(name, text) = edit {
        entries.push((name.to_string(), text.as_bytes().to_vec()));
    }
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    ));
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes.as_slice()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

/// A Lua plugin `probe` declaring `declared`, whose node `probe` tries kv,
/// http, env and its config's `password`, reporting what each answered.
fn probe(declared: &str) -> String {
    format!(
        "return {{ name = 'probe', permissions = {{ {declared} }}, nodes = {{ probe = {{ exec = function(input, config) \
           local ok, kv_err = kv.set('k', 1) \
           local _, http_err = http.request('http://127.0.0.1:9/x') \
           local home, env_err = env.get('HOME') \
           return {{ kv = kv_err or 'ok', http = http_err or 'ok', env = env_err or (home and 'ok'), password = config.password or 'withheld' }} \
         end }} }} }}\n"
    )
}

fn run_probe(d: &Deployment) -> serde_json::Value {
    let out = exec(d.pocket().arg("run").arg(workflow(d, "probe")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn a_host_call_needs_both_the_declaration_and_the_grant() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/probe.lua", &probe("'kv', 'env:HOME'"));
    d.write(
        "pocket.toml",
        "[plugins]\ndirectories = [\"plugins\"]\n[plugins.permissions]\nprobe = [\"log\", \"http\", \"env:*\"]\n",
    );
    let answers = run_probe(&d);
    assert!(
        answers["kv"]
            .as_str()
            .unwrap()
            .contains("pocket.toml does not grant it"),
        "{answers}"
    );
    assert!(
        answers["http"]
            .as_str()
            .unwrap()
            .contains("the plugin does not declare it"),
        "{answers}"
    );
    assert_eq!(answers["env"], "ok", "declared and granted");

    let out = exec(d.pocket().args(["plugin", "permissions", "probe"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("permissions declared: kv, env:HOME"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("permissions granted: log, http, env:*"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not granted: kv") && out.stdout.contains(r#"probe = ["log", "http", "env:*", "kv"]"#),
        "{}",
        out.stdout
    );
    let info = exec(d.pocket().args(["plugin", "info", "probe"]));
    assert!(info.stdout.contains("not granted: kv"), "{}", info.stdout);
    assert!(
        info.stdout
            .contains("calls in the current rate windows (this process): 0 host calls"),
        "{}",
        info.stdout
    );
}

#[test]
fn a_secret_config_key_is_withheld_until_granted_and_declared() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/probe.lua", &probe("'config:password'"));
    let base = "[plugins]\ndirectories = [\"plugins\"]\n[plugins.config.probe]\npassword = \"hunter2\"\n";
    d.write("pocket.toml", base);
    assert_eq!(run_probe(&d)["password"], "withheld");
    d.write(
        "pocket.toml",
        &format!("{base}[plugins.permissions]\nprobe = [\"config:password\"]\n"),
    );
    assert_eq!(run_probe(&d)["password"], "hunter2");
    // The same grant to a plugin that declares only `log` gives it nothing.
    d.write("plugins/probe.lua", &probe("'log'"));
    d.write(
        "pocket.toml",
        &format!("{base}[plugins.permissions]\nprobe = [\"log\", \"config:*\"]\n"),
    );
    assert_eq!(run_probe(&d)["password"], "withheld");
}

#[test]
fn secret_config_keys_are_withheld_at_any_depth_from_pocket_toml_and_the_environment() {
    let d = Deployment::new(&["plugins"], "");
    d.write(
        "plugins/dump.lua",
        "return { name = 'dump', permissions = { 'config:database.password' }, nodes = { dump = { \
           exec = function(input, config) return config end } } }\n",
    );
    let base = "[plugins]\ndirectories = [\"plugins\"]\n\
                [plugins.config.dump.database]\nhost = \"db\"\npassword = \"hunter2\"\n";
    let dump = |d: &Deployment| {
        let out = exec(
            d.pocket()
                .env(
                    "POCKET_PLUGIN_DUMP_SETTINGS",
                    r#"{"mode": "fast", "nested": [{"token": "t0k", "id": 1}]}"#,
                )
                .arg("run")
                .arg(workflow(d, "dump")),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    d.write("pocket.toml", base);
    assert_eq!(
        dump(&d),
        json!({"database": {"host": "db"}, "settings": {"mode": "fast", "nested": [{"id": 1}]}})
    );
    d.write(
        "pocket.toml",
        &format!("{base}[plugins.permissions]\ndump = [\"config:*\"]\n"),
    );
    assert_eq!(
        dump(&d),
        json!({"database": {"host": "db", "password": "hunter2"}, "settings": {"mode": "fast", "nested": [{"id": 1}]}}),
        "granted everything, it gets what it declares"
    );
}

#[test]
fn the_go_engines_permission_names_grant_the_same_capabilities() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/probe.lua", &probe("'env:*', 'http'"));
    d.write(
        "pocket.toml",
        "[plugins]\ndirectories = [\"plugins\"]\n[plugins.security]\ndefault_permissions = [\"none\"]\npermissions.probe = [\"read_env\", \"network_access\"]\n",
    );
    let answers = run_probe(&d);
    assert_eq!(answers["env"], "ok", "{answers}");
    assert!(
        !answers["http"].as_str().unwrap().contains("permission denied"),
        "{answers}"
    );
    assert!(
        answers["kv"].as_str().unwrap().contains("permission denied"),
        "{answers}"
    );
}

/// A Lua plugin `boom` whose top level fails with a marker: seeing the
/// marker means its code ran.
const BOOM: &str = "error('TOP-LEVEL-RAN')\nreturn { name = 'boom', nodes = {} }\n";

/// The entries of `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn with_signatures_required_load_install_and_test_refuse_an_unsigned_file_before_running_it() {
    let d = trusting_alice(true);
    let toml_before = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    let unsigned = d.write("unsigned.lua", &lua_plugin("unsigned", "1.0.0", "go"));
    let boom = d.write("boom.lua", BOOM);
    let commands: [(&str, &[&str], &std::path::Path); 6] = [
        ("load", &[], &unsigned),
        ("load", &["--alias", "other"], &unsigned),
        ("install", &[], &unsigned),
        ("load", &["--alias", "renamed"], &boom),
        ("install", &[], &boom),
        ("test", &[], &boom),
    ];
    for (command, extra, file) in commands {
        let out = exec(d.pocket().args(["plugin", command]).arg(file).args(extra));
        let what = format!("plugin {command} {} {extra:?}", file.display());
        assert_eq!(out.code, 1, "{what}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("not signed"), "{what}: {}", out.stderr);
        assert!(
            !out.stderr.contains("TOP-LEVEL-RAN") && !out.stdout.contains("TOP-LEVEL-RAN"),
            "{what}: its code ran: {}",
            out.stderr
        );
        assert!(entries(&d.path("plugins")).is_empty(), "{what} left files behind");
        assert_eq!(
            std::fs::read_to_string(d.path("pocket.toml")).unwrap(),
            toml_before,
            "{what}"
        );
    }
    let check = exec(d.pocket().args(["plugin", "check"]).arg(&boom));
    assert!(
        check.code == 1 && check.stdout.contains("not signed") && !check.stdout.contains("TOP-LEVEL-RAN"),
        "{}",
        check.stdout
    );
    // The host is fine: a signed plugin loads, with the signature it was checked with.
    sign(&d, &unsigned, "alice.key");
    let out = exec(d.pocket().args(["plugin", "load"]).arg(&unsigned));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(entries(&d.path("plugins")), ["unsigned.lua", "unsigned.lua.sig"]);
    let list = exec(d.pocket().args(["plugin", "list"]));
    assert!(
        listed_row(&list.stdout, "unsigned").contains("loaded"),
        "{}",
        list.stdout
    );
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "unsigned/go")));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn load_and_install_write_the_bytes_they_checked_with_the_signature_they_verified() {
    let d = trusting_alice(true);
    let source = d.write("src.lua", &lua_plugin("copied", "1.0.0", "go"));
    sign(&d, &source, "alice.key");
    let out = exec(
        d.pocket()
            .args(["plugin", "load"])
            .arg(&source)
            .args(["--alias", "aliased"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read(d.path("plugins/aliased.lua")).unwrap(),
        std::fs::read(&source).unwrap()
    );
    assert_eq!(
        std::fs::read(d.path("plugins/aliased.lua.sig")).unwrap(),
        std::fs::read(d.path("src.lua.sig")).unwrap()
    );
    let run = exec(d.pocket().arg("run").arg(workflow(&d, "aliased/go")));
    assert_eq!(run.code, 0, "the copy loads under the rule: {}", run.stderr);
}

#[test]
fn verify_and_check_find_an_installed_plugins_signature_as_loading_does() {
    let d = trusting_alice(true);
    let source = d.write("hello.lua", &lua_plugin("hello", "1.0.0", "hi"));
    sign(&d, &source, "alice.key");
    let out = exec(d.pocket().args(["plugin", "install"]).arg(&source));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let link = d.path("plugins/hello.lua");
    assert!(link.is_symlink());
    let verify = exec(d.pocket().args(["plugin", "verify"]).arg(&link));
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("signed by trusted key `alice`"),
        "{}",
        verify.stdout
    );
    let check = exec(d.pocket().args(["plugin", "check"]).arg(&link));
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert!(
        check.stdout.contains("signed by trusted key `alice`"),
        "{}",
        check.stdout
    );
    // The version's file changed: all three say so alike.
    std::fs::write(
        d.path("plugins/hello/1.0.0/hello.lua"),
        lua_plugin("hello", "6.6.6", "hi"),
    )
    .unwrap();
    let verify = exec(d.pocket().args(["plugin", "verify"]).arg(&link));
    assert!(
        verify.code == 1 && verify.stdout.contains("changed"),
        "{}",
        verify.stdout
    );
    let check = exec(d.pocket().args(["plugin", "check"]).arg(&link));
    assert!(check.code == 1 && check.stdout.contains("changed"), "{}", check.stdout);
    let list = exec(d.pocket().args(["plugin", "list"]));
    assert!(listed_row(&list.stdout, "hello").contains("failed"), "{}", list.stdout);
}
