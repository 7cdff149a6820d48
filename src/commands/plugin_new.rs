//! `pocket plugin new NAME --kind lua|wasm|native [--lang rust|go]`: a
//! plugin project that builds and passes `pocket plugin test` as written,
//! with one node type (a config schema, declared examples), a README and a
//! package manifest.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pocket_core::check_registered_name;

use crate::cli::{ScaffoldKind, ScaffoldLang};

/// Where the SDKs (pocket-pdk, pocket-native-sdk, the Go SDK) are: the
/// Pocket source this binary was built from.
const POCKET_SOURCE: &str = env!("CARGO_MANIFEST_DIR");

/// The files of a project: (path in the project, template).
fn templates(kind: ScaffoldKind, lang: ScaffoldLang) -> Vec<(String, &'static str)> {
    let mut files = vec![
        ("README.md".to_string(), include_str!("../scaffold/README.md")),
        (
            "pocket-plugin.toml".to_string(),
            include_str!("../scaffold/pocket-plugin.toml"),
        ),
    ];
    match kind {
        ScaffoldKind::Lua => files.push(("{{name}}.lua".into(), include_str!("../scaffold/greet.lua"))),
        ScaffoldKind::Wasm if lang == ScaffoldLang::Go => files.extend([
            ("go.mod".to_string(), include_str!("../scaffold/go.mod")),
            ("main.go".to_string(), include_str!("../scaffold/go-main.go")),
        ]),
        ScaffoldKind::Wasm => files.extend([
            ("Cargo.toml".to_string(), include_str!("../scaffold/wasm-Cargo.toml")),
            (
                ".cargo/config.toml".to_string(),
                include_str!("../scaffold/wasm-cargo-config.toml"),
            ),
            ("src/lib.rs".to_string(), include_str!("../scaffold/wasm-lib.rs")),
        ]),
        ScaffoldKind::Native => files.extend([
            ("Cargo.toml".to_string(), include_str!("../scaffold/native-Cargo.toml")),
            ("src/lib.rs".to_string(), include_str!("../scaffold/native-lib.rs")),
        ]),
    }
    files
}

/// The values the templates' `{{...}}` stand for.
fn variables(name: &str, kind: ScaffoldKind, lang: ScaffoldLang, sdk: &Path) -> Vec<(&'static str, String)> {
    let library = name.replace('-', "_");
    let (artifact, build) = match kind {
        ScaffoldKind::Lua => (format!("{name}.lua"), String::new()),
        ScaffoldKind::Wasm if lang == ScaffoldLang::Go => (
            format!("{name}.wasm"),
            format!("GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o {name}.wasm .   # Go 1.24 or newer\n"),
        ),
        ScaffoldKind::Wasm => (
            format!("target/wasm32-unknown-unknown/release/{library}.wasm"),
            "rustup target add wasm32-unknown-unknown   # once\ncargo build --release\n".to_string(),
        ),
        ScaffoldKind::Native => (
            format!(
                "target/release/{}{library}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ),
            "cargo build --release\n".to_string(),
        ),
    };
    vec![
        ("{{name}}", name.to_string()),
        ("{{kind}}", kind.to_string()),
        (
            "{{lang}}",
            match (kind, lang) {
                (ScaffoldKind::Wasm, ScaffoldLang::Go) => " --lang go".to_string(),
                _ => String::new(),
            },
        ),
        ("{{artifact}}", artifact),
        ("{{build}}", build),
        ("{{sdk}}", sdk.display().to_string()),
    ]
}

/// Writes the project of plugin `name` into `dir` (default `./NAME`), which
/// must not exist yet or be empty.
pub fn new(
    name: &str,
    kind: ScaffoldKind,
    lang: ScaffoldLang,
    dir: Option<&Path>,
    sdk: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // The name every load path will check: refused here, before any file is written.
    check_registered_name(name)?;
    if lang != ScaffoldLang::Rust && kind != ScaffoldKind::Wasm {
        bail!("--lang {lang} is for --kind wasm; {kind} plugins are written in Rust or Lua");
    }
    if kind != ScaffoldKind::Lua && name.contains('.') {
        bail!("`{name}` is not a valid Rust crate name: use letters, digits, `-` and `_` only");
    }
    let sdk = match sdk {
        Some(sdk) => std::path::absolute(sdk)?,
        None => PathBuf::from(POCKET_SOURCE),
    };
    let needs = match (kind, lang) {
        (ScaffoldKind::Lua, _) => None,
        (ScaffoldKind::Wasm, ScaffoldLang::Go) => Some("backends/wasm/sdks/go/go.mod"),
        _ => Some("backends/wasm/pdk/Cargo.toml"),
    };
    if needs.is_some_and(|file| !sdk.join(file).is_file()) {
        bail!(
            "the Pocket SDK crates are not in {}; give the Pocket source directory with --sdk DIR",
            sdk.display()
        );
    }
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} already exists and is not empty; choose another --dir",
            dir.display()
        );
    }
    let variables = variables(name, kind, lang, &sdk);
    let fill = |text: &str| {
        variables
            .iter()
            .fold(text.to_string(), |text, (key, value)| text.replace(key, value))
    };
    for (path, template) in templates(kind, lang) {
        let file = dir.join(fill(&path));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&file, fill(template)).with_context(|| format!("cannot write {}", file.display()))?;
    }
    println!("created {kind} plugin `{name}` in {}", dir.display());
    println!("next: see {}", dir.join("README.md").display());
    Ok(ExitCode::SUCCESS)
}
