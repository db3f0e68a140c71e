//! All-or-nothing output: every file is written under a temporary name in
//! its final directory and renamed into place only when the whole run has
//! succeeded. A run that fails or is killed leaves the previous outputs
//! intact and no half-written file under a final name.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A set of output files committed together.
#[derive(Debug, Default)]
pub struct OutputSet {
    pending: Vec<(PathBuf, PathBuf)>,
}

/// A buffered writer to a temporary file of an [`OutputSet`].
pub type TempWriter = BufWriter<File>;

impl OutputSet {
    /// An empty set.
    pub fn new() -> Self {
        OutputSet::default()
    }

    /// Create (or overwrite) the temporary file for `path`.
    pub fn create(&mut self, path: &Path) -> Result<TempWriter> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, "cannot create directory", e))?;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("output");
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, "cannot create", e))?;
        self.pending.push((tmp, path.to_path_buf()));
        Ok(BufWriter::with_capacity(1 << 16, file))
    }

    /// Reserve a temporary path for `path`, for a tool that writes the file
    /// itself (GDAL). The temporary name keeps the extension, which some
    /// drivers go by; it is renamed into place at [`OutputSet::commit`].
    pub fn reserve(&mut self, path: &Path) -> Result<PathBuf> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, "cannot create directory", e))?;
        }
        let stem = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or("output");
        let ext = path
            .extension()
            .and_then(|n| n.to_str())
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{stem}.{}.tmp{ext}", std::process::id()));
        if tmp.exists() {
            fs::remove_file(&tmp)
                .map_err(|e| Error::io(&tmp, "cannot remove stale temporary file", e))?;
        }
        self.pending.push((tmp.clone(), path.to_path_buf()));
        Ok(tmp)
    }

    /// The temporary file now holding `path`, when it is pending in this set
    /// (so a converter can read an output written earlier in the same run).
    pub fn staged(&self, path: &Path) -> Option<&Path> {
        self.pending
            .iter()
            .rev()
            .find(|(_, p)| p == path)
            .map(|(tmp, _)| tmp.as_path())
    }

    /// Write a whole file at once.
    pub fn write_bytes(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut w = self.create(path)?;
        w.write_all(bytes)
            .map_err(|e| Error::io(path, "cannot write", e))?;
        finish(w, path)
    }

    /// File names (without folder) of the files written so far, in order.
    pub fn pending_names(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter_map(|(_, p)| p.file_name().and_then(|n| n.to_str()).map(String::from))
            .collect()
    }

    /// Rename every temporary file to its final name.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let pending = std::mem::take(&mut self.pending);
        let mut done = Vec::with_capacity(pending.len());
        for (tmp, path) in pending {
            fs::rename(&tmp, &path).map_err(|e| Error::io(&path, "cannot rename into place", e))?;
            done.push(path);
        }
        Ok(done)
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Flush and sync a writer made by [`OutputSet::create`].
pub fn finish(w: TempWriter, path: &Path) -> Result<()> {
    let file = w
        .into_inner()
        .map_err(|e| Error::io(path, "cannot write", e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io(path, "cannot sync", e))
}

/// Bytes written between two early syncs of [`EarlySync`].
const EARLY_SYNC_BYTES: usize = 8 << 20;

/// Writes a large file's data to disk on a helper thread while the file is
/// still being written, so that the sync before the rename
/// ([`finish`]) finds little left to write: the computing and the disk
/// overlap. Nothing else changes: the file is still complete and synced
/// before it is renamed into place.
#[derive(Debug)]
pub struct EarlySync {
    file: File,
    unsynced: usize,
    running: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl EarlySync {
    /// For the file behind `w`.
    ///
    /// # Errors
    /// The file handle cannot be duplicated.
    pub fn new(w: &TempWriter) -> std::io::Result<Self> {
        Ok(EarlySync {
            file: w.get_ref().try_clone()?,
            unsynced: 0,
            running: None,
        })
    }

    /// Note `bytes` more written; start a sync when enough are and none is
    /// running.
    ///
    /// # Errors
    /// An earlier early sync failed.
    pub fn wrote(&mut self, bytes: usize) -> std::io::Result<()> {
        self.unsynced += bytes;
        if self.unsynced < EARLY_SYNC_BYTES
            || self.running.as_ref().is_some_and(|h| !h.is_finished())
        {
            return Ok(());
        }
        self.wait()?;
        let file = self.file.try_clone()?;
        self.running = Some(std::thread::spawn(move || file.sync_data()));
        self.unsynced = 0;
        Ok(())
    }

    /// Wait for the running sync, if any.
    ///
    /// # Errors
    /// It failed.
    pub fn wait(&mut self) -> std::io::Result<()> {
        match self.running.take() {
            Some(h) => h.join().expect("a sync thread does not panic"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_set_leaves_previous_file() {
        let dir = crate::test_dir::TempDir::new("atomic");
        let p = dir.join("a.csv");
        fs::write(&p, "old").unwrap();
        {
            let mut set = OutputSet::new();
            set.write_bytes(&p, b"new").unwrap();
        }
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary file removed"
        );
        let mut set = OutputSet::new();
        set.write_bytes(&p, b"new").unwrap();
        set.commit().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    }
}
