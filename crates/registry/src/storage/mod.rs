//! The registry's database, behind one trait with two implementations:
//! - [`sqlite::SqliteStore`]: an embedded file in the data directory, the zero-setup default;
//! - [`postgres::PostgresStore`]: a PostgreSQL server, for deployments beyond one machine.
//!
//! Both apply their own migrations (`migrations/server/sqlite/`, `migrations/server/postgres/`)
//! on open and refuse a database whose schema is newer than this server knows. Everything above
//! this module talks to `dyn Store` and cannot tell them apart.

pub(crate) mod committer;
pub(crate) mod group;
pub mod model;
pub(crate) mod plan;
pub mod postgres;
pub(crate) mod sql;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use doorstep_domain::wire::StorageKind;
use uuid::Uuid;

pub use model::{
    ApplicantQuery, AreaLoad, AuditEntry, CitizenScope, CommitError, DraftClosing, Expect,
    IdempotencyClaim, KeyLookup, ListQuery, LivenessChallengeRow, LivenessDue, NeverChecked,
    Outbound, OutboundChannelKind, OutboxQuery, OutboxRow, OutboxStatus, QueueQuery, RecordIndex,
    Settle, StoredFlag, StoredRecord, StoredResponse, Visibility, Write, WriteContext,
};

/// Folder for document blobs inside the data directory (whatever the database).
pub const BLOB_DIR: &str = "blobs";

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database ({location}): {source}")]
    Open {
        location: String,
        source: sqlx::Error,
    },
    #[error(
        "the database ({location}) has schema version {found}, newer than this server knows ({known}); \
         upgrade doorstep-registry instead of opening it with an older one"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        known: i64,
    },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds data this server cannot read: {0}")]
    Corrupt(String),
    #[error("a batch of writes was used after it ended or after one of its writes failed")]
    BatchEnded,
    #[error("the write was interrupted before it was committed; nothing was written")]
    Interrupted,
}

/// A change to the staff directory; `by` is the actor id, `at` RFC 3339 UTC server time.
#[derive(Debug, Clone)]
pub enum StaffWrite {
    /// A new entry (its id, who and when already filled in; no change or revocation).
    Grant(doorstep_domain::api::StaffEntry),
    Change {
        id: Uuid,
        role: doorstep_domain::api::StaffRole,
        areas: Vec<String>,
        by: String,
        at: String,
    },
    Revoke {
        id: Uuid,
        by: String,
        at: String,
    },
}

/// Why a staff-directory write was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffRefusal {
    #[error("no staff directory entry has this id")]
    NotFound,
    #[error("this staff directory entry was revoked; grant the person again instead")]
    Revoked,
    #[error("this identity already has a live entry ({0}); change that one instead")]
    AlreadyListed(Uuid),
    #[error("this would leave the registry with no administrator; make someone else an administrator first")]
    LastAdmin,
}

/// Where the records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// `registry.sqlite3` in the data directory.
    EmbeddedSqlite,
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseLocation {
    /// Parse the `--database` setting: `sqlite` or a PostgreSQL URL.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("sqlite") {
            return Ok(DatabaseLocation::EmbeddedSqlite);
        }
        let url = url::Url::parse(value)
            .map_err(|e| format!("database {value:?} is neither \"sqlite\" nor a URL: {e}"))?;
        match url.scheme() {
            "postgres" | "postgresql" if url.host_str().is_some() => {
                Ok(DatabaseLocation::Postgres(value.to_owned()))
            }
            "postgres" | "postgresql" => Err(
                "a PostgreSQL URL needs a host, e.g. postgres://user@127.0.0.1:5432/registry"
                    .into(),
            ),
            other => Err(format!(
                "unsupported database scheme {other:?}: use \"sqlite\" or postgres://…"
            )),
        }
    }

    /// For logs and errors: never the password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseLocation::EmbeddedSqlite => "embedded SQLite".into(),
            DatabaseLocation::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "postgres://…".into(),
            },
        }
    }
}

/// What the server needs from a database.
///
/// Reads see only committed data. Every write goes through [`Store::commit`], which checks
/// revisions, bumps them, appends to the change feed and audit trail, and remembers the
/// idempotent response, all in one transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn kind(&self) -> StorageKind;

    /// Number of the newest migration applied.
    async fn schema_version(&self) -> Result<i64, StorageError>;

    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> Result<(), StorageError>;

    /// Apply `writes` all or nothing. Fails without writing anything when a record is not at
    /// the expected revision, a unique key is taken, or the idempotency key was used before.
    async fn commit(
        &self,
        writes: Vec<Write>,
        ctx: &WriteContext,
    ) -> Result<Vec<StoredRecord>, CommitError>;

    /// Start a batch: one transaction that takes the writer lock at once and keeps it until
    /// [`Batch::finish`]. Its reads see its own writes, so a sync push can apply a run of
    /// mutations that build on each other without a transaction (and a lock round) each.
    /// Dropping the batch unfinished rolls all of it back. Other writers wait meanwhile: keep
    /// batches short.
    async fn begin_batch(&self) -> Result<Arc<dyn Batch>, StorageError>;

    /// The record with this id, whatever its kind, deleted or not.
    async fn get(&self, id: Uuid) -> Result<Option<StoredRecord>, StorageError>;

    /// Whether the record `id` holds the index key `key` (one index lookup, no record read).
    async fn holds_key(&self, id: Uuid, key: &str) -> Result<bool, StorageError>;

    /// One page of records of one kind, ordered by id.
    async fn list(&self, query: &ListQuery) -> Result<Vec<StoredRecord>, StorageError>;

    /// For each lookup, up to its `limit` live records holding one of its keys, as (key, the
    /// record's `owner_id`): index lookups only, whatever the caller may see. The duplicate
    /// check finds its candidates with it (an individual owns itself, a contact its person).
    async fn owners_by_keys(
        &self,
        lookups: &[KeyLookup],
    ) -> Result<Vec<(String, Uuid)>, StorageError>;

    /// A page of the review queue: live applications in one of `query.states`, ordered by
    /// (state since, id), each with its state-since as the database keeps it (RFC 3339 UTC,
    /// microseconds). Drafts have no state-since and are never listed.
    async fn review_queue(
        &self,
        query: &QueueQuery,
    ) -> Result<Vec<(StoredRecord, time::OffsetDateTime)>, StorageError>;

    /// For each of `owners`, how many of their live documents are pending verification (those
    /// with none are left out).
    async fn pending_documents(&self, owners: &[Uuid]) -> Result<Vec<(Uuid, u32)>, StorageError>;

    /// The newest version of a programme's form ever written (deleted or not), if any.
    async fn latest_form_version(&self, programme: Uuid) -> Result<Option<u32>, StorageError>;

    /// The applicants (individual ids, each once) with a live application to a programme,
    /// after `query.after`, at most `query.limit`.
    async fn applicants(&self, query: &ApplicantQuery) -> Result<Vec<Uuid>, StorageError>;

    /// The records with these ids (those that exist), whatever their kind, in no order.
    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<StoredRecord>, StorageError>;

    /// Open duplicate flags (both individuals live), ordered by (record, candidate), after the
    /// given pair.
    async fn duplicate_flags(
        &self,
        after: Option<(Uuid, Uuid)>,
        limit: u32,
    ) -> Result<Vec<StoredFlag>, StorageError>;

    /// Records whose latest change is after `after_seq`, in change order: the sync feed.
    async fn changes_since(
        &self,
        after_seq: u64,
        limit: u32,
        visibility: &Visibility,
    ) -> Result<Vec<StoredRecord>, StorageError>;

    /// Sequence number of the newest change (0 for an empty registry).
    async fn head_seq(&self) -> Result<u64, StorageError>;

    /// The remembered response to an earlier request with this idempotency key.
    async fn idempotent_response(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<StoredResponse>, StorageError>;

    /// The individual a signed-in citizen (`"<issuer> <subject>"`) is linked to.
    async fn linked_individual(&self, principal: &str) -> Result<Option<Uuid>, StorageError>;

    /// Link a citizen to an individual unless they are linked already; returns the link that
    /// holds afterwards.
    async fn link_citizen(
        &self,
        principal: &str,
        individual: Uuid,
        at: time::OffsetDateTime,
    ) -> Result<Option<Uuid>, StorageError>;

    /// Keep a revocation (a device or an agent the registry no longer serves).
    async fn revoke(
        &self,
        revocation: &doorstep_domain::api::Revocation,
    ) -> Result<(), StorageError>;

    /// The earliest revocation of any of `targets` (`device:<uuid>`, `agent:<subject>`), if any.
    async fn revocation_of(
        &self,
        targets: &[String],
    ) -> Result<Option<doorstep_domain::api::Revocation>, StorageError>;

    /// Every revocation, newest first (at most `limit`).
    async fn revocations(
        &self,
        limit: u32,
    ) -> Result<Vec<doorstep_domain::api::Revocation>, StorageError>;

    /// The live staff-directory entry for (issuer, subject), else for (issuer, verified
    /// e-mail in lower case): never a revoked one.
    async fn staff_live(
        &self,
        issuer: &str,
        subject: &str,
        email: Option<&str>,
    ) -> Result<Option<doorstep_domain::api::StaffEntry>, StorageError>;

    /// One staff-directory entry, live or revoked.
    async fn staff_entry(
        &self,
        id: Uuid,
    ) -> Result<Option<doorstep_domain::api::StaffEntry>, StorageError>;

    /// Directory entries in grant order (id) after `after`, at most `limit`.
    async fn staff_list(
        &self,
        after: Option<Uuid>,
        limit: u32,
        include_revoked: bool,
    ) -> Result<Vec<doorstep_domain::api::StaffEntry>, StorageError>;

    /// Grant, change or revoke a directory entry, with its history row, in one transaction.
    /// A refusal (see [`StaffRefusal`]) writes nothing.
    async fn staff_write(
        &self,
        write: StaffWrite,
    ) -> Result<Result<doorstep_domain::api::StaffEntry, StaffRefusal>, StorageError>;
    /// The gazetteer, in no order: all of it (`within` = `None`), or the area `within`, its
    /// ancestors and its subtree (an agent's part). At most `limit` areas.
    async fn areas(
        &self,
        within: Option<&str>,
        limit: usize,
    ) -> Result<Vec<doorstep_domain::gazetteer::Area>, StorageError>;

    /// The areas with these codes (those the gazetteer has), and whether it has any area at all.
    async fn areas_named(
        &self,
        codes: &[String],
    ) -> Result<(Vec<doorstep_domain::gazetteer::Area>, bool), StorageError>;

    /// Replace the whole gazetteer with `areas` (checked already) and keep `load` in its audit
    /// trail, in one transaction: readers see the old gazetteer or the new one, never a mix.
    async fn replace_areas(
        &self,
        areas: &[doorstep_domain::gazetteer::Area],
        load: &AreaLoad,
    ) -> Result<(), StorageError>;

    /// Households `individual` is a current member of, and every member of those.
    async fn household_of(&self, individual: Uuid) -> Result<(Vec<Uuid>, Vec<Uuid>), StorageError>;

    /// Every change of one record, oldest first.
    async fn audit_trail(&self, record: Uuid) -> Result<Vec<AuditEntry>, StorageError>;

    /// Random id of this store, made on first use.
    async fn store_id(&self) -> Result<String, StorageError>;

    /// Claim up to `limit` outbox rows due at `now` — pending and due, or being sent by a
    /// claim whose lease ran out (its process stopped) — for `worker` until `lease_until`,
    /// counting an attempt each. One statement; on PostgreSQL rows another process is claiming
    /// are skipped (`FOR UPDATE SKIP LOCKED`), so no row is claimed twice at once.
    async fn outbox_claim(
        &self,
        worker: &str,
        now: time::OffsetDateTime,
        lease_until: time::OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StorageError>;

    /// How an attempt at a row `worker` claimed ended. `false` (and nothing changed) when the
    /// claim was lost meanwhile: its lease ran out and someone else claimed the row.
    async fn outbox_settle(
        &self,
        id: Uuid,
        worker: &str,
        outcome: &Settle,
        now: time::OffsetDateTime,
    ) -> Result<bool, StorageError>;

    /// A page of the outbox, newest first, as `query.visibility` may see it (by the
    /// recipient's area).
    async fn outbox_list(&self, query: &OutboxQuery) -> Result<Vec<OutboxRow>, StorageError>;

    /// Take the periodic job `name` for `holder` until `lease_until`, if its next run is due
    /// and no live lease holds it: one conditional UPDATE, so among every process sharing the
    /// database exactly one gets it. `false`: not now.
    async fn job_take(
        &self,
        name: &str,
        holder: &str,
        now: time::OffsetDateTime,
        lease_until: time::OffsetDateTime,
    ) -> Result<bool, StorageError>;

    /// Release the job `holder` took, and set when it next runs.
    async fn job_done(
        &self,
        name: &str,
        holder: &str,
        next_run_at: time::OffsetDateTime,
    ) -> Result<(), StorageError>;

    /// Each live individual's latest passed liveness check due on or before `until` (its
    /// `next_due`, kept as the check's `state`), ordered by (due, check id), after `after`.
    async fn liveness_due(
        &self,
        until: time::Date,
        after: Option<(time::Date, Uuid)>,
        limit: u32,
    ) -> Result<Vec<LivenessDue>, StorageError>;

    /// Live individuals without a passed liveness check that set a due day (none of their
    /// live checks has a `state`), registered (first recorded, server time) before
    /// `registered_before`, ordered by (registration time, id), after `after`.
    async fn never_checked(
        &self,
        registered_before: time::OffsetDateTime,
        after: Option<(time::OffsetDateTime, Uuid)>,
        limit: u32,
    ) -> Result<Vec<NeverChecked>, StorageError>;

    /// Live draft applications to live programmes whose applications close between `from` and
    /// `until` (both days included; the programme's closing day is kept as its `state`),
    /// ordered by application id, after `after`.
    async fn drafts_closing(
        &self,
        from: time::Date,
        until: time::Date,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<DraftClosing>, StorageError>;

    /// Keep a new liveness challenge.
    async fn challenge_create(&self, challenge: &LivenessChallengeRow) -> Result<(), StorageError>;

    /// A liveness challenge as kept (used or not).
    async fn challenge(&self, id: Uuid) -> Result<Option<LivenessChallengeRow>, StorageError>;

    /// Mark a challenge used at `at`, once: `true` for the one call that did (one conditional
    /// UPDATE, so among every process sharing the database exactly one proof is taken).
    async fn challenge_use(&self, id: Uuid, at: time::OffsetDateTime)
        -> Result<bool, StorageError>;

    /// Wait for in-flight queries and close every connection.
    async fn close(&self);
}

/// Writes made together (see [`Store::begin_batch`]): a [`Store`] whose reads and commits all
/// go through one open transaction.
#[async_trait]
pub trait Batch: Store {
    /// Commit everything written in the batch. Refused, and everything rolled back, if one of
    /// its writes failed on a database error.
    async fn finish(&self) -> Result<(), StorageError>;
}

/// Open the configured database (creating the data directory and blob folder).
pub async fn open(
    data_dir: &Path,
    location: &DatabaseLocation,
) -> Result<Arc<dyn Store>, StorageError> {
    create_private_dir(data_dir)?;
    create_private_dir(&data_dir.join(BLOB_DIR))?;
    Ok(match location {
        DatabaseLocation::EmbeddedSqlite => Arc::new(sqlite::SqliteStore::open(data_dir).await?),
        DatabaseLocation::Postgres(url) => {
            Arc::new(postgres::PostgresStore::open(url, &location.redacted()).await?)
        }
    })
}

/// Create a directory readable only by the server's own user: it will hold personal data.
pub(crate) fn create_private_dir(path: &Path) -> Result<(), StorageError> {
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

    #[test]
    fn database_setting_parses_and_redacts() {
        assert_eq!(
            DatabaseLocation::parse("sqlite").unwrap(),
            DatabaseLocation::EmbeddedSqlite
        );
        let pg = DatabaseLocation::parse("postgres://reg:s3cret@127.0.0.1:5432/registry").unwrap();
        assert!(matches!(pg, DatabaseLocation::Postgres(_)));
        assert!(!pg.redacted().contains("s3cret"), "{}", pg.redacted());
        assert!(DatabaseLocation::parse("mysql://x@h/db")
            .unwrap_err()
            .contains("unsupported"));
        assert!(DatabaseLocation::parse("postgres:///nohost").is_err());
        assert!(DatabaseLocation::parse("registry.db").is_err());
    }
}
