//! `pocket plugin new NAME --kind lua|wasm|extism|native [--lang
//! rust|go|zig|assemblyscript|javascript]`: a plugin project that builds and passes
//! `pocket plugin test` as written, with one node type (a config schema,
//! declared examples), a README and a package manifest.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pocket_core::check_registered_name;

use crate::cli::{ScaffoldKind, ScaffoldLang};

/// Where the SDKs (pocket-pdk, pocket-native-sdk, the Go, Zig,
/// AssemblyScript and JavaScript SDKs) are: the Pocket source this binary was built from.
const POCKET_SOURCE: &str = env!("CARGO_MANIFEST_DIR");

/// One kind of project: its files and how it is built. Every text may hold
/// the `{{...}}` variables of [`variables`].
struct Scaffold {
    /// (path in the project, template), besides the README and manifest.
    files: &'static [(&'static str, &'static str)],
    /// The plugin file the build makes, relative to the project.
    artifact: &'static str,
    /// The commands that build it (README), one per line.
    build: &'static str,
    /// A file of the Pocket source the project depends on, if any.
    sdk_file: Option<&'static str>,
    /// `pocket-plugin.toml`'s `kind`.
    plugin_kind: &'static str,
}

const CARGO_WASM_CONFIG: (&str, &str) = (".cargo/config.toml", include_str!("../scaffold/wasm-cargo-config.toml"));

/// The scaffold of `kind` in `lang`; an error for a pair there is none of.
fn scaffold(kind: ScaffoldKind, lang: ScaffoldLang) -> anyhow::Result<Scaffold> {
    Ok(match (kind, lang) {
        (ScaffoldKind::Lua, ScaffoldLang::Rust) => Scaffold {
            files: &[("{{name}}.lua", include_str!("../scaffold/greet.lua"))],
            artifact: "{{name}}.lua",
            build: "",
            sdk_file: None,
            plugin_kind: "lua",
        },
        (ScaffoldKind::Wasm, ScaffoldLang::Rust) => Scaffold {
            files: &[
                ("Cargo.toml", include_str!("../scaffold/wasm-Cargo.toml")),
                CARGO_WASM_CONFIG,
                ("src/lib.rs", include_str!("../scaffold/wasm-lib.rs")),
            ],
            artifact: "target/wasm32-unknown-unknown/release/{{library}}.wasm",
            build: "rustup target add wasm32-unknown-unknown   # once\ncargo build --release\n",
            sdk_file: Some("backends/wasm/pdk/Cargo.toml"),
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Wasm, ScaffoldLang::Go) => Scaffold {
            files: &[
                ("go.mod", include_str!("../scaffold/go.mod")),
                ("main.go", include_str!("../scaffold/go-main.go")),
            ],
            artifact: "{{name}}.wasm",
            build: "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o {{name}}.wasm .   # Go 1.24 or newer\n",
            sdk_file: Some("backends/wasm/sdks/go/go.mod"),
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Wasm, ScaffoldLang::Zig) => Scaffold {
            files: &[("main.zig", include_str!("../scaffold/zig-main.zig"))],
            artifact: "{{name}}.wasm",
            build: "# Zig 0.17 (pip install ziglang==0.17.1 gives `python3 -m ziglang`)\n\
                    zig build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \\\n    \
                    --dep pocket -Mroot=main.zig -Mpocket={{sdk}}/backends/wasm/sdks/zig/pocket.zig \\\n    \
                    --name {{name}} -femit-bin={{name}}.wasm\n",
            sdk_file: Some("backends/wasm/sdks/zig/pocket.zig"),
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Wasm, ScaffoldLang::Assemblyscript) => Scaffold {
            files: &[
                ("main.ts", include_str!("../scaffold/as-main.ts")),
                ("package.json", include_str!("../scaffold/as-package.json")),
            ],
            artifact: "{{name}}.wasm",
            build: "npm install      # AssemblyScript 0.28 and the SDK (Node.js 20 or newer)\nnpm run build\n",
            sdk_file: Some("backends/wasm/sdks/assemblyscript/package.json"),
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Wasm, ScaffoldLang::Javascript) => Scaffold {
            files: &[("main.js", include_str!("../scaffold/js-main.js"))],
            artifact: "{{name}}.wasm",
            build: "# QuickJS and the SDK compiled with Zig (fetched into the Pocket source's target/tools the first time)\n\
                    bash {{sdk}}/scripts/build-js-plugins.sh main.js {{name}}.wasm\n",
            sdk_file: Some("backends/wasm/sdks/javascript/pocket_js.c"),
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Extism, ScaffoldLang::Rust) => Scaffold {
            files: &[
                ("Cargo.toml", include_str!("../scaffold/extism-Cargo.toml")),
                CARGO_WASM_CONFIG,
                ("src/lib.rs", include_str!("../scaffold/extism-lib.rs")),
                ("{{name}}.extism.toml", include_str!("../scaffold/extism-manifest.toml")),
            ],
            artifact: "{{name}}.wasm",
            build: "rustup target add wasm32-unknown-unknown   # once\ncargo build --release\n\
                    cp target/wasm32-unknown-unknown/release/{{library}}.wasm {{name}}.wasm   # beside its manifest\n",
            sdk_file: None,
            plugin_kind: "wasm",
        },
        (ScaffoldKind::Native, ScaffoldLang::Rust) => Scaffold {
            files: &[
                ("Cargo.toml", include_str!("../scaffold/native-Cargo.toml")),
                ("src/lib.rs", include_str!("../scaffold/native-lib.rs")),
            ],
            artifact: "target/release/{{dll_prefix}}{{library}}{{dll_suffix}}",
            build: "cargo build --release\n",
            sdk_file: Some("backends/native/sdk/Cargo.toml"),
            plugin_kind: "native",
        },
        (kind, lang) => bail!("--lang {lang} is for --kind wasm; {kind} plugins are written in Rust or Lua"),
    })
}

/// The values the templates' `{{...}}` stand for (`{{artifact}}` and
/// `{{build}}` hold other variables, so they are filled first).
fn variables(
    name: &str,
    kind: ScaffoldKind,
    lang: ScaffoldLang,
    scaffold: &Scaffold,
    sdk: &Path,
) -> Vec<(&'static str, String)> {
    let lang = match (kind, lang) {
        (ScaffoldKind::Wasm, ScaffoldLang::Rust)
        | (ScaffoldKind::Lua | ScaffoldKind::Extism | ScaffoldKind::Native, _) => String::new(),
        (ScaffoldKind::Wasm, lang) => format!(" --lang {lang}"),
    };
    vec![
        ("{{artifact}}", scaffold.artifact.to_string()),
        ("{{build}}", scaffold.build.to_string()),
        ("{{name}}", name.to_string()),
        ("{{library}}", name.replace('-', "_")),
        ("{{kind}}", kind.to_string()),
        ("{{plugin_kind}}", scaffold.plugin_kind.to_string()),
        ("{{lang}}", lang),
        ("{{sdk}}", sdk.display().to_string()),
        ("{{dll_prefix}}", std::env::consts::DLL_PREFIX.to_string()),
        ("{{dll_suffix}}", std::env::consts::DLL_SUFFIX.to_string()),
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
    let scaffold = scaffold(kind, lang)?;
    if kind != ScaffoldKind::Lua && name.contains('.') {
        bail!("`{name}` is not a valid Rust crate name: use letters, digits, `-` and `_` only");
    }
    let sdk = match sdk {
        Some(sdk) => std::path::absolute(sdk)?,
        None => PathBuf::from(POCKET_SOURCE),
    };
    if scaffold.sdk_file.is_some_and(|file| !sdk.join(file).is_file()) {
        bail!(
            "the Pocket SDKs are not in {}; give the Pocket source directory with --sdk DIR",
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
    let variables = variables(name, kind, lang, &scaffold, &sdk);
    let fill = |text: &str| {
        variables
            .iter()
            .fold(text.to_string(), |text, (key, value)| text.replace(key, value))
    };
    let common = [
        ("README.md", include_str!("../scaffold/README.md")),
        ("pocket-plugin.toml", include_str!("../scaffold/pocket-plugin.toml")),
    ];
    for (path, template) in common.iter().chain(scaffold.files) {
        let file = dir.join(fill(path));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&file, fill(template)).with_context(|| format!("cannot write {}", file.display()))?;
    }
    println!("created {kind} plugin `{name}` in {}", dir.display());
    println!("next: see {}", dir.join("README.md").display());
    Ok(ExitCode::SUCCESS)
}
