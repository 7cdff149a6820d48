//! File-relative paths.

use std::path::Path;

/// The directory holding `file`: `.` for a bare file name (`wf.yaml`),
/// where [`Path::parent`] gives an empty path that no file operation accepts.
pub fn directory_of(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(directory_of(Path::new("wf.yaml")), Path::new("."));
        assert_eq!(directory_of(Path::new("a/wf.yaml")), Path::new("a"));
        assert_eq!(directory_of(Path::new("/wf.yaml")), Path::new("/"));
    }
}
