//! Turning the paths a user gives into the files to read: directories are walked
//! recursively, in name order, so runs are reproducible.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::IngestError;

/// A file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes, for progress.
    pub size: u64,
    /// Whether the user named it (rather than a directory holding it). A named file of an
    /// unknown format is a failure; one found in a directory is skipped and reported.
    pub named: bool,
}

/// The files a run will read, and the paths that could not be walked.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files in the order they are reported.
    pub files: Vec<PlannedFile>,
    /// Paths that do not exist or could not be listed.
    pub failures: Vec<IngestError>,
}

impl Plan {
    /// Walks `paths`: files are taken as they are, directories recursively.
    pub fn new(paths: &[PathBuf]) -> Plan {
        let mut plan = Plan::default();
        for path in paths {
            plan.add(path);
        }
        plan
    }

    /// The total size of the files, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    fn add(&mut self, path: &Path) {
        let name = || -> vigil_event::SourcePath { path.display().to_string().into() };
        let metadata = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.failures.push(IngestError::io(&name(), e)),
        };
        if !metadata.is_dir() {
            self.files.push(PlannedFile {
                path: path.to_path_buf(),
                size: metadata.len(),
                named: true,
            });
            return;
        }
        for entry in WalkDir::new(path).sort_by_file_name() {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    self.files.push(PlannedFile {
                        path: entry.into_path(),
                        size,
                        named: false,
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    let at: vigil_event::SourcePath =
                        e.path().unwrap_or(path).display().to_string().into();
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                    self.failures.push(IngestError::io(&at, io));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_in_name_order_and_missing_paths_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/z.log"), "12345").unwrap();
        std::fs::write(dir.path().join("b/a.log"), "1").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        let missing = dir.path().join("nope");
        let plan = Plan::new(&[dir.path().to_path_buf(), missing.clone()]);
        let names: Vec<_> = plan
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.json", "b/a.log", "b/c/z.log"]);
        assert_eq!(plan.total_bytes(), 8);
        assert!(plan.files.iter().all(|f| !f.named));
        assert_eq!(plan.failures.len(), 1);
        assert!(
            plan.failures[0]
                .to_string()
                .starts_with(&missing.display().to_string())
        );
    }
}
