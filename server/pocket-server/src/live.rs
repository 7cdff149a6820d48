//! Live directories: plugin files and workflow files added, changed or
//! removed while the server runs take effect within about a second.
//!
//! A changed plugin file is loaded as a new version and replaces the old one
//! only if it passes the load gate (a name no built-in plugin uses, the
//! signature rule, checks, description); otherwise the old version keeps
//! serving and the failure is listed by `GET /v1/plugins`. An installed
//! plugin (`NAME.EXT`, a link to `NAME/VERSION/NAME.EXT`) is reloaded when
//! its link changes and when the version's file or signature it points to
//! changes. A plugin that is a directory (a process plugin) is reloaded when
//! any file in it changes. A removed file's plugin is unregistered (a built-in plugin never). Runs in flight keep the versions
//! they started with. After any change, every workflow file is validated
//! again against the plugins now registered, so served workflows use the new
//! versions; a workflow that no longer validates is listed as failed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::app::App;

/// How long the watcher waits for a burst of events about a change to end.
const SETTLE: Duration = Duration::from_millis(250);

/// Watches the plugin directories and the workflows directory until dropped.
pub struct LiveDirectories {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
}

/// What one batch of events changed.
#[derive(Default)]
struct Changes {
    plugins: BTreeSet<PathBuf>,
    workflows: bool,
}

impl LiveDirectories {
    /// Starts watching; directories that cannot be watched are skipped with a warning.
    pub fn start(
        app: Arc<App>,
        plugin_dirs: Vec<PathBuf>,
        workflows: Option<PathBuf>,
    ) -> Result<LiveDirectories, crate::ServeError> {
        let (events, received) = channel();
        let mut watcher = notify::recommended_watcher(events).map_err(|e| crate::ServeError::Watch {
            what: "the plugin and workflow directories".into(),
            message: e.to_string(),
        })?;
        for dir in plugin_dirs.iter().chain(workflows.iter()) {
            match watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => tracing::debug!(dir = %dir.display(), "watching"),
                Err(error) => tracing::warn!(dir = %dir.display(), "not watched: {error}"),
            }
        }
        let watcher = Arc::new(Mutex::new(watcher));
        let mut versions = VersionWatches {
            watcher: Arc::downgrade(&watcher),
            watched: BTreeSet::new(),
        };
        versions.update(&plugin_dirs);
        std::thread::Builder::new()
            .name("pocket-live-dirs".into())
            .spawn(move || {
                while let Some(paths) = next_batch(&received) {
                    let changes = classify(paths.iter().map(PathBuf::as_path), &plugin_dirs, workflows.as_deref());
                    let seen = changes.plugins.clone();
                    apply(&app, changes);
                    // A plugin directory watched only now may have been
                    // filled after the event that made it: it is loaded as
                    // it is now.
                    let late: BTreeSet<PathBuf> = versions
                        .update(&plugin_dirs)
                        .into_iter()
                        .map(|dir| dir.join(pocket_core::DIRECTORY_PLUGIN_MANIFEST))
                        .filter(|manifest| manifest.is_file() && !seen.contains(manifest))
                        .collect();
                    if !late.is_empty() {
                        apply(
                            &app,
                            Changes {
                                plugins: late,
                                workflows: false,
                            },
                        );
                    }
                }
            })
            .map_err(|e| crate::ServeError::io("cannot start the thread that watches directories", e))?;
        Ok(LiveDirectories { _watcher: watcher })
    }
}

/// The directories of the files that links in the plugin directories point
/// to (an installed plugin's active `NAME/VERSION/`), watched too, so an
/// edit of the active version's file or signature reloads it.
struct VersionWatches {
    /// The watcher, while [`LiveDirectories`] lives (the event loop ends after it).
    watcher: Weak<Mutex<RecommendedWatcher>>,
    watched: BTreeSet<PathBuf>,
}

impl VersionWatches {
    /// Watches the directories links point to now, and no others.
    /// Returns the directories watched from now on.
    fn update(&mut self, plugin_dirs: &[PathBuf]) -> Vec<PathBuf> {
        let Some(watcher) = self.watcher.upgrade() else {
            return Vec::new();
        };
        let mut watcher = watcher.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted: BTreeSet<PathBuf> = plugin_dirs
            .iter()
            .flat_map(|dir| links_in(dir))
            .filter_map(|link| link_target(&link)?.parent().map(Path::to_path_buf))
            .chain(plugin_dirs.iter().flat_map(|dir| directory_plugins(dir)))
            .filter(|dir| !plugin_dirs.iter().any(|d| same_dir(dir, d)))
            .collect();
        for gone in self.watched.difference(&wanted) {
            let _ = watcher.unwatch(gone);
        }
        let fresh: Vec<PathBuf> = wanted.difference(&self.watched).cloned().collect();
        for new in &fresh {
            // Recursive: a plugin that is a directory may keep its files in
            // subdirectories.
            match watcher.watch(new, RecursiveMode::Recursive) {
                Ok(()) => tracing::debug!(dir = %new.display(), "watching a plugin's own directory"),
                Err(error) => tracing::warn!(dir = %new.display(), "not watched: {error}"),
            }
        }
        self.watched = wanted;
        fresh
    }
}

/// The plugins in `dir` that are directories (a process plugin's, holding
/// its manifest), watched too, so an edit of its program reloads it.
fn directory_plugins(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(pocket_core::DIRECTORY_PLUGIN_MANIFEST).is_file())
        .collect()
}

/// The manifest of the directory plugin that `path` is in or is, if any:
/// a change to any of its files reloads it.
fn directory_plugin_of(path: &Path, plugin_dirs: &[PathBuf]) -> Option<PathBuf> {
    // The ancestor (or `path` itself) that sits in a plugin directory.
    let holder = path
        .ancestors()
        .find(|a| a.parent().is_some_and(|d| plugin_dirs.iter().any(|p| same_dir(d, p))))?;
    let manifest = holder.join(pocket_core::DIRECTORY_PLUGIN_MANIFEST);
    manifest.is_file().then_some(manifest)
}

/// The symbolic links in `dir`.
fn links_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_symlink())
        .collect()
}

/// The file `link` points to, in its canonical directory (the file itself
/// may be gone).
fn link_target(link: &Path) -> Option<PathBuf> {
    canonical_entry(&pocket_core::directory_of(link).join(std::fs::read_link(link).ok()?))
}

/// `path` in its canonical directory (the file itself may be gone).
fn canonical_entry(path: &Path) -> Option<PathBuf> {
    let dir = pocket_core::directory_of(path).canonicalize().ok()?;
    Some(dir.join(path.file_name()?))
}

/// Waits for a change, then collects every path changed until events stop
/// for [`SETTLE`]. Reads (which the server itself makes) are not changes.
/// `None` once the watcher is gone.
fn next_batch(events: &Receiver<notify::Result<Event>>) -> Option<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let add = |paths: &mut Vec<PathBuf>, event: notify::Result<Event>| match event {
        Ok(event) if !matches!(event.kind, EventKind::Access(_)) => paths.extend(event.paths),
        Ok(_) => {}
        Err(error) => tracing::warn!("watching the plugin and workflow directories failed: {error}"),
    };
    loop {
        add(&mut paths, events.recv().ok()?);
        loop {
            match events.recv_timeout(SETTLE) {
                Ok(event) => add(&mut paths, event),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
        if !paths.is_empty() {
            return Some(paths);
        }
    }
}

/// Sorts changed paths into plugin files (a signature file stands for the
/// file it signs; a file that links in the plugin directories point to, for
/// those links) and workflow files.
fn classify<'a>(paths: impl Iterator<Item = &'a Path>, plugin_dirs: &[PathBuf], workflows: Option<&Path>) -> Changes {
    let mut changes = Changes::default();
    for path in paths {
        let dir = path.parent().unwrap_or(Path::new(""));
        if workflows.is_some_and(|w| same_dir(dir, w)) {
            changes.workflows = true;
        }
        let signed = match path.to_str().and_then(|p| p.strip_suffix(".sig")) {
            Some(signed) => PathBuf::from(signed),
            None => path.to_path_buf(),
        };
        if plugin_dirs.iter().any(|d| same_dir(dir, d)) {
            changes.plugins.insert(signed.clone());
        }
        if let Some(manifest) = directory_plugin_of(&signed, plugin_dirs) {
            changes.plugins.insert(manifest);
        }
        let Some(changed) = canonical_entry(&signed) else {
            continue;
        };
        let linked = plugin_dirs.iter().flat_map(|d| links_in(d));
        changes
            .plugins
            .extend(linked.filter(|link| link_target(link).is_some_and(|target| target == changed)));
    }
    changes
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn apply(app: &App, changes: Changes) {
    let mut plugins_changed = false;
    // A changed companion file (an Extism manifest) stands for its plugin files.
    let companions_of = changes
        .plugins
        .iter()
        .filter(|path| app.host.loader_for(path).is_none())
        .flat_map(|path| app.host.plugins_of_companion(path));
    let plugins: BTreeSet<PathBuf> = changes.plugins.iter().cloned().chain(companions_of).collect();
    for path in &plugins {
        if app.host.loader_for(path).is_none() {
            continue;
        }
        plugins_changed = true;
        if path.is_file() {
            match app.host.reload_plugin(path) {
                Ok(()) => tracing::info!(file = %path.display(), "plugin loaded"),
                Err(error) => tracing::warn!(
                    "plugin file changed but not loaded (the version loaded before, if any, keeps serving): {error}"
                ),
            }
        } else if app.host.remove_plugin(path) {
            tracing::info!(file = %path.display(), "plugin file removed: plugin unloaded");
        }
    }
    if plugins_changed || changes.workflows {
        app.refresh_workflows();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_stand_for_their_plugin_and_workflow_files_are_told_apart() {
        let plugins = [PathBuf::from("/p")];
        let paths = [
            Path::new("/p/text.so.sig"),
            Path::new("/p/greet.lua"),
            Path::new("/w/flow.yaml"),
            Path::new("/elsewhere/x.lua"),
        ];
        let changes = classify(paths.into_iter(), &plugins, Some(Path::new("/w")));
        assert_eq!(
            changes.plugins.into_iter().collect::<Vec<_>>(),
            vec![PathBuf::from("/p/greet.lua"), PathBuf::from("/p/text.so")]
        );
        assert!(changes.workflows);
    }

    #[test]
    fn a_change_in_an_installed_version_stands_for_the_link_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(plugins.join("hasher/1.0.0")).unwrap();
        std::fs::create_dir_all(plugins.join("hasher/2.0.0")).unwrap();
        std::fs::write(plugins.join("hasher/1.0.0/hasher.lua"), "return {}").unwrap();
        std::os::unix::fs::symlink("hasher/1.0.0/hasher.lua", plugins.join("hasher.lua")).unwrap();
        let active = plugins.join("hasher/1.0.0/hasher.lua");
        let signature = plugins.join("hasher/1.0.0/hasher.lua.sig");
        let inactive = plugins.join("hasher/2.0.0/hasher.lua");
        for (changed, expected) in [
            (&active, vec![plugins.join("hasher.lua")]),
            (&signature, vec![plugins.join("hasher.lua")]),
            (&inactive, vec![]),
        ] {
            let changes = classify([changed.as_path()].into_iter(), std::slice::from_ref(&plugins), None);
            assert_eq!(
                changes.plugins.into_iter().collect::<Vec<_>>(),
                expected,
                "{}",
                changed.display()
            );
        }
    }
}
