//! [`FsBlobStore`]: blobs as files under `<data>/blobs/`.
//!
//! Layout `ab/cd/abcd…` (the first two byte pairs of the hash as folders) keeps every folder small
//! however many documents a registry holds. A blob appears by atomic rename, after the file and
//! then its folder are fsynced, so after a crash a blob is either absent or complete — never a
//! prefix. Files are mode 0600 and folders 0700: they hold identity documents.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{BlobError, BlobReader, BlobStore, Sha256Hex};

/// Blobs as files on the local file system.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// A store rooted at `root` (created, mode 0700, if missing). The registry uses
    /// `<data>/blobs` ([`crate::storage::BLOB_DIR`]); see [`FsBlobStore::in_data_dir`].
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        create_private_dir(&root).map_err(io_err("creating", &root))?;
        Ok(FsBlobStore { root })
    }

    /// The store in the registry's data directory: `<data>/blobs`.
    pub fn in_data_dir(data_dir: &Path) -> Result<Self, BlobError> {
        Self::open(data_dir.join(crate::storage::BLOB_DIR))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob named `sha256` lives (whether or not it exists).
    pub fn path_of(&self, sha256: &Sha256Hex) -> PathBuf {
        let h = sha256.as_str();
        self.root.join(&h[0..2]).join(&h[2..4]).join(h)
    }

    /// The folder listing who uploaded the blob: `uploaders/ab/abcd…/`, one empty file per
    /// uploader named by the SHA-256 of their actor id (no names or subjects on disk).
    fn uploaders_of(&self, sha256: &Sha256Hex) -> PathBuf {
        let h = sha256.as_str();
        self.root.join(UPLOADERS_DIR).join(&h[0..2]).join(h)
    }
}

/// Folder of the uploader ledger inside the store (not two hex digits, so it never clashes with
/// the blobs' fan-out folders).
const UPLOADERS_DIR: &str = "uploaders";

fn uploader_file_name(uploader: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(uploader.as_bytes()))
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put_file(
        &self,
        staged: &Path,
        sha256: &Sha256Hex,
        size: u64,
    ) -> Result<(), BlobError> {
        let staged = staged.to_owned();
        let target = self.path_of(sha256);
        let root = self.root.clone();
        blocking(move || put_file_blocking(&root, &staged, &target, size, false)).await
    }

    async fn put_synced_file(
        &self,
        staged: &Path,
        sha256: &Sha256Hex,
        size: u64,
    ) -> Result<(), BlobError> {
        let staged = staged.to_owned();
        let target = self.path_of(sha256);
        let root = self.root.clone();
        blocking(move || put_file_blocking(&root, &staged, &target, size, true)).await
    }

    async fn open(&self, sha256: &Sha256Hex) -> Result<Option<(u64, BlobReader)>, BlobError> {
        let path = self.path_of(sha256);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("opening", &path)(e)),
        };
        let len = file
            .metadata()
            .await
            .map_err(io_err("reading metadata of", &path))?
            .len();
        Ok(Some((len, Box::new(file))))
    }

    async fn exists(&self, sha256: &Sha256Hex) -> Result<bool, BlobError> {
        let path = self.path_of(sha256);
        tokio::fs::try_exists(&path)
            .await
            .map_err(io_err("checking", &path))
    }

    async fn delete(&self, sha256: &Sha256Hex) -> Result<bool, BlobError> {
        let path = self.path_of(sha256);
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    sync_dir(dir).map_err(io_err("syncing", dir))?;
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("deleting", &path)(e)),
        })
        .await
    }

    async fn add_uploader(&self, sha256: &Sha256Hex, uploader: &str) -> Result<(), BlobError> {
        let dir = self.uploaders_of(sha256);
        let root = self.root.clone();
        let file = dir.join(uploader_file_name(uploader));
        blocking(move || {
            if file.exists() {
                return Ok(());
            }
            let ledger = root.join(UPLOADERS_DIR);
            for folder in [&ledger, dir.parent().expect("fan-out folder"), &dir] {
                if !folder.exists() {
                    create_private_dir(folder).map_err(io_err("creating", folder))?;
                    if let Some(parent) = folder.parent() {
                        sync_dir(parent).map_err(io_err("syncing", parent))?;
                    }
                }
            }
            let created = create_private_file(&file).map_err(io_err("creating", &file))?;
            created.sync_all().map_err(io_err("syncing", &file))?;
            sync_dir(&dir).map_err(io_err("syncing", &dir))
        })
        .await
    }

    async fn uploaded_by(&self, sha256: &Sha256Hex, uploader: &str) -> Result<bool, BlobError> {
        let file = self.uploaders_of(sha256).join(uploader_file_name(uploader));
        tokio::fs::try_exists(&file)
            .await
            .map_err(io_err("checking", &file))
    }
}

/// `synced`: the staged file's content is already durable, so it is not fsynced again (only if
/// its mode had to change).
fn put_file_blocking(
    root: &Path,
    staged: &Path,
    target: &Path,
    size: u64,
    synced: bool,
) -> Result<(), BlobError> {
    let found = fs::metadata(staged)
        .map_err(io_err("reading metadata of", staged))?
        .len();
    if found != size {
        return Err(BlobError::SizeMismatch {
            path: staged.to_owned(),
            expected: size,
            found,
        });
    }
    if target.exists() {
        // Same name, same bytes: keep the stored copy.
        fs::remove_file(staged).map_err(io_err("removing", staged))?;
        return Ok(());
    }
    let dir = target.parent().expect("blob path has a folder");
    ensure_fan_out(root, dir)?;

    {
        let file = File::open(staged).map_err(io_err("opening", staged))?;
        let restricted = set_private_file(&file).map_err(io_err("restricting", staged))?;
        if !synced || restricted {
            file.sync_all().map_err(io_err("syncing", staged))?;
        }
    }
    match fs::rename(staged, target) {
        Ok(()) => {}
        // Staging on another file system (e.g. a tmpfs): copy into the store, then rename there.
        Err(e) if e.raw_os_error() == Some(EXDEV) => {
            let tmp = dir.join(format!(
                ".{}.tmp",
                target.file_name().unwrap().to_string_lossy()
            ));
            copy_private(staged, &tmp)?;
            fs::rename(&tmp, target).map_err(io_err("renaming into", target))?;
            fs::remove_file(staged).map_err(io_err("removing", staged))?;
        }
        Err(e) => return Err(io_err("moving into", target)(e)),
    }
    sync_dir(dir).map_err(io_err("syncing", dir))?;
    Ok(())
}

/// `EXDEV`, "cross-device link", on Linux and the BSDs/macOS.
const EXDEV: i32 = 18;

fn copy_private(from: &Path, to: &Path) -> Result<(), BlobError> {
    let mut src = File::open(from).map_err(io_err("opening", from))?;
    let mut dst = create_private_file(to).map_err(io_err("creating", to))?;
    io::copy(&mut src, &mut dst).map_err(io_err("copying into", to))?;
    dst.sync_all().map_err(io_err("syncing", to))
}

/// Create `ab/` and `ab/cd/` under the root as needed, fsyncing each parent that gained an entry
/// so the new folders survive a crash along with the blob.
fn ensure_fan_out(root: &Path, dir: &Path) -> Result<(), BlobError> {
    let first = dir.parent().expect("fan-out has two levels");
    for (folder, parent) in [(first, root), (dir, first)] {
        match fs::create_dir(folder) {
            Ok(()) => {
                set_private_dir(folder).map_err(io_err("restricting", folder))?;
                sync_dir(parent).map_err(io_err("syncing", parent))?;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("creating", folder)(e)),
        }
    }
    Ok(())
}

pub(crate) fn create_private_dir(path: &Path) -> io::Result<()> {
    fs::create_dir_all(path)?;
    set_private_dir(path)
}

fn set_private_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Make a file mode 0600; returns whether that changed its mode.
fn set_private_file(file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Skip the chmod when it would change nothing: it dirties the inode, and the fsync that
        // follows would then cost a journal commit.
        if file.metadata()?.permissions().mode() & 0o777 != 0o600 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
            return Ok(true);
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(false)
}

/// Create (or truncate) a file only the server's user can read.
pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Make a folder's entries (a rename, a new or removed file) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BlobError {
    let path = path.to_owned();
    move |source| BlobError::Io {
        action,
        path,
        source,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobError::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[tokio::test]
    async fn put_is_atomic_private_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path().join("blobs")).unwrap();
        let sha = Sha256Hex::parse(EMPTY).unwrap();
        assert!(!store.exists(&sha).await.unwrap());
        assert!(store.open(&sha).await.unwrap().is_none());

        for round in 0..2 {
            let staged = dir.path().join(format!("staged{round}"));
            fs::write(&staged, b"hello").unwrap();
            store.put_file(&staged, &sha, 5).await.unwrap();
            assert!(!staged.exists(), "staged file is consumed");
        }
        let path = store.path_of(&sha);
        assert!(path.ends_with(format!("e3/b0/{EMPTY}")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
        let (len, mut reader) = store.open(&sha).await.unwrap().unwrap();
        assert_eq!(len, 5);
        let mut text = String::new();
        reader.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "hello");

        assert!(store.delete(&sha).await.unwrap());
        assert!(!store.delete(&sha).await.unwrap());
        assert!(!store.exists(&sha).await.unwrap());
    }

    #[tokio::test]
    async fn size_mismatch_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path().join("blobs")).unwrap();
        let staged = dir.path().join("staged");
        fs::write(&staged, b"abc").unwrap();
        let err = store
            .put_file(&staged, &Sha256Hex::parse(EMPTY).unwrap(), 4)
            .await
            .unwrap_err();
        assert!(
            matches!(err, BlobError::SizeMismatch { found: 3, .. }),
            "{err}"
        );
    }
}
