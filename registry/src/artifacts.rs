//! The content-addressed artifact store: bytes live in `<root>/sha256/<aa>/<sha256>`.
//!
//! Files are written to a temporary name, fsynced and renamed into place, so a crash never
//! leaves a partial file under a hash name. Every read re-hashes the bytes and refuses a file
//! whose hash does not match its name. Names never reach the file system: only validated hex
//! digests do, so nothing can escape the directory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{RegistryError, Result};
use crate::names::validate_digest;

/// An artifact whose bytes are in the store: what a run or version record refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredArtifact {
    /// Lowercase hex sha256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// IANA media type, e.g. `application/json`.
    pub media_type: String,
}

/// A directory of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Hex-encodes a sha256 digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn validate_media_type(media_type: &str) -> Result<()> {
    if media_type.is_empty()
        || media_type.len() > 255
        || media_type.chars().any(char::is_control)
        || !media_type.contains('/')
    {
        return Err(RegistryError::InvalidField {
            field: "media type",
            reason: format!("{media_type:?} is not a media type"),
            hint: "use a type/subtype such as application/json or application/octet-stream",
        });
    }
    Ok(())
}

impl ArtifactStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this sha256 lives (whether or not it exists).
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        validate_digest("artifact sha256", sha256)?;
        Ok(self.root.join("sha256").join(&sha256[..2]).join(sha256))
    }

    fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn temp_file(&self) -> Result<(PathBuf, File)> {
        let dir = self.temp_dir();
        fs::create_dir_all(&dir).map_err(RegistryError::io(&dir))?;
        let name = format!(
            "{}.{}.{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u64>()
        );
        let path = dir.join(name);
        let file = File::create_new(&path).map_err(RegistryError::io(&path))?;
        Ok((path, file))
    }

    /// Stores bytes and returns their address. Idempotent: storing the same bytes twice keeps
    /// one file.
    pub fn put_bytes(&self, bytes: &[u8], media_type: &str) -> Result<StoredArtifact> {
        validate_media_type(media_type)?;
        let sha256 = sha256_hex(bytes);
        let artifact = StoredArtifact {
            sha256,
            size_bytes: bytes.len() as u64,
            media_type: media_type.to_owned(),
        };
        if self.verify(&artifact.sha256).is_ok() {
            // Refresh the age so a concurrent `gc` grace period protects the blob until the
            // caller's transaction records it.
            self.touch(&artifact.sha256)?;
            return Ok(artifact);
        }
        let (temp, mut file) = self.temp_file()?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(RegistryError::io(&temp));
        drop(file);
        if let Err(err) = written {
            let _ = fs::remove_file(&temp);
            return Err(err);
        }
        self.publish(&temp, &artifact.sha256)?;
        Ok(artifact)
    }

    /// Streams a file into the store (hashing while copying) and returns its address.
    pub fn put_file(&self, source: &Path, media_type: &str) -> Result<StoredArtifact> {
        validate_media_type(media_type)?;
        let mut input = File::open(source).map_err(RegistryError::io(source))?;
        let (temp, mut file) = self.temp_file()?;
        let copied = (|| -> io::Result<(String, u64)> {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n])?;
                size += n as u64;
            }
            file.sync_all()?;
            Ok((hex(&hasher.finalize()), size))
        })();
        drop(file);
        let (sha256, size_bytes) = match copied {
            Ok(done) => done,
            Err(source_err) => {
                let _ = fs::remove_file(&temp);
                return Err(RegistryError::Io {
                    path: source.to_owned(),
                    source: source_err,
                });
            }
        };
        self.publish(&temp, &sha256)?;
        Ok(StoredArtifact {
            sha256,
            size_bytes,
            media_type: media_type.to_owned(),
        })
    }

    /// Renames a complete, synced temp file to its hash name and syncs the directory.
    fn publish(&self, temp: &Path, sha256: &str) -> Result<()> {
        let dest = self.path_of(sha256)?;
        let dir = dest.parent().unwrap_or(&self.root).to_owned();
        fs::create_dir_all(&dir).map_err(RegistryError::io(&dir))?;
        if let Err(err) = fs::rename(temp, &dest) {
            let _ = fs::remove_file(temp);
            return Err(RegistryError::Io {
                path: dest,
                source: err,
            });
        }
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(RegistryError::io(&dir))
    }

    fn touch(&self, sha256: &str) -> Result<()> {
        let path = self.path_of(sha256)?;
        File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()))
            .map_err(RegistryError::io(&path))
    }

    /// Reads a blob, verifying that its bytes hash to `sha256`.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha256)?;
        let bytes = fs::read(&path).map_err(|err| {
            if err.kind() == io::ErrorKind::NotFound {
                RegistryError::ArtifactMissing {
                    sha256: sha256.to_owned(),
                    path: path.clone(),
                }
            } else {
                RegistryError::Io {
                    path: path.clone(),
                    source: err,
                }
            }
        })?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(RegistryError::ArtifactCorrupt {
                expected: sha256.to_owned(),
                actual,
                path,
            });
        }
        Ok(bytes)
    }

    /// Verifies a blob and returns its size.
    pub fn verify(&self, sha256: &str) -> Result<u64> {
        self.read(sha256).map(|bytes| bytes.len() as u64)
    }

    /// Every blob file in the store with its modification time; files whose names are not
    /// digests are skipped (they are not ours).
    pub(crate) fn list(&self) -> Result<Vec<(String, PathBuf, SystemTime)>> {
        let mut out = Vec::new();
        let base = self.root.join("sha256");
        let prefixes = match fs::read_dir(&base) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(err) => {
                return Err(RegistryError::Io {
                    path: base,
                    source: err,
                });
            }
        };
        for prefix in prefixes {
            let prefix = prefix.map_err(RegistryError::io(&base))?.path();
            if !prefix.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&prefix).map_err(RegistryError::io(&prefix))? {
                let entry = entry.map_err(RegistryError::io(&prefix))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if validate_digest("artifact sha256", &name).is_err() {
                    continue;
                }
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .map_err(RegistryError::io(entry.path()))?;
                out.push((name, entry.path(), modified));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Leftover temp files (from writers that crashed) with their modification times.
    pub(crate) fn list_temp(&self) -> Result<Vec<(PathBuf, SystemTime)>> {
        let dir = self.temp_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(RegistryError::Io {
                    path: dir,
                    source: err,
                });
            }
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(RegistryError::io(&dir))?;
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .map_err(RegistryError::io(entry.path()))?;
            out.push((entry.path(), modified));
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_dedupe() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::new(dir.path());
        let a = store.put_bytes(b"hello", "text/plain").expect("put");
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(a.size_bytes, 5);
        let again = store.put_bytes(b"hello", "text/plain").expect("put again");
        assert_eq!(a, again);
        assert_eq!(store.read(&a.sha256).expect("read"), b"hello");
        assert_eq!(store.list().expect("list").len(), 1);
        assert!(store.list_temp().expect("temp").is_empty());
    }

    #[test]
    fn file_round_trip_matches_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::new(dir.path().join("store"));
        let src = dir.path().join("src.bin");
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&src, &payload).expect("write");
        let from_file = store
            .put_file(&src, "application/octet-stream")
            .expect("put");
        assert_eq!(from_file.sha256, sha256_hex(&payload));
        assert_eq!(from_file.size_bytes, payload.len() as u64);
        assert_eq!(store.read(&from_file.sha256).expect("read"), payload);
    }

    #[test]
    fn corrupt_and_missing_files_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::new(dir.path());
        let a = store.put_bytes(b"payload", "text/plain").expect("put");
        let path = store.path_of(&a.sha256).expect("path");
        fs::write(&path, b"tampered").expect("tamper");
        let err = store.read(&a.sha256).expect_err("corrupt").to_string();
        assert!(err.contains("is corrupt"), "{err}");
        // Storing the same bytes again repairs the blob.
        store.put_bytes(b"payload", "text/plain").expect("repair");
        assert_eq!(store.read(&a.sha256).expect("read"), b"payload");
        fs::remove_file(&path).expect("rm");
        let err = store.read(&a.sha256).expect_err("missing").to_string();
        assert!(err.contains("missing from the artifact store"), "{err}");
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::new(dir.path());
        assert!(store.path_of("../../etc/passwd").is_err());
        assert!(store.put_bytes(b"x", "").is_err());
        assert!(store.put_bytes(b"x", "plain").is_err());
    }
}
