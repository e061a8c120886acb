//! An emitted project held in memory, and its atomic writer.
//!
//! A [`Project`] maps relative paths (plain components only: no `..`, no root, no prefix) to file
//! contents, ordered by path. [`Project::write`] writes everything into a fresh temporary directory
//! beside the destination and renames it into place, so the destination is always either what it
//! was before or the complete new project. An existing non-empty destination is refused unless
//! `force`; then the old tree is moved aside only once the new one is complete and deleted after
//! the new one is in place. A process killed mid-write can leave a `.hls-gen-*` directory beside
//! the destination, never a half-written destination. Files are not flushed to the device (no
//! `fsync`): the guarantee is against failures of this process, not of the operating system.
//!
//! Every written tree holds an empty [`MARKER`] file, and `force` replaces only a directory that
//! holds one: a directory hls-gen did not write (a home directory, a folder with the model in it)
//! is refused, as is the current directory or one of its ancestors.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::BackendError;

/// The file that marks a directory as a project hls-gen wrote, and so one `force` may replace.
pub const MARKER: &str = ".hls-gen-project";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Project {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; errors on a path that is not plain and relative, or that is already present
    /// as a file or a directory.
    pub fn add(
        &mut self,
        path: impl Into<PathBuf>,
        contents: impl Into<Vec<u8>>,
    ) -> Result<(), BackendError> {
        let path = path.into();
        let bad = |what: &str| BackendError::ProjectPath { path: path.clone(), what: what.to_string() };
        if path.as_os_str().is_empty() {
            return Err(bad("is empty"));
        }
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad("must be relative, without '..' or '.'"));
        }
        if self.files.contains_key(&path) {
            return Err(bad("is added twice"));
        }
        if path.ancestors().skip(1).any(|a| self.files.contains_key(a)) {
            return Err(bad("lies inside a file"));
        }
        if self.files.keys().any(|k| k.starts_with(&path)) {
            return Err(bad("is already a directory"));
        }
        self.files.insert(path, contents.into());
        Ok(())
    }

    pub fn files(&self) -> &BTreeMap<PathBuf, Vec<u8>> {
        &self.files
    }

    pub fn get(&self, path: impl AsRef<Path>) -> Option<&[u8]> {
        self.files.get(path.as_ref()).map(|v| v.as_slice())
    }

    /// Writes the project to `dest` atomically (see the module documentation).
    pub fn write(&self, dest: &Path, force: bool) -> Result<(), BackendError> {
        let existing = match fs::symlink_metadata(dest) {
            Ok(m) if !m.is_dir() => return Err(BackendError::NotADirectory(dest.to_path_buf())),
            Ok(_) => Some(is_empty_dir(dest)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(BackendError::io(dest, e)),
        };
        if existing == Some(false) {
            if !force {
                return Err(BackendError::Exists(dest.to_path_buf()));
            }
            if !dest.join(MARKER).is_file() {
                return Err(BackendError::NotAProject(dest.to_path_buf()));
            }
            let here = std::env::current_dir().map_err(|e| BackendError::io(Path::new("."), e))?;
            let full = fs::canonicalize(dest).map_err(|e| BackendError::io(dest, e))?;
            if here.starts_with(&full) {
                let what = "holds the current directory, so it cannot be replaced".to_string();
                return Err(BackendError::ProjectPath { path: dest.to_path_buf(), what });
            }
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| BackendError::io(&parent, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".hls-gen-new-")
            .tempdir_in(&parent)
            .map_err(|e| BackendError::io(&parent, e))?;
        for (rel, contents) in &self.files {
            let path = tmp.path().join(rel);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| BackendError::io(dir, e))?;
            }
            fs::write(&path, contents).map_err(|e| BackendError::io(&path, e))?;
        }
        let marker = tmp.path().join(MARKER);
        fs::write(&marker, "").map_err(|e| BackendError::io(&marker, e))?;
        match existing {
            None => rename(tmp.path(), dest)?,
            Some(true) => {
                fs::remove_dir(dest).map_err(|e| BackendError::io(dest, e))?;
                rename(tmp.path(), dest)?;
            }
            Some(false) => {
                let old = tempfile::Builder::new()
                    .prefix(".hls-gen-old-")
                    .tempdir_in(&parent)
                    .map_err(|e| BackendError::io(&parent, e))?;
                let aside = old.path().join("project");
                rename(dest, &aside)?;
                if let Err(e) = rename(tmp.path(), dest) {
                    // Put the old project back; the new one stays in its temporary directory,
                    // which is removed when `tmp` drops.
                    let _ = fs::rename(&aside, dest);
                    return Err(e);
                }
                drop(old);
            }
        }
        // The temporary path no longer exists; dropping `tmp` finds nothing to remove.
        let _ = tmp.keep();
        Ok(())
    }
}

fn is_empty_dir(dir: &Path) -> Result<bool, BackendError> {
    let mut entries = fs::read_dir(dir).map_err(|e| BackendError::io(dir, e))?;
    Ok(entries.next().is_none())
}

fn rename(from: &Path, to: &Path) -> Result<(), BackendError> {
    fs::rename(from, to).map_err(|e| BackendError::io(to, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Project {
        let mut p = Project::new();
        p.add("a.txt", "a").unwrap();
        p.add("sub/dir/b.txt", "b").unwrap();
        p
    }

    fn leftovers(parent: &Path) -> Vec<String> {
        fs::read_dir(parent)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".hls-gen-"))
            .collect()
    }

    #[test]
    fn rejects_unsafe_paths() {
        let mut p = Project::new();
        for bad in ["../x", "/etc/passwd", "a/../b", "./a", ""] {
            assert!(p.add(bad, "x").is_err(), "{bad}");
        }
        p.add("a/b", "x").unwrap();
        assert!(p.add("a/b", "y").is_err());
        assert!(p.add("a", "y").is_err());
        assert!(p.add("a/b/c", "y").is_err());
    }

    #[test]
    fn writes_new_and_refuses_non_empty_without_force() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out/proj");
        sample().write(&dest, false).unwrap();
        assert_eq!(fs::read(dest.join("sub/dir/b.txt")).unwrap(), b"b");
        let err = sample().write(&dest, false).unwrap_err();
        assert!(matches!(err, BackendError::Exists(_)));
        assert!(leftovers(&root.path().join("out")).is_empty());
    }

    #[test]
    fn force_replaces_the_whole_tree() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("proj");
        sample().write(&dest, false).unwrap();
        fs::create_dir_all(dest.join("stale")).unwrap();
        fs::write(dest.join("stale/old.txt"), "old").unwrap();
        sample().write(&dest, true).unwrap();
        assert!(!dest.join("stale").exists());
        assert_eq!(fs::read(dest.join("a.txt")).unwrap(), b"a");
        assert!(dest.join(MARKER).is_file());
        assert!(leftovers(root.path()).is_empty());
    }

    #[test]
    fn force_refuses_a_directory_hls_gen_did_not_write() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("work");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("model.onnx"), "model").unwrap();
        let err = sample().write(&dest, true).unwrap_err();
        assert!(matches!(err, BackendError::NotAProject(_)), "{err}");
        assert!(err.to_string().contains(MARKER), "{err}");
        assert_eq!(fs::read(dest.join("model.onnx")).unwrap(), b"model");
        assert!(!dest.join("a.txt").exists());
        assert!(leftovers(root.path()).is_empty());
    }

    #[test]
    fn empty_directory_is_filled_and_file_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("proj");
        fs::create_dir(&dest).unwrap();
        sample().write(&dest, false).unwrap();
        assert!(dest.join("a.txt").exists());
        let file = root.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(sample().write(&file, true), Err(BackendError::NotADirectory(_))));
    }

    #[test]
    fn failed_write_leaves_destination_untouched() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("proj");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join(MARKER), "").unwrap();
        fs::write(dest.join("keep.txt"), "keep").unwrap();
        let mut p = sample();
        // File names longer than 255 bytes fail on every common file system, after `a.txt`
        // has been written.
        p.add(format!("b/{}", "x".repeat(300)), "x").unwrap();
        assert!(matches!(p.write(&dest, true), Err(BackendError::Io { .. })));
        assert_eq!(fs::read(dest.join("keep.txt")).unwrap(), b"keep");
        assert!(!dest.join("a.txt").exists());
        assert!(leftovers(root.path()).is_empty());
    }
}
