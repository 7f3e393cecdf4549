//! Artifacts written to a staging file as they are rendered, hashed on the way, then stored from
//! the file ([`dbadmin_ports::ObjectStore::put_file`]): a report's CSV and JSON are never held in
//! memory whole.

use sha2::{Digest, Sha256};
use std::io::{BufWriter, Write};
use std::path::Path;

/// A staging file being written.
pub struct Staged {
    file: BufWriter<tempfile::NamedTempFile>,
    hasher: Sha256,
    size: u64,
}

/// A finished staging file: removed when dropped (a store on disk has linked it into place by then).
pub struct StagedFile {
    pub path: tempfile::TempPath,
    pub sha256: String,
    pub size: u64,
}

impl Staged {
    pub fn create(dir: &Path) -> std::io::Result<Staged> {
        std::fs::create_dir_all(dir)?;
        let file = tempfile::Builder::new().prefix(".artifact-").tempfile_in(dir)?;
        Ok(Staged { file: BufWriter::with_capacity(256 * 1024, file), hasher: Sha256::new(), size: 0 })
    }

    pub fn finish(self) -> std::io::Result<StagedFile> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        Ok(StagedFile { path: file.into_temp_path(), sha256: hex::encode(self.hasher.finalize()), size: self.size })
    }
}

impl Write for Staged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_and_size_are_of_the_bytes_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut staged = Staged::create(&dir.path().join("stage")).unwrap();
        staged.write_all(b"hello ").unwrap();
        staged.write_all(b"world").unwrap();
        let done = staged.finish().unwrap();
        assert_eq!(std::fs::read(&done.path).unwrap(), b"hello world");
        assert_eq!((done.sha256, done.size), (dbadmin_contracts::sha256_hex(b"hello world"), 11));
        let path = done.path.to_path_buf();
        drop(done.path);
        assert!(!path.exists(), "a staging file is removed once stored");
    }
}
