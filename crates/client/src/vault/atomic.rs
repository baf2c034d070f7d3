//! Crash-safe file writes: temp file, fsync, rename, fsync the directory.
//!
//! After a crash or power cut the destination holds either the old content or the new one,
//! never a mix, and a temp file left behind is recognisable (`.tmp-` prefix) and removed on the
//! next open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Prefix of in-progress files; anything starting with it is garbage after a crash.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Create a new owner-only temp file in `dir` (never an existing one).
pub fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let path = dir.join(format!("{TEMP_PREFIX}{name}-{}", uuid::Uuid::now_v7()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    Ok((path, file))
}

/// Flush `file` to disk, move `temp` over `dest`, and make the rename itself durable.
pub fn commit(temp: &Path, file: File, dest: &Path) -> io::Result<()> {
    file.sync_all()?;
    drop(file);
    fs::rename(temp, dest)?;
    sync_dir(dest.parent().unwrap_or(Path::new(".")))
}

/// Write `bytes` to `dest` atomically.
pub fn write(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let (temp, mut file) = create_temp(dir, name)?;
    let result = file
        .write_all(bytes)
        .and_then(|_| commit(&temp, file, dest));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Make directory entries (creations, renames, deletions) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Create `dir` (and parents) readable only by this user.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Delete temp files a crash left in `dir`. Returns how many were removed.
pub fn remove_leftover_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("slot.json");
        write(&dest, b"one").unwrap();
        write(&dest, b"two").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leftovers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let (_path, _file) = create_temp(dir.path(), "doc").unwrap();
        fs::write(dir.path().join("keep"), b"x").unwrap();
        assert_eq!(remove_leftover_temps(dir.path()).unwrap(), 1);
        assert!(dir.path().join("keep").exists());
    }
}
