//! The filesystem a jailed program sees: a new root (a small tmpfs) holding
//! only what it needs, each bound in from the host:
//!
//! - the system's programs and libraries, read-only: `/usr`, and `/bin`,
//!   `/sbin`, `/lib*` (as the links they are on a merged-`/usr` system, or
//!   bound as directories); of `/etc` only what programs and libraries read
//!   ([`ETC`]: the loader's cache, time zone, users and groups, name service
//!   switch, certificates, alternatives), never its secrets;
//! - `/dev/null`, `/dev/zero`, `/dev/full`, `/dev/random`, `/dev/urandom`;
//! - the installation its program comes from, read-only, when it lives
//!   elsewhere (`~/.pyenv` for a pyenv `python3`: the directory above the
//!   program's `bin`);
//! - its own directory, read-only, at the same path (its working
//!   directory);
//! - the directories its `file:` grants name, read-only, and those its
//!   `file_write:` grants name, writable, at the same paths;
//! - a private `/tmp` (tmpfs, 64 MiB) and its own `/proc`.
//!
//! Nothing else of the host is there: not its home directories, not
//! pocket.toml, not other plugins. The plan ([`View`]) is made before the
//! fork; [`View::enter`] runs in the child and only makes system calls.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

use super::sys::{c_path, check, write_decimal};

/// What a jailed program sees of `/etc`.
const ETC: &[&str] = &[
    "alternatives",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "protocols",
    "services",
    "ssl",
    "timezone",
];

/// The most entries bound into a view.
const MAX_BINDS: usize = 64;

/// Where the new root is staged, in the private tmpfs mounted on `/tmp`.
const ROOT: &str = "/tmp/.pocket-root";

/// One host path bound into the new root.
struct Bind {
    /// The host path.
    source: CString,
    /// Where it appears, in the new root.
    target: CString,
    read_only: bool,
    /// A file (a device), not a directory.
    file: bool,
}

/// What the new root holds, prepared before the fork.
pub(super) struct View {
    binds: Vec<Bind>,
    /// Symbolic links to make: (what they point to, the link in the new root).
    links: Vec<(CString, CString)>,
    /// Directories to make in the new root, outermost first.
    dirs: Vec<CString>,
    root: CString,
    old: CString,
    tmp: CString,
    proc_dir: CString,
    /// The program's working directory (its plugin directory).
    workdir: CString,
}

/// A directory the program may reach, and whether it may write there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// Its absolute path, the same inside.
    pub path: PathBuf,
    /// Writable (a `file_write:` grant), else read-only.
    pub write: bool,
}

impl View {
    /// The plan for a program at `program` (as found on the host) whose
    /// directory is `dir`, granted `granted`.
    pub(super) fn new(dir: &Path, program: &Path, granted: &[Granted]) -> io::Result<View> {
        let mut plan = Plan::default();
        for name in ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = Path::new("/").join(name);
            match std::fs::symlink_metadata(&host) {
                Ok(meta) if meta.file_type().is_symlink() => plan.link(&host, std::fs::read_link(&host)?),
                Ok(meta) if meta.is_dir() => plan.bind(&host, true, false),
                _ => {}
            }
        }
        // Of /etc, what programs and their libraries read, and no secret
        // (no shadow, no ssh, no sudoers, no service's credentials).
        for entry in ETC {
            let host = Path::new("/etc").join(entry);
            match std::fs::metadata(&host) {
                Ok(meta) => plan.bind(&host, true, !meta.is_dir()),
                Err(_) => continue,
            }
        }
        for device in ["null", "zero", "full", "random", "urandom"] {
            let host = Path::new("/dev").join(device);
            if host.exists() {
                plan.bind(&host, false, true);
            }
        }
        if let Some(install) = installation_of(program, dir) {
            plan.bind(&install, true, false);
        }
        for grant in granted {
            plan.bind(&grant.path, !grant.write, false);
        }
        plan.bind(dir, true, false);
        if plan.binds.len() > MAX_BINDS {
            return Err(io::Error::other(format!(
                "more than {MAX_BINDS} paths to bind into the jail"
            )));
        }
        // Parents before what they hold: a directory bound inside another
        // is not hidden by it.
        plan.binds.sort_by_key(|(path, ..)| path.components().count());
        let in_root = |path: &Path| c_path(&Path::new(ROOT).join(path.strip_prefix("/").unwrap_or(path)));
        let mut dirs = Vec::new();
        let mut binds = Vec::new();
        for (path, read_only, file) in &plan.binds {
            let holder = if *file {
                path.parent().unwrap_or(Path::new("/"))
            } else {
                path
            };
            for ancestor in holder.ancestors().collect::<Vec<_>>().into_iter().rev().skip(1) {
                let made = in_root(ancestor)?;
                if !dirs.contains(&made) {
                    dirs.push(made);
                }
            }
            binds.push(Bind {
                source: c_path(path)?,
                target: in_root(path)?,
                read_only: *read_only,
                file: *file,
            });
        }
        let links = plan
            .links
            .iter()
            .map(|(link, to)| Ok((c_path(to)?, in_root(link)?)))
            .collect::<io::Result<_>>()?;
        Ok(View {
            binds,
            links,
            dirs,
            root: c_path(Path::new(ROOT))?,
            old: c_path(&Path::new(ROOT).join(".old"))?,
            tmp: c_path(&Path::new(ROOT).join("tmp"))?,
            proc_dir: c_path(&Path::new(ROOT).join("proc"))?,
            workdir: c_path(dir)?,
        })
    }

    /// Builds the new root and moves into it. Runs in the forked child,
    /// in its new mount namespace, with async-signal-safe calls only.
    pub(super) fn enter(&self) -> io::Result<()> {
        let null = std::ptr::null();
        let mut held = [-1; MAX_BINDS];
        // SAFETY: system calls with NUL-terminated strings that live for
        // each call (literals, `self`'s, or the local `source`), null where
        // allowed, and locals the calls fill.
        unsafe {
            check(libc::mount(
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                null.cast(),
            ))?;
            // Opened now: the tmpfs on /tmp may hide some of them.
            for (slot, bind) in held.iter_mut().zip(&self.binds) {
                *slot = libc::open(bind.source.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                check(*slot)?;
            }
            let tmpfs = c"tmpfs".as_ptr();
            check(libc::mount(
                tmpfs,
                c"/tmp".as_ptr(),
                tmpfs,
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=64m,mode=1777".as_ptr().cast(),
            ))?;
            make_dir(&self.root)?;
            check(libc::mount(
                tmpfs,
                self.root.as_ptr(),
                tmpfs,
                libc::MS_NOSUID,
                c"size=1m,mode=755".as_ptr().cast(),
            ))?;
            // The private /tmp first: a bind beneath it (a directory under
            // the host's /tmp) goes on top of it, not under it.
            make_dir(&self.tmp)?;
            check(libc::mount(
                tmpfs,
                self.tmp.as_ptr(),
                tmpfs,
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=64m,mode=1777".as_ptr().cast(),
            ))?;
            for dir in &self.dirs {
                make_dir(dir)?;
            }
            for (bind, fd) in self.binds.iter().zip(held) {
                if bind.file {
                    let made = libc::open(
                        bind.target.as_ptr(),
                        libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                        0o644,
                    );
                    check(made)?;
                    libc::close(made);
                }
                let mut source = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0\0";
                write_decimal(&mut source[14..], fd);
                check(libc::mount(
                    source.as_ptr().cast(),
                    bind.target.as_ptr(),
                    null,
                    libc::MS_BIND | libc::MS_REC,
                    null.cast(),
                ))?;
                libc::close(fd);
                if bind.read_only {
                    remount_read_only(&bind.target)?;
                }
            }
            for (to, link) in &self.links {
                check(libc::symlink(to.as_ptr(), link.as_ptr()))?;
            }
            make_dir(&self.proc_dir)?;
            let proc = c"proc".as_ptr();
            check(libc::mount(
                proc,
                self.proc_dir.as_ptr(),
                proc,
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                null.cast(),
            ))?;
            make_dir(&self.old)?;
            check(
                i32::try_from(libc::syscall(
                    libc::SYS_pivot_root,
                    self.root.as_ptr(),
                    self.old.as_ptr(),
                ))
                .unwrap_or(-1),
            )?;
            check(libc::chdir(c"/".as_ptr()))?;
            check(libc::umount2(c"/.old".as_ptr(), libc::MNT_DETACH))?;
            check(libc::rmdir(c"/.old".as_ptr()))?;
            // Nothing new at the top: the root itself is read-only.
            check(libc::mount(
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID,
                null.cast(),
            ))?;
            check(libc::chdir(self.workdir.as_ptr()))?;
        }
        Ok(())
    }
}

/// The paths a view binds, and the links it makes, before they are sorted.
#[derive(Default)]
struct Plan {
    binds: Vec<(PathBuf, bool, bool)>,
    links: Vec<(PathBuf, PathBuf)>,
}

impl Plan {
    fn bind(&mut self, path: &Path, read_only: bool, file: bool) {
        if !self.binds.iter().any(|(p, ..)| p == path) {
            self.binds.push((path.to_path_buf(), read_only, file));
        }
    }

    fn link(&mut self, path: &Path, to: PathBuf) {
        self.links.push((path.to_path_buf(), to));
    }
}

/// The installation a program outside the system directories comes from:
/// the directory above its `bin` (or its own directory), unless it is the
/// plugin's directory or under `/usr`.
fn installation_of(program: &Path, dir: &Path) -> Option<PathBuf> {
    if !program.is_absolute() || program.starts_with("/usr") || program.starts_with(dir) {
        return None;
    }
    let parent = program.parent()?;
    let install = if parent.file_name().is_some_and(|n| n == "bin" || n == "shims") {
        parent.parent()?
    } else {
        parent
    };
    (install != Path::new("/")).then(|| install.to_path_buf())
}

/// `mkdir`, an existing directory being fine.
///
/// # Safety
/// Async-signal-safe: for the forked child.
unsafe fn make_dir(path: &CString) -> io::Result<()> {
    // SAFETY: a NUL-terminated path living for the call.
    if unsafe { libc::mkdir(path.as_ptr(), 0o755) } == -1 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EEXIST) {
            return Err(error);
        }
    }
    Ok(())
}

/// Remounts the bind mount at `target` read-only, keeping the flags the
/// kernel locks in a user namespace.
///
/// # Safety
/// Async-signal-safe: for the forked child.
unsafe fn remount_read_only(target: &CString) -> io::Result<()> {
    // SAFETY: statvfs fills a local; mount gets a NUL-terminated path and
    // nulls where allowed.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        check(libc::statvfs(target.as_ptr(), &raw mut stat))?;
        let mut kept = 0;
        for (st, ms) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if stat.f_flag & st != 0 {
                kept |= ms;
            }
        }
        let null = std::ptr::null();
        check(libc::mount(
            null,
            target.as_ptr(),
            null,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | kept,
            null.cast(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_brings_the_installation_it_comes_from() {
        let dir = Path::new("/srv/plugins/p");
        assert_eq!(
            installation_of(Path::new("/root/.pyenv/shims/python3"), dir),
            Some(PathBuf::from("/root/.pyenv"))
        );
        assert_eq!(
            installation_of(Path::new("/opt/node/bin/node"), dir),
            Some(PathBuf::from("/opt/node"))
        );
        assert_eq!(installation_of(Path::new("/usr/bin/python3"), dir), None);
        assert_eq!(installation_of(Path::new("/srv/plugins/p/run"), dir), None);
        assert_eq!(installation_of(Path::new("python3"), dir), None);
    }
}
