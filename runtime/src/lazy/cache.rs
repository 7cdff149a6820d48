//! [`DescriptionCache`]: what each plugin file said about itself the last
//! time it loaded, so that a later process can register the plugin without
//! loading it.
//!
//! An entry is used only while its file, and the `pocket` executable, are
//! exactly as they were (size, modification and change times, inode,
//! device): any rewrite of either makes it stale. Entries are written
//! whole (a temporary file, then a rename), so concurrent processes never
//! read half an entry. A cache that cannot be read or written only costs
//! time: every plugin then loads eagerly, as without it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use pocket_core::PluginDescription;
use serde::{Deserialize, Serialize};

/// Where descriptions are cached: a directory of one JSON file per plugin file.
#[derive(Debug, Clone)]
pub struct DescriptionCache {
    dir: PathBuf,
    /// The running executable's identity: entries written by another build
    /// of Pocket are stale.
    executable: Option<Stamp>,
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        let nanos = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        Some(Stamp {
            len: meta.len(),
            mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }
}

/// One cached description.
#[derive(Serialize, Deserialize)]
struct Entry {
    path: PathBuf,
    file: Stamp,
    /// The files its backend reads beside it (`None`: absent), in the order
    /// of the loader's companion suffixes.
    #[serde(default)]
    companions: Vec<Option<Stamp>>,
    executable: Stamp,
    description: PluginDescription,
}

/// The most files of a plugin that is a directory whose stamps key its
/// description; one with more is not cached (it is described each time).
const MAX_DIRECTORY_FILES: usize = 10_000;

/// The stamps of the files beside `path` named by `suffixes` (see
/// [`pocket_core::PluginLoader::companion_suffixes`]), beside the file a
/// symbolic link leads to, as the backend reads them; for a plugin that is
/// a directory (`path` its manifest), of every file in it, whose program
/// describes it. `None`: too many to stamp.
fn companion_stamps(path: &Path, suffixes: &[&str]) -> Option<Vec<Option<Stamp>>> {
    if path
        .file_name()
        .is_some_and(|name| name == pocket_core::DIRECTORY_PLUGIN_MANIFEST)
    {
        return directory_stamps(path.parent()?);
    }
    let file = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let stem = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    Some(
        suffixes
            .iter()
            .map(|suffix| Stamp::of(&file.with_file_name(format!("{stem}{suffix}"))))
            .collect(),
    )
}

/// The stamps of every file under `dir`, in path order (a file added,
/// removed, renamed or changed changes them).
fn directory_stamps(dir: &Path) -> Option<Vec<Option<Stamp>>> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).ok()?.filter_map(Result::ok) {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => todo.push(path),
                Ok(_) => files.push(path),
                Err(_) => return None,
            }
            if files.len() > MAX_DIRECTORY_FILES {
                return None;
            }
        }
    }
    files.sort();
    Some(files.iter().map(|file| Stamp::of(file)).collect())
}

impl DescriptionCache {
    /// The cache in `dir` (created when the first entry is written).
    pub fn new(dir: PathBuf) -> Self {
        DescriptionCache {
            dir,
            executable: std::env::current_exe().ok().and_then(|exe| Stamp::of(&exe)),
        }
    }

    /// The default cache: `$POCKET_CACHE_DIR/descriptions`, else
    /// `descriptions` beside the WASM module cache (`~/.cache/pocket/`).
    pub fn default_location() -> Option<DescriptionCache> {
        let modules = pocket_wasm::ModuleCache::default_dir()?;
        let base = match std::env::var_os(pocket_wasm::CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => modules.parent()?.to_path_buf(),
        };
        Some(DescriptionCache::new(base.join("descriptions")))
    }

    /// The description cached for `path`, if the file, the files beside it
    /// named by `companions` (suffixes) and the executable are as they were
    /// when it was written.
    pub fn get(&self, path: &Path, companions: &[&str]) -> Option<PluginDescription> {
        let executable = self.executable.as_ref()?;
        let text = std::fs::read(self.entry_path(path)).ok()?;
        let entry: Entry = serde_json::from_slice(&text).ok()?;
        let fresh = entry.path == path
            && entry.executable == *executable
            && Some(entry.file) == Stamp::of(path)
            && Some(entry.companions) == companion_stamps(path, companions);
        fresh.then_some(entry.description)
    }

    /// Remembers what `path` (with the files beside it named by
    /// `companions`) described itself as.
    pub fn put(&self, path: &Path, companions: &[&str], description: &PluginDescription) {
        let (Some(executable), Some(file), Some(companions)) = (
            self.executable.clone(),
            Stamp::of(path),
            companion_stamps(path, companions),
        ) else {
            return;
        };
        let entry = Entry {
            path: path.to_path_buf(),
            file,
            companions,
            executable,
            description: description.clone(),
        };
        if let Err(e) = self.write(path, &entry) {
            tracing::debug!(cache = %self.dir.display(), error = %e, "cannot cache a plugin description");
        }
    }

    /// Remembers what `path` described itself as, unless that is what the
    /// cache holds for it already.
    pub fn refresh(&self, path: &Path, companions: &[&str], description: &PluginDescription) {
        if self.get(path, companions).as_ref() != Some(description) {
            self.put(path, companions, description);
        }
    }

    fn write(&self, path: &Path, entry: &Entry) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let target = self.entry_path(path);
        let mut staged = tempfile::NamedTempFile::new_in(&self.dir)?;
        serde_json::to_writer(&mut staged, entry)?;
        staged.persist(target).map_err(|e| e.error)?;
        Ok(())
    }

    fn entry_path(&self, path: &Path) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        path.hash(&mut hasher);
        self.dir.join(format!("{:016x}.json", hasher.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pocket_core::PluginKind;

    fn description(version: &str) -> PluginDescription {
        let mut d = PluginDescription::new("p", PluginKind::Lua, &[]);
        d.version = version.into();
        d
    }

    #[test]
    fn an_entry_serves_until_its_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DescriptionCache::new(dir.path().join("cache"));
        let plugin = dir.path().join("p.lua");
        std::fs::write(&plugin, "return 1").unwrap();
        assert_eq!(cache.get(&plugin, &[]), None, "nothing cached yet");
        cache.put(&plugin, &[], &description("1.0.0"));
        assert_eq!(cache.get(&plugin, &[]), Some(description("1.0.0")));
        std::fs::write(&plugin, "return 22").unwrap();
        assert_eq!(cache.get(&plugin, &[]), None, "the file changed");
        let other = dir.path().join("q.lua");
        std::fs::write(&other, "return 1").unwrap();
        assert_eq!(cache.get(&other, &[]), None, "another file has no entry");
    }

    #[test]
    fn an_entry_serves_until_a_file_beside_its_plugin_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DescriptionCache::new(dir.path().join("cache"));
        let plugin = dir.path().join("p.wasm");
        std::fs::write(&plugin, "module").unwrap();
        let companions = [".extism.toml"];
        cache.put(&plugin, &companions, &description("1.0.0"));
        assert_eq!(cache.get(&plugin, &companions), Some(description("1.0.0")));
        std::fs::write(dir.path().join("p.extism.toml"), "version = '2.0.0'").unwrap();
        assert_eq!(cache.get(&plugin, &companions), None, "a manifest appeared beside it");
        cache.put(&plugin, &companions, &description("2.0.0"));
        std::fs::write(dir.path().join("p.extism.toml"), "version = '3.0.0'\n").unwrap();
        assert_eq!(cache.get(&plugin, &companions), None, "the manifest changed");
    }

    #[test]
    fn a_directory_plugins_entry_serves_until_any_of_its_files_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DescriptionCache::new(dir.path().join("cache"));
        let plugin = dir.path().join("p");
        std::fs::create_dir_all(plugin.join("lib")).unwrap();
        let manifest = plugin.join(pocket_core::DIRECTORY_PLUGIN_MANIFEST);
        std::fs::write(&manifest, "kind = 'process'").unwrap();
        std::fs::write(plugin.join("main.py"), "v1").unwrap();
        cache.put(&manifest, &[], &description("1.0.0"));
        assert_eq!(cache.get(&manifest, &[]), Some(description("1.0.0")));
        std::fs::write(plugin.join("main.py"), "v2 longer").unwrap();
        assert_eq!(cache.get(&manifest, &[]), None, "its program changed");
        cache.put(&manifest, &[], &description("2.0.0"));
        std::fs::write(plugin.join("lib/helper.py"), "x").unwrap();
        assert_eq!(cache.get(&manifest, &[]), None, "a file appeared deeper in it");
    }

    #[test]
    fn a_corrupt_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DescriptionCache::new(dir.path().to_path_buf());
        let plugin = dir.path().join("p.lua");
        std::fs::write(&plugin, "return 1").unwrap();
        cache.put(&plugin, &[], &description("1.0.0"));
        std::fs::write(cache.entry_path(&plugin), "{not json").unwrap();
        assert_eq!(cache.get(&plugin, &[]), None);
    }
}
