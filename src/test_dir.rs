//! Temporary folders for tests: one per test, removed when the test passes
//! and kept (with its path printed) when it fails, to be looked at. The
//! unit tests use it as `crate::test_dir`; the integration tests include
//! this same file from `tests/common`.

use std::path::{Path, PathBuf};

/// A fresh, empty folder; removed on drop unless the thread is panicking.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<system temp>/borderzone-test-<pid>-<name>`, emptied first.
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("borderzone-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        TempDir(d)
    }

    /// A file `name` in this folder holding `bytes`.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }

    /// A fresh folder `<tag>-<name>` holding one file `name` with `bytes`:
    /// the guard (keep it alive while the file is used) and the file.
    pub fn with_file(tag: &str, name: &str, bytes: impl AsRef<[u8]>) -> (TempDir, PathBuf) {
        let dir = TempDir::new(&format!("{tag}-{name}"));
        let p = dir.file(name, bytes.as_ref());
        (dir, p)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
