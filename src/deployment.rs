//! Opening the deployment a command works on.

use std::path::Path;

use pocket_runtime::{Deployment, Loading};

/// The deployment of pocket.toml (`explicit`, `$POCKET_CONFIG` or the
/// nearest one), its plugins loaded as `loading` says; native plugins under
/// `isolation = "process"` run as `pocket __native-child` (this executable).
pub fn open(explicit: Option<&Path>, loading: Loading) -> anyhow::Result<Deployment> {
    let builder = Deployment::builder().loading(loading);
    let builder = match explicit {
        Some(path) => builder.config_file(path),
        None => builder,
    };
    #[cfg(unix)]
    let builder = match std::env::current_exe() {
        Ok(exe) => builder.native_child(pocket_native::ChildCommand::new(exe).arg("__native-child")),
        Err(error) => {
            tracing::warn!("cannot find this executable, so no native plugin can run isolated: {error}");
            builder
        }
    };
    Ok(builder.open()?)
}
