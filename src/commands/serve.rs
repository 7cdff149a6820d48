//! `pocket serve`: the server (crate `pocket-server`) over the deployment,
//! saying when it listens and stops; `--new-token`.

use std::process::ExitCode;

use pocket_core::Scope;
use pocket_runtime::Deployment;
use pocket_server::{Event, Overrides};

/// Serves until SIGTERM or Ctrl-C.
pub fn serve(deployment: Deployment, overrides: Overrides) -> anyhow::Result<ExitCode> {
    pocket_server::serve(deployment, overrides, |event| match event {
        // Tests and scripts wait for this line.
        Event::Listening(address) => eprintln!("pocket serve: listening on http://{address}"),
        Event::Stopping(drain) => eprintln!("pocket serve: stopping (draining runs for up to {drain:?})"),
        Event::Stopped => eprintln!("pocket serve: stopped"),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a new API token and the pocket.toml entry that accepts it.
pub fn new_token(name: &str, scopes: &[Scope]) -> anyhow::Result<ExitCode> {
    let new = pocket_server::new_token(name, scopes)?;
    println!("token: {}", new.token);
    println!("(shown once: give it to the client; pocket.toml keeps only its hash)\n");
    print!("{}", new.entry);
    Ok(ExitCode::SUCCESS)
}
