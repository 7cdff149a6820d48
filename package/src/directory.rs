//! Plugin directories: which one a plugin goes to, the name it gets there,
//! and writing it in so that a Pocket starting meanwhile never sees half a
//! file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use pocket_core::{Admitted, PluginKind, plugin_files};

use crate::error::{Error, io};

/// Where a plugin of `kind` goes among `directories` (pocket.toml's plugin
/// directories): `dir` (which must be one of them), else the first one
/// already holding plugins of that kind (`kind_of` tells the kind of a
/// plugin file), else the first one named after the kind (`lua`, `wasm`,
/// `native`), else the first one.
pub fn target_directory(
    directories: &[PathBuf],
    kind: PluginKind,
    dir: Option<&Path>,
    kind_of: &dyn Fn(&Path) -> Option<PluginKind>,
) -> Result<PathBuf, Error> {
    if let Some(dir) = dir {
        return directories
            .iter()
            .find(|d| same_file(d, dir))
            .cloned()
            .ok_or_else(|| Error::NotAPluginDirectory {
                dir: dir.to_path_buf(),
                directories: directories
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    let holds_kind = |d: &PathBuf| {
        plugin_files(std::slice::from_ref(d))
            .iter()
            .any(|file| kind_of(file) == Some(kind))
    };
    let named_after_kind = |d: &&PathBuf| d.file_name().is_some_and(|n| *n == *kind.to_string());
    directories
        .iter()
        .find(|d| holds_kind(d))
        .or_else(|| directories.iter().find(named_after_kind))
        .or(directories.first())
        .cloned()
        .ok_or(Error::NoPluginDirectories)
}

/// The file name a plugin registered as `name` gets in a plugin directory:
/// the name, with the extension of `path`.
pub fn installed_file_name(name: &str, path: &Path) -> OsString {
    let mut file_name = OsString::from(name);
    if let Some(ext) = path.extension() {
        file_name.push(".");
        file_name.push(ext);
    }
    file_name
}

/// The files beside `artifact` its backend reads (`STEM` + each of
/// `suffixes`), those that exist: (their name beside `NAME.EXT`, path).
pub(crate) fn companions(name: &str, artifact: &Path, suffixes: &[&str]) -> Vec<(String, PathBuf)> {
    let stem = artifact.file_stem().unwrap_or_default().to_string_lossy();
    suffixes
        .iter()
        .map(|suffix| {
            let path = pocket_core::directory_of(artifact).join(format!("{stem}{suffix}"));
            (format!("{name}{suffix}"), path)
        })
        .filter(|(_, path)| path.is_file())
        .collect()
}

/// Whether `file` is directly in one of `directories`.
pub fn in_plugin_directory(directories: &[PathBuf], file: &Path) -> bool {
    let parent = pocket_core::directory_of(file);
    directories.iter().any(|d| same_file(d, parent))
}

/// Writes the admitted plugin to `to`, and the signature that was verified
/// for it (if any) to `TO.sig`, each through a temporary file renamed into
/// place: a Pocket starting meanwhile never sees half a file, and what is
/// written is exactly what was checked.
pub fn write_into_place(admitted: &Admitted, to: &Path) -> Result<(), Error> {
    let directory = pocket_core::directory_of(to);
    std::fs::create_dir_all(directory).map_err(io("create", directory))?;
    let signature = pocket_trust::signature_path(to);
    let written = match admitted.bytes().signature() {
        Some(bytes) => write_whole(&signature, bytes),
        None => Ok(()),
    }
    .and_then(|()| write_whole(to, admitted.bytes().bytes()));
    if written.is_err() {
        remove_written(to);
    }
    written
}

/// Removes a plugin file written by [`write_into_place`], and its signature.
pub(crate) fn remove_written(file: &Path) {
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(pocket_trust::signature_path(file));
}

/// Writes `bytes` to `to` through `.NAME.partial` renamed into place.
fn write_whole(to: &Path, bytes: &[u8]) -> Result<(), Error> {
    let file_name = to.file_name().unwrap_or_default().to_string_lossy();
    let partial = pocket_core::directory_of(to).join(format!(".{file_name}.partial"));
    std::fs::write(&partial, bytes).map_err(io("write", &partial))?;
    std::fs::rename(&partial, to).map_err(|source| {
        let _ = std::fs::remove_file(&partial);
        io("create", to)(source)
    })
}

/// Whether `a` and `b` are the same file (by their canonical paths when both
/// exist).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_goes_to_the_directory_named_or_holding_or_named_after_its_kind() {
        let root = tempfile::tempdir().unwrap();
        let [first, lua, wasm] = ["first", "lua", "wasm"].map(|d| root.path().join(d));
        for d in [&first, &lua, &wasm] {
            std::fs::create_dir(d).unwrap();
        }
        let dirs = vec![first.clone(), lua.clone(), wasm.clone()];
        let by_extension = |p: &Path| match p.extension()?.to_str()? {
            "lua" => Some(PluginKind::Lua),
            "wasm" => Some(PluginKind::Wasm),
            _ => None,
        };
        let target = |kind, dir: Option<&Path>| target_directory(&dirs, kind, dir, &by_extension);
        assert_eq!(target(PluginKind::Lua, None).unwrap(), lua, "named after its kind");
        assert_eq!(target(PluginKind::Native, None).unwrap(), first, "the first one");
        std::fs::write(wasm.join("x.lua"), "").unwrap();
        assert_eq!(target(PluginKind::Lua, None).unwrap(), wasm, "holding its kind");
        assert_eq!(target(PluginKind::Lua, Some(&first)).unwrap(), first, "named");
        let elsewhere = root.path().join("elsewhere");
        let err = target(PluginKind::Lua, Some(&elsewhere)).unwrap_err();
        assert!(
            err.to_string().contains("not one of pocket.toml's plugin directories"),
            "{err}"
        );
        let none = target_directory(&[], PluginKind::Lua, None, &by_extension).unwrap_err();
        assert!(matches!(none, Error::NoPluginDirectories));
    }

    #[test]
    fn a_plugin_is_installed_under_its_registered_name() {
        assert_eq!(
            installed_file_name("my-plugin", Path::new("target/libmy_plugin.so")),
            "my-plugin.so"
        );
        assert_eq!(installed_file_name("x", Path::new("noext")), "x");
    }
}
