//! The PostgreSQL store, selected by a `postgres://` database URL.

use std::time::Duration;

use doorstep_domain::wire::StorageKind;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StorageError;

static MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/server/postgres");

pub struct PostgresStore {
    pool: PgPool,
    /// Made once, never changes: read from the database on first use only.
    store_id: tokio::sync::OnceCell<String>,
    /// This process's writers take turns here; the turn holder commits every write queued
    /// meanwhile in one transaction (see `group.rs`).
    writers: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Writes waiting to be committed together.
    queue: std::sync::Arc<super::group::Queue>,
    /// Commits write groups on a thread of its own (see `committer.rs`).
    committer: super::committer::Committer<sqlx::Postgres>,
}

impl PostgresStore {
    /// Connect to `url` and bring its schema up to date. `location` is the URL without password,
    /// for messages.
    pub async fn open(url: &str, location: &str) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // No round trip to test a connection each time one is taken (a write group takes one
            // while holding the writer turn): sqlx tests it when it is given back and drops a
            // broken one then, so only a connection broken while idle fails its next query.
            .test_before_acquire(false)
            .connect(url)
            .await
            .map_err(|source| StorageError::Open {
                location: location.to_owned(),
                source,
            })?;
        let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
        let found = applied_version(&pool).await?;
        if found > known {
            pool.close().await;
            return Err(StorageError::SchemaTooNew {
                location: location.to_owned(),
                found,
                known,
            });
        }
        // sqlx takes an advisory lock, so two servers starting at once do not both migrate.
        MIGRATIONS.run(&pool).await?;
        // The commit thread runs only the writers' statements, which look rows up by key:
        // PostgreSQL would otherwise plan them anew at each of their first executions, and
        // planning was a fifth of a group's time in the database.
        let commits = (*pool.connect_options())
            .clone()
            .options([("plan_cache_mode", "force_generic_plan")]);
        let committer = super::committer::Committer::start(commits)
            .await
            .map_err(|source| StorageError::Open {
                location: location.to_owned(),
                source,
            })?;
        Ok(PostgresStore {
            committer,
            pool,
            store_id: tokio::sync::OnceCell::new(),
            writers: Default::default(),
            queue: Default::default(),
        })
    }

    /// Wait for this process's other writers. Between server processes sharing the database
    /// the feed lock (see `sql.rs`) orders writers; within one, taking turns here first is what
    /// lets a turn commit a whole group of writes with one flush of PostgreSQL's log.
    /// Run a write group's commit (given the pool to use) on the commit thread.
    fn spawn_commits<F>(&self, commit: impl FnOnce(PgPool) -> F) -> tokio::task::JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.committer.spawn(commit)
    }

    async fn close_pools(&self) {
        self.committer.close().await;
        self.pool.close().await;
    }

    async fn write_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writers.clone().lock_owned().await
    }
}

super::sql::shared_store_impl!(
    PostgresStore,
    sqlx::Postgres,
    crate::storage::sql::Dialect::Postgres,
    StorageKind::Postgres
);

/// Newest successfully applied migration, or 0 for a new database.
async fn applied_version(pool: &PgPool) -> Result<i64, StorageError> {
    let table_exists: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
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
