//! Objects as files under a directory, written once, with the bucket's key layout.

use crate::{ObjectStore, PortError, Stored};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// Objects as files under a directory, with the same key layout as the bucket.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, PortError> {
        let safe = !key.is_empty()
            && !key.starts_with('/')
            && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        if !safe {
            return Err(PortError::permanent("resolve object key", format!("'{key}' is not a valid object key")));
        }
        Ok(self.root.join(key))
    }
}

fn io_error(operation: String, e: std::io::Error) -> PortError {
    PortError::permanent(operation, e)
}

#[async_trait]
impl ObjectStore for DirStore {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<Stored, PortError> {
        let path = self.path(key)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io_error(format!("create {}", dir.display()), e))?;
        // Write beside the target, then hard-link it into place: the link fails if the name exists
        // (write once), and readers see no file or the whole one.
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("object"),
            ulid::Ulid::new()
        ));
        tokio::fs::write(&tmp, body).await.map_err(|e| io_error(format!("write {}", tmp.display()), e))?;
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(Stored::Created),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Stored::Existed),
            Err(e) => Err(io_error(format!("link {}", path.display()), e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(format!("read {}", path.display()), e)),
        }
    }

    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }

    /// Links the staged file into place: no copy, no read, and the link fails if the name exists.
    async fn put_file(&self, key: &str, staged: &Path, _content_type: &str) -> Result<Stored, PortError> {
        let path = self.path(key)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io_error(format!("create {}", dir.display()), e))?;
        match tokio::fs::hard_link(staged, &path).await {
            Ok(()) => Ok(Stored::Created),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Stored::Existed),
            Err(e) => Err(io_error(format!("link {}", path.display()), e)),
        }
    }

    /// Inside the root, so a staged file links into place on the same file system.
    fn staging_dir(&self) -> PathBuf {
        self.root.join(".staging")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn objects_are_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        assert_eq!(store.put("a/b.json", b"first".to_vec(), "x").await.unwrap(), Stored::Created);
        assert_eq!(store.put("a/b.json", b"second".to_vec(), "x").await.unwrap(), Stored::Existed);
        assert_eq!(store.get("a/b.json").await.unwrap().unwrap(), b"first", "the first bytes stay");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[tokio::test]
    async fn dir_store_refuses_escaping_keys_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        let _ = store.put("runs/r/x.json", b"{}".to_vec(), "application/json").await.unwrap();
        assert_eq!(store.get("runs/r/x.json").await.unwrap().as_deref(), Some(&b"{}"[..]));
        assert_eq!(store.get("runs/r/none.json").await.unwrap(), None);
        for bad in ["../etc/passwd", "/abs", "a//b", "runs/./x"] {
            assert!(store.put(bad, vec![], "x").await.is_err(), "{bad} must be refused");
        }
    }
}
