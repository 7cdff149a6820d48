//! Reading and writing package archives. Reading treats the archive as
//! hostile: only regular files at its root, names without `/`, `\` or `..`,
//! each name once, capped in number and size (declared and actual), never
//! overwriting. A zip's central directory and its local headers must agree
//! (names, sizes, no entry missing from or hidden outside the directory), so
//! every reader sees the same files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// An archive could not be read or written, or holds what a package may not.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// A file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be created.
    #[error("cannot create {}", .path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The archive was refused (the cause says why); nothing of it is kept.
    #[error("{}: refused", .path.display())]
    Refused {
        /// The archive.
        path: PathBuf,
        /// Why.
        source: Box<ArchiveError>,
    },
    /// Its first bytes are those of no archive format read.
    #[error("{} is neither a .tar.gz nor a .zip archive", .0.display())]
    NotAnArchive(PathBuf),
    /// The tar.gz stream is broken.
    #[error("{what}")]
    BadTar {
        /// What could not be read.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The zip is broken.
    #[error("{what}")]
    BadZip {
        /// What could not be read.
        what: &'static str,
        /// Why.
        source: zip::result::ZipError,
    },
    /// An entry names something other than a file at the root.
    #[error("entry `{0}` is not a plain file name at the archive's root (a package holds no directories)")]
    NotPlainName(String),
    /// A tar entry is a link, a directory or a device.
    #[error("entry `{raw}` is a {kind}, not a regular file: a package holds regular files only")]
    NotRegular {
        /// The entry's name.
        raw: String,
        /// What it is.
        kind: String,
    },
    /// A zip entry is a link or a directory.
    #[error("entry `{0}` is not a regular file: a package holds regular files only")]
    NotRegularZip(String),
    /// More files than the caps allow.
    #[error("it holds more than {0} files")]
    TooManyFiles(usize),
    /// More zip entries than the caps allow.
    #[error("it holds {entries} entries; a package may hold at most {max}")]
    TooManyEntries {
        /// How many it holds.
        entries: usize,
        /// The cap.
        max: usize,
    },
    /// A name twice.
    #[error("it holds `{0}` twice")]
    Twice(String),
    /// A name twice in a zip's central directory.
    #[error("its central directory holds a file name twice")]
    TwiceInDirectory,
    /// An entry's header declares more bytes than a file may take.
    #[error("`{name}` is {declared} bytes; a package file may take at most {max}")]
    TooBig {
        /// The entry.
        name: String,
        /// Its declared size.
        declared: u64,
        /// The cap.
        max: u64,
    },
    /// An entry unpacks to more than it may.
    #[error(
        "`{name}` unpacks to more than {limit} bytes (a package may take at most {entry} per file, {total} in all)"
    )]
    Overflow {
        /// The entry.
        name: String,
        /// What was left for it.
        limit: u64,
        /// The cap per file.
        entry: u64,
        /// The cap in all.
        total: u64,
    },
    /// An entry could not be written out.
    #[error("cannot unpack `{name}`")]
    Unpack {
        /// The entry.
        name: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be added to a new archive.
    #[error("cannot add {} to {}", .path.display(), .out.display())]
    Add {
        /// The file.
        path: PathBuf,
        /// The archive.
        out: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn bad_tar(what: &'static str) -> impl FnOnce(std::io::Error) -> ArchiveError {
    move |source| ArchiveError::BadTar { what, source }
}

fn bad_zip(what: &'static str) -> impl FnOnce(zip::result::ZipError) -> ArchiveError {
    move |source| ArchiveError::BadZip { what, source }
}

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Files in it.
    pub entries: usize,
    /// Bytes in one file.
    pub entry_bytes: u64,
    /// Bytes in all its files.
    pub total_bytes: u64,
}

/// The caps `pocket plugin install` unpacks under.
pub const CAPS: Caps = Caps {
    entries: 64,
    entry_bytes: 256 << 20,
    total_bytes: 512 << 20,
};

/// Whether `file` is a package archive (by its first bytes) rather than a
/// plugin file.
pub fn is_archive(file: &Path) -> Result<bool, ArchiveError> {
    Ok(archive_kind(file)?.is_some())
}

/// The archive format of `file`, by its first bytes.
fn archive_kind(file: &Path) -> Result<Option<Format>, ArchiveError> {
    let mut magic = [0u8; 4];
    let read = File::open(file)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(read_error(file))?;
    Ok(match &magic[..read] {
        [0x1f, 0x8b, ..] => Some(Format::TarGz),
        [b'P', b'K', 3, 4] | [b'P', b'K', 5, 6] => Some(Format::Zip),
        _ => None,
    })
}

#[derive(Debug, Clone, Copy)]
enum Format {
    TarGz,
    Zip,
}

/// Unpacks the package archive at `archive` (a `.tar.gz` or a `.zip`, told
/// apart by their content) into the empty directory `into`; the names of
/// the files it held.
pub fn unpack(archive: &Path, into: &Path, caps: Caps) -> Result<Vec<String>, ArchiveError> {
    let mut sink = Sink {
        into,
        caps,
        names: Vec::new(),
        total: 0,
    };
    match archive_kind(archive)? {
        Some(Format::TarGz) => unpack_tar_gz(archive, &mut sink),
        Some(Format::Zip) => unpack_zip(archive, &mut sink),
        None => Err(ArchiveError::NotAnArchive(archive.to_path_buf())),
    }
    .map_err(|source| ArchiveError::Refused {
        path: archive.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(sink.names)
}

/// Where unpacked files go, and what they have taken so far.
struct Sink<'a> {
    into: &'a Path,
    caps: Caps,
    names: Vec<String>,
    total: u64,
}

impl Sink<'_> {
    /// Writes one entry, `declared` bytes long by its header, from `data`.
    fn file(&mut self, raw_name: &str, declared: u64, data: &mut dyn Read) -> Result<(), ArchiveError> {
        let name = root_name(raw_name)?;
        if self.names.len() == self.caps.entries {
            return Err(ArchiveError::TooManyFiles(self.caps.entries));
        }
        if self.names.contains(&name) {
            return Err(ArchiveError::Twice(name));
        }
        if declared > self.caps.entry_bytes {
            return Err(ArchiveError::TooBig {
                name,
                declared,
                max: self.caps.entry_bytes,
            });
        }
        let path = self.into.join(&name);
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| ArchiveError::Create { path, source })?;
        let limit = self.caps.entry_bytes.min(self.caps.total_bytes - self.total);
        let written = match std::io::copy(&mut data.take(limit + 1), &mut file) {
            Ok(written) => written,
            Err(source) => return Err(ArchiveError::Unpack { name, source }),
        };
        if written > limit {
            return Err(ArchiveError::Overflow {
                name,
                limit,
                entry: self.caps.entry_bytes,
                total: self.caps.total_bytes,
            });
        }
        self.total += written;
        self.names.push(name);
        Ok(())
    }
}

/// An entry's name, if it is a plain file name at the archive's root
/// (`./name` too).
fn root_name(raw: &str) -> Result<String, ArchiveError> {
    let name = raw.strip_prefix("./").unwrap_or(raw);
    if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name.starts_with('.') {
        return Err(ArchiveError::NotPlainName(raw.to_string()));
    }
    Ok(name.to_string())
}

/// A directory entry for the root itself (`./`), which archivers write.
fn is_root(raw: &str) -> bool {
    matches!(raw, "./" | ".")
}

fn unpack_tar_gz(archive: &Path, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let file = File::open(archive).map_err(read_error(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().map_err(bad_tar("not a readable tar.gz archive"))? {
        let mut entry = entry.map_err(bad_tar("not a readable tar.gz archive"))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() && is_root(&raw) {
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            return Err(ArchiveError::NotRegular {
                raw,
                kind: format!("{kind:?}"),
            });
        }
        let declared = entry
            .header()
            .size()
            .map_err(bad_tar("an entry with an unreadable size"))?;
        sink.file(&raw, declared, &mut entry)?;
    }
    Ok(())
}

fn unpack_zip(archive: &Path, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let file = File::open(archive).map_err(read_error(archive))?;
    let mut zip = zip::ZipArchive::new(file).map_err(bad_zip("not a readable zip archive"))?;
    // The central directory holds names once each after reading (a later
    // entry of a name hides an earlier one), so duplicates are counted in
    // the raw directory; this also compares every local header with its
    // directory entry and looks for local headers the directory leaves out.
    if zip.has_duplicate_names() {
        return Err(ArchiveError::TwiceInDirectory);
    }
    zip.validate_header_consistency()
        .map_err(bad_zip("its central directory and local headers disagree"))?;
    if zip.len() > sink.caps.entries {
        return Err(ArchiveError::TooManyEntries {
            entries: zip.len(),
            max: sink.caps.entries,
        });
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(bad_zip("not a readable zip archive"))?;
        let raw = entry
            .name()
            .map_err(bad_zip("an entry with an unreadable name"))?
            .to_string();
        if entry.is_dir() && is_root(&raw) {
            continue;
        }
        if entry.is_dir() || entry.is_symlink() || !entry.is_file() {
            return Err(ArchiveError::NotRegularZip(raw));
        }
        let declared = entry.size();
        sink.file(&raw, declared, &mut entry)?;
    }
    Ok(())
}

/// Writes `files` ((name in the archive, file to read)) into a new
/// `.tar.gz` at `out`.
pub fn pack(files: &[(String, PathBuf)], out: &Path) -> Result<(), ArchiveError> {
    let created = |source| ArchiveError::Create {
        path: out.to_path_buf(),
        source,
    };
    let file = File::create(out).map_err(created)?;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::default()));
    for (name, path) in files {
        let mut source = File::open(path).map_err(read_error(path))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(source.metadata().map_err(read_error(path))?.len());
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, &mut source)
            .map_err(|source| ArchiveError::Add {
                path: path.clone(),
                out: out.to_path_buf(),
                source,
            })?;
    }
    let mut encoder = tar.into_inner().map_err(created)?;
    encoder.flush().map_err(created)?;
    encoder.finish().map_err(created)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Caps = Caps {
        entries: 3,
        entry_bytes: 100,
        total_bytes: 150,
    };

    /// A raw tar entry: name, type, declared size, data.
    type Entry<'a> = (&'a str, tar::EntryType, u64, &'a [u8]);

    /// A .tar.gz of raw entries, headers written by hand so that they can lie.
    fn tar_gz(dir: &Path, entries: &[Entry<'_>]) -> PathBuf {
        let path = dir.join("a.tar.gz");
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        ));
        for (name, kind, size, data) in entries {
            let mut header = tar::Header::new_old();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(*kind);
            header.set_size(*size);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append(&header, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    fn refusal(entries: &[Entry<'_>]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let archive = tar_gz(dir.path(), entries);
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        crate::chain(&unpack(&archive, &into, SMALL).unwrap_err())
    }

    #[test]
    fn hostile_tar_entries_are_refused() {
        use tar::EntryType::{Regular, Symlink};
        let cases: [(&[Entry<'_>], &str); 6] = [
            (&[("../escape", Regular, 1, b"x")], "not a plain file name"),
            (&[("/etc/passwd", Regular, 1, b"x")], "not a plain file name"),
            (&[("dir/x", Regular, 1, b"x")], "not a plain file name"),
            (&[("link", Symlink, 0, b"")], "regular files only"),
            (&[("big", Regular, 1 << 40, b"")], "at most 100"),
            (&[("a", Regular, 1, b"a"), ("a", Regular, 1, b"a")], "twice"),
        ];
        for (entries, expected) in cases {
            let err = refusal(entries);
            assert!(err.contains(expected), "{entries:?}: {err}");
        }
        let many: Vec<Entry<'_>> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| (*n, Regular, 1, &b"x"[..]))
            .collect();
        assert!(refusal(&many).contains("more than 3 files"));
        let total: Vec<Entry<'_>> = ["a", "b"].iter().map(|n| (*n, Regular, 90, &[0u8; 90][..])).collect();
        assert!(refusal(&total).contains("more than 60 bytes"), "{}", refusal(&total));
    }

    #[test]
    fn a_zip_entry_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("bomb", options).unwrap();
        zip.write_all(&[0u8; 10_000]).unwrap();
        zip.finish().unwrap();
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        let err = crate::chain(&unpack(&path, &into, SMALL).unwrap_err());
        assert!(err.contains("bomb"), "{err}");
    }

    /// A name to write over another: the name, which of its occurrences,
    /// and the new name.
    type Rename<'a> = (&'a str, usize, &'a str);

    /// A stored .zip of `entries` (name, contents), its bytes with every
    /// `rename` (which occurrence of a name's bytes: 0 is the local header,
    /// 1 the central directory entry, as the writer puts them) replaced by
    /// another name of the same length.
    fn patched_zip(dir: &Path, entries: &[(&str, &[u8])], renames: &[Rename<'_>]) -> PathBuf {
        let path = dir.join("a.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        for (from, nth, to) in renames {
            assert_eq!(from.len(), to.len());
            let at = bytes
                .windows(from.len())
                .enumerate()
                .filter(|(_, w)| w == &from.as_bytes())
                .map(|(i, _)| i)
                .nth(*nth)
                .unwrap();
            bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_zip_naming_a_file_twice_anywhere_is_refused_and_unpacks_nothing() {
        let entries: &[(&str, &[u8])] = &[("greeter.lua", b"return 1"), ("greeter.lux", b"return 2")];
        let cases: [(&[Rename<'_>], &str); 3] = [
            // Both headers of the second entry say greeter.lua: a duplicate.
            (
                &[("greeter.lux", 0, "greeter.lua"), ("greeter.lux", 0, "greeter.lua")],
                "twice",
            ),
            // Only the central directory repeats the name.
            (&[("greeter.lux", 1, "greeter.lua")], "twice"),
            // Only the local header repeats it: readers disagree on the files.
            (&[("greeter.lux", 0, "greeter.lua")], "disagree"),
        ];
        for (i, (renames, expected)) in cases.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let archive = patched_zip(dir.path(), entries, renames);
            let into = dir.path().join("out");
            std::fs::create_dir(&into).unwrap();
            let err = crate::chain(&unpack(&archive, &into, CAPS).unwrap_err());
            assert!(err.contains(expected), "case {i}: {err}");
            assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0, "case {i} unpacked files");
        }
        // Names that differ as bytes but name the same file once unpacked.
        let dir = tempfile::tempdir().unwrap();
        let same = [("greeter.lua", &b"return 1"[..]), ("abgreeter.lua", b"return 2")];
        let renames = [
            ("abgreeter.lua", 0, "./greeter.lua"),
            ("abgreeter.lua", 0, "./greeter.lua"),
        ];
        let archive = patched_zip(dir.path(), &same, &renames);
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        let err = crate::chain(&unpack(&archive, &into, CAPS).unwrap_err());
        assert!(err.contains("`greeter.lua` twice"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let fine = patched_zip(dir.path(), entries, &[]);
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        assert_eq!(unpack(&fine, &into, CAPS).unwrap(), ["greeter.lua", "greeter.lux"]);
    }

    #[test]
    fn what_pack_writes_unpacks_to_the_same_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m"), "manifest").unwrap();
        std::fs::write(dir.path().join("p"), "plugin").unwrap();
        let out = dir.path().join("x.tar.gz");
        pack(
            &[
                ("pocket-plugin.toml".into(), dir.path().join("m")),
                ("x.lua".into(), dir.path().join("p")),
            ],
            &out,
        )
        .unwrap();
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        assert_eq!(unpack(&out, &into, CAPS).unwrap(), ["pocket-plugin.toml", "x.lua"]);
        assert_eq!(std::fs::read_to_string(into.join("x.lua")).unwrap(), "plugin");
    }
}
