//! `pocket plugin package | install | remove`: plugin packages, and
//! installed versions side by side (`pocket-package` does the work).

use std::path::Path;
use std::process::ExitCode;

use pocket_runtime::Deployment;
use pocket_runtime::present::permission_report;

/// `pocket plugin package DIR [--out FILE] [--key KEY]`.
pub fn package(host: &Deployment, dir: &Path, out: Option<&Path>, key: Option<&Path>) -> anyhow::Result<ExitCode> {
    let packaged = pocket_package::package(host, dir, out, key)?;
    let manifest = &packaged.manifest;
    println!(
        "packaged {} plugin `{}` {} into {}",
        manifest.kind,
        manifest.name,
        manifest.version,
        packaged.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pocket plugin install SRC [--version V] [--dir D]`: SRC is a plugin
/// file, a package, or an `https://` URL of either.
pub fn install(host: &Deployment, source: &str, version: Option<&str>, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let installed = pocket_package::install(host, source, version, dir)?;
    let manifest = &installed.manifest;
    println!(
        "installed {} plugin `{}` {} into {} (active)",
        manifest.kind,
        manifest.name,
        manifest.version,
        installed.directory.display()
    );
    if let Some(permissions) = &installed.permissions {
        for line in permission_report(&manifest.name, permissions) {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `pocket plugin remove NAME[@VERSION]`: deletes installed versions (all,
/// or one), and the active link when it pointed at one of them.
pub fn remove(host: &Deployment, spec: &str) -> anyhow::Result<ExitCode> {
    for removed in pocket_package::remove(&host.config().plugins.directories, spec)? {
        println!("removed {}", removed.display());
    }
    Ok(ExitCode::SUCCESS)
}
