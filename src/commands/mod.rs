//! One module per subcommand.

mod graph;
mod nodes;
mod plugin;
mod plugin_examples;
mod plugin_file;
mod plugin_install;
mod plugin_new;
mod plugin_trust;
mod run;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::host::{Host, Loading};

/// Runs the chosen subcommand, loading the host (pocket.toml and the
/// plugins) only for commands that use it; commands about workflows load
/// each plugin on first use.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let explicit = cli.config.as_deref();
    let host = || Host::load(explicit, Loading::Lazy);
    match cli.command {
        Command::Run(args) => run::run(&host()?, args),
        Command::Validate { workflow } => validate::validate(&host()?, &workflow),
        Command::Graph { workflow, format } => graph::graph(&host()?, &workflow, format),
        Command::Nodes => nodes::nodes(&host()?),
        Command::Plugin(command) => plugin::plugin(explicit, command),
        Command::NativeChild { library, plugin } => native_child(&library, &plugin),
    }
}

/// Serves one isolated native plugin to the host process that started this one.
#[cfg(unix)]
fn native_child(library: &std::path::Path, plugin: &str) -> anyhow::Result<ExitCode> {
    pocket_native::isolated::serve(library, plugin)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(unix))]
fn native_child(_library: &std::path::Path, _plugin: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("native plugin processes are only available on Unix")
}
