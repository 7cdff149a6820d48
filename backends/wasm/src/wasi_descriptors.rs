//! The descriptors a WASI guest holds beyond stdin, stdout and stderr: the
//! directories its file grants open onto (preopened as 3, 4...) and what it
//! opens beneath them, at most [`MAX_OPEN`] at a time.

use std::fs::File;

use pocket_host::GrantedDir;

/// The most descriptors (preopens included) one instance holds at once.
pub const MAX_OPEN: usize = 128;

/// The first descriptor after the standard streams.
const FIRST: i32 = 3;

/// One open descriptor.
#[derive(Debug)]
pub(crate) enum Descriptor {
    /// A directory: preopened, or opened beneath one.
    Dir {
        dir: GrantedDir,
        /// A preopened directory (`fd_prestat_*` name it).
        preopen: bool,
        /// What `fd_readdir` lists: taken when a listing starts.
        entries: Vec<pocket_host::DirEntry>,
    },
    /// A regular file.
    File(File),
}

/// An instance's descriptors from 3 on.
#[derive(Debug, Default)]
pub(crate) struct Descriptors {
    /// Descriptor `3 + i` at `i`; `None` once closed.
    table: Vec<Option<Descriptor>>,
}

impl Descriptors {
    /// The preopened `dirs`, as descriptors 3, 4...
    pub(crate) fn preopened(dirs: Vec<GrantedDir>) -> Descriptors {
        let table = dirs
            .into_iter()
            .take(MAX_OPEN)
            .map(|dir| {
                Some(Descriptor::Dir {
                    dir,
                    preopen: true,
                    entries: Vec::new(),
                })
            })
            .collect();
        Descriptors { table }
    }

    fn index(fd: i32) -> Option<usize> {
        usize::try_from(fd.checked_sub(FIRST)?).ok()
    }

    /// Descriptor `fd`, if open.
    pub(crate) fn get(&self, fd: i32) -> Option<&Descriptor> {
        self.table.get(Self::index(fd)?)?.as_ref()
    }

    /// Descriptor `fd`, if open, to change.
    pub(crate) fn get_mut(&mut self, fd: i32) -> Option<&mut Descriptor> {
        self.table.get_mut(Self::index(fd)?)?.as_mut()
    }

    /// The directory `fd`, if it is one.
    pub(crate) fn dir(&self, fd: i32) -> Option<&GrantedDir> {
        match self.get(fd)? {
            Descriptor::Dir { dir, .. } => Some(dir),
            Descriptor::File(_) => None,
        }
    }

    /// Adds `descriptor` at the lowest free number; `None` when
    /// [`MAX_OPEN`] are open.
    pub(crate) fn insert(&mut self, descriptor: Descriptor) -> Option<i32> {
        let at = match self.table.iter().position(Option::is_none) {
            Some(at) => at,
            None if self.table.len() < MAX_OPEN => {
                self.table.push(None);
                self.table.len() - 1
            }
            None => return None,
        };
        self.table[at] = Some(descriptor);
        i32::try_from(at).ok().map(|at| at + FIRST)
    }

    /// Closes `fd`; false if it was not open.
    pub(crate) fn close(&mut self, fd: i32) -> bool {
        Self::index(fd)
            .and_then(|i| self.table.get_mut(i))
            .and_then(Option::take)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Descriptor {
        Descriptor::File(tempfile::tempfile().unwrap())
    }

    #[test]
    fn numbers_are_reused_lowest_first_and_capped() {
        let mut fds = Descriptors::default();
        assert_eq!(fds.insert(file()), Some(3));
        assert_eq!(fds.insert(file()), Some(4));
        assert!(fds.close(3));
        assert!(!fds.close(3));
        assert!(!fds.close(2) && !fds.close(-1));
        assert_eq!(fds.insert(file()), Some(3));
        while fds.insert(file()).is_some() {}
        assert_eq!(fds.table.len(), MAX_OPEN);
        assert_eq!(fds.insert(file()), None);
        assert!(fds.close(7));
        assert_eq!(fds.insert(file()), Some(7));
        assert!(fds.get(i32::MAX).is_none() && fds.get(i32::MIN).is_none());
    }
}
