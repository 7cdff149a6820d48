use std::io::{Read, Write};
use std::path::Path;

use pocket_core::{Capability, Permissions};

use super::*;

fn host(grants: &[&str]) -> PluginHost {
    PluginHost::new("p", Permissions::new(Capability::parse_list(grants).unwrap()))
}

fn read(host: &PluginHost, dir: &GrantedDir, relative: &str) -> Result<String, FileError> {
    let how = OpenHow {
        read: true,
        ..OpenHow::default()
    };
    match host.open_file(dir, relative, how)? {
        Opened::File(mut file) => {
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            Ok(text)
        }
        Opened::Dir(_) => Ok("<dir>".into()),
    }
}

fn create(host: &PluginHost, dir: &GrantedDir, relative: &str, text: &str) -> Result<(), FileError> {
    let how = OpenHow {
        write: true,
        create: true,
        truncate: true,
        ..OpenHow::default()
    };
    match host.open_file(dir, relative, how)? {
        Opened::File(mut file) => {
            file.write_all(text.as_bytes()).unwrap();
            Ok(())
        }
        Opened::Dir(_) => panic!("a directory"),
    }
}

/// A `data` directory holding `a.txt`, `b.csv` and `sub/c.txt`, a
/// `secret` file beside it, and a host granted `grants(data's path)` with
/// its first granted directory (`data`).
fn setup(grants: impl Fn(&str) -> Vec<String>) -> (tempfile::TempDir, PluginHost, GrantedDir) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), "a").unwrap();
    std::fs::write(data.join("b.csv"), "b").unwrap();
    std::fs::write(data.join("sub/c.txt"), "c").unwrap();
    std::fs::write(root.path().join("secret"), "secret").unwrap();
    let grants = grants(data.to_str().unwrap());
    let host = host(&grants.iter().map(String::as_str).collect::<Vec<_>>());
    let dir = host.granted_dirs().remove(0);
    assert!(dir.path().ends_with("/data"), "{dir:?}");
    (root, host, dir)
}

fn denied(result: Result<impl std::fmt::Debug, FileError>) -> String {
    match result {
        Err(FileError::Denied(denied)) => denied.capability,
        other => panic!("not denied: {other:?}"),
    }
}

fn os_error<T: std::fmt::Debug>(result: Result<T, FileError>) -> i32 {
    result.unwrap_err().os_error().unwrap()
}

#[test]
fn paths_are_joined_in_the_text_and_may_not_climb_out() {
    assert_eq!(join("/data", "a/./b/../c").as_deref(), Some("/data/a/c"));
    assert_eq!(join("/data", "").as_deref(), Some("/data"));
    assert_eq!(join("/data/", ".").as_deref(), Some("/data"));
    assert_eq!(join("/", "etc").as_deref(), Some("/etc"));
    assert_eq!(join("/data", "a/../.."), None);
    assert_eq!(join("/data", "../data/a"), None);
    assert_eq!(join("/data", "/etc/passwd"), None);
    assert_eq!(join("/data", "a\0b"), None);
}

#[test]
fn a_pattern_opens_onto_the_directory_before_its_first_star() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("f"), "").unwrap();
    assert_eq!(directory_of("/data/in/*"), "/data/in");
    assert_eq!(directory_of("/data/*.csv"), "/data");
    assert_eq!(directory_of("*"), "/");
    assert_eq!(directory_of("/*"), "/");
    assert_eq!(directory_of(path), path);
    assert_eq!(directory_of(&format!("{path}/")), path);
    assert_eq!(directory_of(&format!("{path}/f")), path);
    assert_eq!(deeper("/data", "/data/in").as_deref(), Some("/data/in"));
    assert_eq!(deeper("/data/in", "/data").as_deref(), Some("/data/in"));
    assert_eq!(deeper("/", "/x").as_deref(), Some("/x"));
    assert_eq!(deeper("/data", "/database"), None);
}

#[test]
fn a_declaring_plugin_gets_the_directories_where_its_grants_and_declarations_meet() {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().to_str().unwrap();
    for sub in ["in", "out", "other"] {
        std::fs::create_dir(root.path().join(sub)).unwrap();
    }
    let granted = Capability::parse_list(&[format!("file:{base}/*"), format!("file:{base}/other/*")]).unwrap();
    let declared = Capability::parse_list(&[format!("file:{base}/in/*"), format!("file_write:{base}/out")]).unwrap();
    let declaring = PluginHost::new("p", Permissions::new(granted).declared_by(&declared));
    let dirs: Vec<String> = declaring.granted_dirs().iter().map(|d| d.path().to_string()).collect();
    assert_eq!(dirs, [format!("{base}/in"), format!("{base}/out")]);
    // A grant naming a missing directory opens nothing.
    assert!(host(&["file:/no/such/dir/*"]).granted_dirs().is_empty());
}

#[test]
fn a_read_grant_reads_beneath_its_directory_and_changes_nothing() {
    let (_root, host, dir) = setup(|data| vec![format!("file:{data}/*")]);
    assert_eq!(read(&host, &dir, "a.txt").unwrap(), "a");
    assert_eq!(read(&host, &dir, "sub/../sub/c.txt").unwrap(), "c");
    assert_eq!(read(&host, &dir, ".").unwrap(), "<dir>");
    assert_eq!(read(&host, &dir, "sub").unwrap(), "<dir>");
    assert!(host.file_metadata(&dir, "b.csv").unwrap().is_file());
    assert!(host.file_metadata(&dir, "").unwrap().is_dir());
    assert_eq!(os_error(read(&host, &dir, "missing")), libc::ENOENT);
    let mut names: Vec<(String, EntryKind)> = dir
        .entries(10)
        .unwrap()
        .into_iter()
        .map(|e| (String::from_utf8(e.name).unwrap(), e.kind))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = [
        ("a.txt", EntryKind::File),
        ("b.csv", EntryKind::File),
        ("sub", EntryKind::Dir),
    ];
    assert_eq!(names, expected.map(|(name, kind)| (name.to_string(), kind)));
    assert_eq!(dir.entries(2).unwrap().len(), 2, "a listing is cut at its limit");
    // Every change needs `file_write:`.
    assert!(denied(create(&host, &dir, "a.txt", "x")).starts_with("file_write:"));
    assert!(denied(host.make_dir(&dir, "new")).ends_with("/data/new/"));
    denied(host.remove(&dir, "a.txt", false));
    denied(host.rename(&dir, "a.txt", &dir, "z.txt"));
    assert_eq!(
        std::fs::read_to_string(Path::new(dir.path()).join("a.txt")).unwrap(),
        "a"
    );
}

#[test]
fn a_pattern_reaches_only_what_it_matches() {
    let (_root, host, dir) = setup(|data| vec![format!("file:{data}/*.txt")]);
    assert_eq!(read(&host, &dir, "a.txt").unwrap(), "a");
    assert!(denied(read(&host, &dir, "b.csv")).ends_with("/data/b.csv"));
    // The directory itself is not listed, and a missing file it does not
    // match is refused like an existing one (nothing tells them apart).
    denied(read(&host, &dir, "."));
    denied(read(&host, &dir, "missing.csv"));
    denied(host.file_metadata(&dir, "b.csv"));
}

#[test]
fn climbing_out_absolute_paths_symlinks_and_special_files_are_refused() {
    let (root, host, dir) = setup(|data| vec![format!("file_write:{data}")]);
    let data = Path::new(dir.path());
    for path in ["../secret", "sub/../../secret", "/etc/passwd"] {
        assert!(matches!(read(&host, &dir, path), Err(FileError::LeadsOut(_))), "{path}");
    }
    // A symlink is never followed, whether it leads out or stays inside.
    std::os::unix::fs::symlink(root.path().join("secret"), data.join("out-link")).unwrap();
    std::os::unix::fs::symlink("a.txt", data.join("in-link")).unwrap();
    std::os::unix::fs::symlink("..", data.join("sub/up")).unwrap();
    for path in ["out-link", "in-link", "sub/up/secret"] {
        assert_eq!(os_error(read(&host, &dir, path)), libc::ELOOP, "{path}");
    }
    assert_eq!(os_error(create(&host, &dir, "out-link", "x")), libc::ELOOP);
    assert_eq!(std::fs::read_to_string(root.path().join("secret")).unwrap(), "secret");
    // ...but it can be looked at and removed as what it is.
    assert!(host.file_metadata(&dir, "out-link").unwrap().file_type().is_symlink());
    host.remove(&dir, "out-link", false).unwrap();
    assert!(root.path().join("secret").exists());
    // A FIFO would block the open (and a device reach past the
    // filesystem): refused at once.
    let made = std::process::Command::new("mkfifo")
        .arg(data.join("fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    assert!(matches!(read(&host, &dir, "fifo"), Err(FileError::Special(_))));
}

#[test]
fn a_write_grant_creates_changes_and_removes_beneath_its_directory() {
    let (_root, host, dir) = setup(|data| vec![format!("file_write:{data}")]);
    let data = Path::new(dir.path()).to_path_buf();
    create(&host, &dir, "new.txt", "new").unwrap();
    assert_eq!(std::fs::read_to_string(data.join("new.txt")).unwrap(), "new");
    host.make_dir(&dir, "made").unwrap();
    host.rename(&dir, "new.txt", &dir, "made/moved.txt").unwrap();
    assert_eq!(read(&host, &dir, "made/moved.txt").unwrap(), "new");
    assert_eq!(os_error(host.remove(&dir, "made", true)), libc::ENOTEMPTY);
    host.remove(&dir, "made/moved.txt", false).unwrap();
    host.remove(&dir, "made", true).unwrap();
    assert!(!data.join("made").exists());
    // The directory itself cannot be removed or renamed away.
    assert!(matches!(host.remove(&dir, ".", true), Err(FileError::LeadsOut(_))));
    assert!(matches!(
        host.rename(&dir, "a.txt", &dir, "../a.txt"),
        Err(FileError::LeadsOut(_))
    ));
}

#[test]
fn a_subdirectory_opened_beneath_a_granted_one_is_checked_by_its_full_path() {
    let (_root, host, dir) = setup(|data| vec![format!("file:{data}/*"), format!("file_write:{data}/sub/*")]);
    let how = OpenHow {
        read: true,
        directory: true,
        ..OpenHow::default()
    };
    let Opened::Dir(sub) = host.open_file(&dir, "sub", how).unwrap() else {
        panic!("not a directory")
    };
    assert!(sub.path().ends_with("/data/sub"));
    assert_eq!(read(&host, &sub, "c.txt").unwrap(), "c");
    create(&host, &sub, "d.txt", "d").unwrap();
    assert!(matches!(read(&host, &sub, "../a.txt"), Err(FileError::LeadsOut(_))));
    denied(create(&host, &dir, "e.txt", "e"));
}

#[test]
fn only_directories_granted_whole_are_offered_to_a_jail() {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().to_str().unwrap();
    for sub in ["in", "out", "some"] {
        std::fs::create_dir(root.path().join(sub)).unwrap();
    }
    let grants = [
        format!("file:{base}/in"),
        format!("file_write:{base}/out/*"),
        format!("file:{base}/some/*.csv"),
    ];
    let host = host(&grants.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        host.whole_dirs(),
        [(format!("{base}/in"), false), (format!("{base}/out"), true)]
    );
}
