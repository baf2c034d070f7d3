//! The registry's database.
//!
//! SQLite is the embedded default: one file, `registry.sqlite3`, inside the data directory, plus a
//! `blobs/` folder for uploaded documents. The schema comes only from `migrations/server/sqlite/`
//! (embedded at compile time), applied on open; a database written by a newer server is refused
//! rather than opened and possibly damaged.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use doorstep_domain::wire::StorageKind;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/server/sqlite");

/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "registry.sqlite3";
/// Folder for document blobs inside the data directory.
pub const BLOB_DIR: &str = "blobs";

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error(
        "database {path} has schema version {found}, newer than this server knows ({known}); \
         upgrade doorstep-registry instead of opening it with an older one"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// An open registry database.
#[derive(Clone)]
pub struct Storage {
    pool: SqlitePool,
    data_dir: PathBuf,
}

impl Storage {
    /// Open (creating if needed) the database in `data_dir` and bring its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self, StorageError> {
        create_private_dir(data_dir)?;
        create_private_dir(&data_dir.join(BLOB_DIR))?;
        let path = data_dir.join(SQLITE_FILE);
        let options = SqliteConnectOptions::from_str("sqlite:")
            .expect("static sqlite url")
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers proceed while one writer commits. NORMAL is durable across
            // application crashes in WAL mode; only an OS crash or power cut may lose the last
            // transactions, never corrupt the file, and clients retry unacknowledged writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| StorageError::Open {
                path: path.clone(),
                source,
            })?;

        let known = SQLITE_MIGRATIONS
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let found = applied_version(&pool).await?;
        if found > known {
            pool.close().await;
            return Err(StorageError::SchemaTooNew { path, found, known });
        }
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Storage {
            pool,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn kind(&self) -> StorageKind {
        StorageKind::Sqlite
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Number of the newest migration applied to this database.
    pub async fn schema_version(&self) -> Result<i64, StorageError> {
        applied_version(&self.pool).await
    }

    /// A cheap round trip proving the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Wait for in-flight queries and close every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Newest successfully applied migration, or 0 for a new database.
async fn applied_version(pool: &SqlitePool) -> Result<i64, StorageError> {
    let table_exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    if !table_exists {
        return Ok(0);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(version.unwrap_or(0))
}

/// Create a directory readable only by the server's own user: it will hold personal data.
fn create_private_dir(path: &Path) -> Result<(), StorageError> {
    let err = |source| StorageError::DataDir {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_creates_schema_and_reopen_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let storage = Storage::open(&data).await.unwrap();
        let version = storage.schema_version().await.unwrap();
        assert!(version >= 1);
        storage.ping().await.unwrap();
        storage.close().await;

        assert!(data.join(SQLITE_FILE).is_file());
        assert!(data.join(BLOB_DIR).is_dir());
        let again = Storage::open(&data).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), version);
        again.close().await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn data_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Storage::open(&data).await.unwrap().close().await;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[tokio::test]
    async fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        // Pretend a future server applied migration 9999.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', TRUE, X'00', 0)",
        )
        .execute(storage.pool())
        .await
        .unwrap();
        storage.close().await;

        let err = Storage::open(dir.path()).await.err().expect("must refuse");
        assert!(
            matches!(err, StorageError::SchemaTooNew { found: 9999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade doorstep-registry"));
    }

    #[tokio::test]
    async fn unusable_data_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = Storage::open(&file).await.err().expect("must fail");
        assert!(matches!(err, StorageError::DataDir { .. }), "{err}");
        assert!(err.to_string().contains("not-a-dir"));
    }
}
