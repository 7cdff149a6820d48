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
mod runs;
mod serve;
mod validate;
mod worker;

use std::process::ExitCode;

use pocket_runtime::Loading;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand, opening the deployment (pocket.toml and the
/// plugins) only for commands that use it; commands about workflows load
/// each plugin on first use.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let explicit = cli.config.as_deref();
    let deployment = || crate::deployment::open(explicit, Loading::Lazy);
    match cli.command {
        Command::Run(args) => match (args.remote.remote.clone(), &args.cluster.cluster) {
            (Some(_), Some(_)) => anyhow::bail!("give either --remote (a server runs it) or --cluster, not both"),
            (Some(url), None) => runs::run_remote(&args, &args.remote, &url),
            (None, _) => run::run(&deployment()?, args),
        },
        Command::Runs(command) => runs::runs(explicit, command),
        Command::Validate { workflow } => validate::validate(&deployment()?, &workflow),
        Command::Graph { workflow, format } => graph::graph(&deployment()?, &workflow, format),
        Command::Nodes => nodes::nodes(&deployment()?),
        Command::Plugin(command) => plugin::plugin(explicit, command),
        Command::NativeChild { library, plugin } => native_child(&library, &plugin),
        Command::Worker(args) => worker::worker(explicit, args),
        Command::Serve(args) => match args.new_token {
            Some(name) => {
                let scopes: Vec<pocket_core::Scope> = args.scopes.into_iter().map(Into::into).collect();
                serve::new_token(&name, &scopes)
            }
            None => serve::serve(
                crate::deployment::open(explicit, Loading::Eager)?,
                pocket_server::Overrides {
                    listen: args.listen,
                    workflows: args.workflows,
                    history: args.history,
                    cluster: args.cluster.cluster.map(|url| (url, args.cluster.max_queue_depth)),
                },
            ),
        },
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
