//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Pocket: a plugin host and graph workflow runner.
#[derive(Debug, Parser)]
#[command(name = "pocket", version, about, long_about = None)]
pub struct Cli {
    /// pocket.toml to use (default: $POCKET_CONFIG, else the nearest pocket.toml upwards).
    /// Give it before the command: `pocket --config PATH plugin list`.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate and run a workflow; prints the result as JSON (with
    /// --remote, on a `pocket serve`: a file is sent, any other name is a
    /// workflow the server serves).
    Run(RunArgs),
    /// Runs in the run history (`pocket serve`'s), or on a server with --remote.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Check a workflow without running it.
    Validate {
        /// The workflow file (.yaml, .yml, .json or .toml).
        workflow: PathBuf,
    },
    /// Draw a workflow as a Mermaid or Graphviz diagram.
    Graph {
        /// The workflow file.
        workflow: PathBuf,
        /// Diagram syntax.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// List every node type with its plugin and description.
    Nodes,
    /// Manage plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Execute node executions for a cluster's schedulers (`pocket serve
    /// --cluster`, `pocket run --cluster`), pulled from NATS JetStream.
    Worker(WorkerArgs),
    /// Run a long-lived host: HTTP API, run history and metrics.
    Serve(ServeArgs),
    /// Internal: serve one native plugin under `isolation = "process"` to
    /// the pocket process that started this one, over stdin and stdout.
    #[command(name = "__native-child", hide = true)]
    NativeChild {
        /// The plugin's library (its signature was checked by the host).
        #[arg(long, value_name = "PATH")]
        library: PathBuf,
        /// The plugin's registered name.
        #[arg(long, value_name = "NAME")]
        plugin: String,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file (.yaml, .yml, .json or .toml); with --remote, or a served workflow's name.
    pub workflow: PathBuf,
    /// Input as JSON, or @path to a JSON file.
    #[arg(long, value_name = "JSON|@FILE")]
    pub input: Option<String>,
    /// Set an input field (dotted paths nest; values parse as JSON, else text).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Do not load this plugin for the run (repeatable).
    #[arg(long = "disable-plugin", value_name = "NAME")]
    pub disable_plugin: Vec<String>,
    /// Print a per-node timeline to stderr when the run ends.
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// With --cluster: the run's id. Running again with the id of a run
    /// that was interrupted resumes it (finished nodes are not run again).
    #[arg(long, value_name = "ID", requires = "cluster")]
    pub run_id: Option<String>,
}

/// A NATS JetStream cluster whose workers execute the nodes.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Execute nodes on the workers of this cluster (`nats://127.0.0.1:4222`).
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
    /// Start no new run while the cluster's work queue holds more attempts than this.
    #[arg(long, value_name = "N", default_value_t = 10_000, requires = "cluster")]
    pub max_queue_depth: u64,
}

/// `pocket worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The cluster to work for (`nats://127.0.0.1:4222`).
    #[arg(long, value_name = "URL")]
    pub cluster: String,
    /// The plugin kinds whose nodes this worker runs.
    #[arg(long, value_delimiter = ',', default_values_t = pocket_cluster::KINDS.map(String::from))]
    pub kinds: Vec<String>,
    /// How many node executions it runs at once, at most.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_in_flight: usize,
    /// How long an execution may go unacknowledged before another worker
    /// gets it (taken by the first worker, when it creates the consumers).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub ack_wait: std::time::Duration,
    /// How many workers may take one execution before it fails as
    /// abandoned (taken by the first worker, when it creates the consumers).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_deliver: i64,
    /// Where plugins fetched from the cluster are kept (default: a
    /// temporary directory removed at exit).
    #[arg(long, value_name = "DIR")]
    pub plugin_cache: Option<PathBuf>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    pocket_core::parse_duration(text)
}

/// Where a command's runs are: a server, instead of this machine.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// A `pocket serve` to use instead (`http://127.0.0.1:8080`).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The API token for --remote.
    #[arg(
        long,
        env = "POCKET_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        requires = "remote"
    )]
    pub token: Option<String>,
}

/// `pocket runs`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Recent runs, newest first.
    List {
        /// Only this workflow's runs.
        #[arg(long)]
        workflow: Option<String>,
        /// Only runs in this status (queued, running, succeeded, failed, cancelled).
        #[arg(long)]
        status: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// One run: input, output, error and node timeline, as JSON.
    Show {
        /// The run's id.
        id: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: pocket.toml's [server] listen, else
    /// 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Directory of workflow files to serve by name.
    #[arg(long, value_name = "DIR")]
    pub workflows: Option<PathBuf>,
    /// Run history: an SQLite file path, or a `postgres://` URL.
    #[arg(long, value_name = "PATH")]
    pub history: Option<String>,
    /// Print a new API token named NAME and the pocket.toml entry for it, then exit.
    #[arg(long, value_name = "NAME")]
    pub new_token: Option<String>,
    /// The new token's scopes.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [TokenScope::Run, TokenScope::Read], requires = "new_token")]
    pub scopes: Vec<TokenScope>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// An API token's scope.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TokenScope {
    /// Start and cancel runs.
    Run,
    /// Read runs, workflows, plugins, node types and metrics.
    Read,
    /// Everything.
    Admin,
}

impl From<TokenScope> for pocket_core::Scope {
    fn from(scope: TokenScope) -> pocket_core::Scope {
        match scope {
            TokenScope::Run => pocket_core::Scope::Run,
            TokenScope::Read => pocket_core::Scope::Read,
            TokenScope::Admin => pocket_core::Scope::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz dot.
    Dot,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List plugins, loaded and failed: NAME TYPE VERSION STATUS NODES.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit 1 when any plugin failed to load.
        #[arg(long)]
        strict: bool,
    },
    /// Show a plugin's nodes, config keys, permissions and limits.
    Info {
        /// The plugin's name.
        name: String,
    },
    /// Show the capabilities a plugin declares, those pocket.toml grants it,
    /// and the pocket.toml line that would grant the rest.
    Permissions {
        /// The plugin's name.
        name: String,
    },
    /// Check a plugin file (or every plugin file in a directory), then copy it
    /// into the plugin directory for its kind, named after the plugin.
    Load(LoadArgs),
    /// Remove a plugin's file from its plugin directory.
    Unload {
        /// The plugin's name (its alias, if it has one).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Remove every plugin file in every plugin directory.
        #[arg(long)]
        all: bool,
    },
    /// Run a plugin's declared examples (pass/fail each; exit 1 on a failure),
    /// or, with --input, one call.
    Test {
        /// A plugin file, or a loaded plugin's name.
        #[arg(value_name = "PATH|NAME")]
        plugin: String,
        /// Run one call with this input (a JSON, YAML or TOML file) and print its output.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// With --input: the node's config (a JSON, YAML or TOML file).
        #[arg(long, value_name = "FILE", requires = "input")]
        config: Option<PathBuf>,
        /// With --input: the node type to call (needed when the plugin has several).
        #[arg(long, value_name = "TYPE", requires = "input")]
        node: Option<String>,
    },
    /// Time a plugin's node types on their declared examples: calls/s, p50, p99.
    Bench {
        /// A plugin file, or a loaded plugin's name.
        #[arg(value_name = "PATH|NAME")]
        plugin: String,
        /// How many calls per node type.
        #[arg(long, default_value_t = 1000)]
        calls: u32,
    },
    /// Create a plugin project (one node type with a config schema and
    /// examples, a README, a package manifest) that builds and passes
    /// `pocket plugin test` as it is.
    New {
        /// The plugin's name.
        name: String,
        /// Which kind of plugin: a Lua script, a WASM module (in the language
        /// `--lang` names), an Extism plugin (Rust with Extism's own PDK) or a
        /// Rust native library.
        #[arg(long, value_enum)]
        kind: ScaffoldKind,
        /// The language of a WASM plugin: Rust (pocket-pdk), Go (the Go SDK,
        /// wasip1), Zig (the Zig SDK), AssemblyScript (the AssemblyScript SDK) or
        /// JavaScript (the JavaScript SDK, QuickJS).
        #[arg(long, value_enum, default_value_t = ScaffoldLang::Rust)]
        lang: ScaffoldLang,
        /// Where to create it (default: ./NAME); must be empty or missing.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The Pocket source directory whose SDK crates the project depends on
        /// (default: the one this pocket was built from).
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Check the plugin a project's pocket-plugin.toml names, then pack it
    /// with its manifest and README into NAME-VERSION.tar.gz.
    Package {
        /// The project directory (holding pocket-plugin.toml).
        dir: PathBuf,
        /// The archive to write (default: ./NAME-VERSION.tar.gz).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Sign the package with this secret key (from `pocket plugin
        /// keygen`): the plugin file, and the manifest listing the SHA-256
        /// of every file in the package.
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
    },
    /// Install a plugin file or package (.tar.gz, .zip), or an https:// URL of
    /// either, as DIR/NAME/VERSION/ beside other versions, and make it the active one.
    Install {
        /// A plugin file, a package, or a URL of either.
        #[arg(value_name = "SRC")]
        source: String,
        /// Install only if SRC holds this version.
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// The plugin directory to install into (default: the one for its kind).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Delete an installed plugin's versions, or one version (NAME@VERSION).
    Remove {
        /// NAME or NAME@VERSION.
        #[arg(value_name = "NAME[@VERSION]")]
        plugin: String,
    },
    /// Write a new signing key pair: PATH.key (secret) and PATH.pub.
    Keygen {
        /// Where to write them, without extension.
        #[arg(long, value_name = "PATH", default_value = "pocket-signing")]
        out: PathBuf,
    },
    /// Sign a plugin file (or package) with a secret key: writes FILE.sig.
    Sign {
        /// The file to sign.
        file: PathBuf,
        /// The secret key file (from `pocket plugin keygen`).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
    },
    /// Tell whether a file's signature is valid and by which trusted key.
    Verify {
        /// The signed file (its signature is FILE.sig).
        file: PathBuf,
    },
    /// Tell whether a plugin file would load, and why not.
    Check {
        /// The plugin file.
        path: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The plugin file (.so/.dylib/.dll, .lua, .wasm, .wat), or a directory:
    /// every plugin file in it.
    pub path: PathBuf,
    /// Register it under this name instead of the one it declares, so that
    /// two versions of one plugin sit side by side (`NAME/type`); recorded in
    /// pocket.toml's `[plugins.aliases]`.
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// The plugin directory to copy into (default: the first one listed in
    /// pocket.toml that holds plugins of the same kind, else the first).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The plugin's config, a TOML or YAML file: stored in pocket.toml as
    /// `[plugins.config.NAME]`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The kinds of plugin `pocket plugin new` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaffoldKind {
    /// A Lua script.
    Lua,
    /// A WASM module (in the language `--lang` names).
    Wasm,
    /// An Extism plugin in Rust with Extism's own PDK, and the manifest
    /// beside it that describes its node types to Pocket.
    Extism,
    /// A native library in Rust with pocket-native-sdk.
    Native,
}

/// The languages `pocket plugin new --kind wasm` writes a project in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaffoldLang {
    /// Rust with pocket-pdk, for wasm32-unknown-unknown.
    Rust,
    /// Go with the Go SDK, for wasip1.
    Go,
    /// Zig with the Zig SDK, for wasm32-wasi.
    Zig,
    /// AssemblyScript with the AssemblyScript SDK.
    Assemblyscript,
    /// JavaScript with the JavaScript SDK (QuickJS).
    Javascript,
}

impl std::fmt::Display for ScaffoldLang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScaffoldLang::Rust => "rust",
            ScaffoldLang::Go => "go",
            ScaffoldLang::Zig => "zig",
            ScaffoldLang::Assemblyscript => "assemblyscript",
            ScaffoldLang::Javascript => "javascript",
        })
    }
}

impl std::fmt::Display for ScaffoldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScaffoldKind::Lua => "lua",
            ScaffoldKind::Wasm => "wasm",
            ScaffoldKind::Extism => "extism",
            ScaffoldKind::Native => "native",
        })
    }
}
