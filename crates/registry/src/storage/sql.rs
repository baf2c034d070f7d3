//! The record store's SQL, written once for both databases.
//!
//! SQLite and PostgreSQL differ here only in how a UUID, a JSON document or a timestamp crosses
//! the wire and in how writers are serialised; [`Dialect`] spells those out, and
//! [`shared_store_impl!`] expands the same query code for each database's concrete types (sqlx's
//! generic bounds over `Database` are far harder to read than one macro).
//!
//! # How writers keep the change feed in order
//! The change feed's `seq` must become visible in order: a reader that has seen seq N must never
//! later find a committed N-1 (it would skip it for ever). A sequence/identity column does not give
//! that on PostgreSQL — two transactions take 7 and 8, 8 commits first. So the feed's head lives
//! in one row, `feed_head` (`seq`, and `writes`, a count of writing statements), and every writing
//! statement begins with the *head guard*: `UPDATE feed_head SET seq = <new>, writes = writes + 1
//! WHERE writes = <as read>`. Updating the row locks it until commit, so commit order is seq order.
//! Two ways to write:
//! - **Under the lock** (SQLite always; a sync push's batch; a group that writes one record twice):
//!   a transaction begun with [`Dialect::begin_writing`] (SQLite `BEGIN IMMEDIATE`; PostgreSQL
//!   `SELECT … FROM feed_head FOR UPDATE` in the `BEGIN`'s round trip) reads, decides and writes;
//!   nobody can move the head meanwhile, so the guard holds.
//! - **Guarded, without a transaction** (a PostgreSQL write group, [`Dialect::writes_alone`]):
//!   one read of the records, keys and head, then one statement whose data-modifying `WITH`
//!   clauses all join the guard's result, so they write only if the guard moved the head. If
//!   another server wrote after the read, PostgreSQL re-checks the guard's `WHERE` on the newest
//!   row version, nothing is written, and the group is read and decided again (after
//!   [`UNLOCKED_TRIES`] it takes the lock instead). Two round trips instead of four.
//!
//! Within one server, writers also take turns (`write_turn`), so this server's groups never race
//! each other; `tests/storage_backends.rs` runs two servers on one database to race them.

use std::fmt::Write as _;

use doorstep_domain::RecordKind;
use uuid::Uuid;

use super::model::{Visibility, HOUSEHOLD_KINDS, PUBLIC_KINDS};

/// How SQL differs between the two databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn uuid_in(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("${n}"),
            Dialect::Postgres => format!("${n}::uuid"),
        }
    }

    pub(crate) fn uuid_out(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_owned(),
            Dialect::Postgres => format!("{column}::text"),
        }
    }

    pub(crate) fn json_out(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_owned(),
            Dialect::Postgres => format!("{column}::text"),
        }
    }

    fn time_in(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("${n}"),
            Dialect::Postgres => format!("${n}::timestamptz"),
        }
    }

    pub(crate) fn time_out(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_owned(),
            Dialect::Postgres => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
        }
    }

    /// `column` is one of the list bound at `$n`: on SQLite a JSON array of strings, on
    /// PostgreSQL a `text[]` (cast with `cast`), looked up with `= ANY`, which uses the index
    /// (it plans `IN (set-returning function)` for a hundred rows as a scan of the table).
    fn in_list(self, column: &str, n: usize, cast: Col) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => match self.cast(cast) {
                "" => format!("{column} = ANY(${n}::text[])"),
                element => format!("{column} = ANY(${n}::text[]{element}[])"),
            },
        }
    }

    /// A record body's top-level integer `field`, as a BIGINT.
    pub(crate) fn json_int(self, column: &str, field: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST(json_extract({column}, '$.{field}') AS INTEGER)"),
            Dialect::Postgres => format!("CAST({column}->>'{field}' AS BIGINT)"),
        }
    }

    /// Whether `$n` occurs in the search text.
    fn contains(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("instr(search_text, ${n}) > 0"),
            Dialect::Postgres => format!("strpos(search_text, ${n}) > 0"),
        }
    }

    /// How a writing transaction begins: with the feed's lock (see the module docs), in the
    /// same round trip as its `BEGIN`.
    pub(crate) fn begin_writing(self) -> String {
        match self {
            // IMMEDIATE takes SQLite's write lock now, honouring busy_timeout, rather than
            // failing with SQLITE_BUSY when a read transaction later tries to upgrade.
            Dialect::Sqlite => "BEGIN IMMEDIATE".into(),
            // A simple query may hold several statements: one round trip for both.
            Dialect::Postgres => "BEGIN; SELECT seq FROM feed_head WHERE id = 1 FOR UPDATE".into(),
        }
    }

    /// What ends a `SELECT` that picks rows to claim: on PostgreSQL, rows another transaction
    /// is claiming are skipped rather than waited for (SQLite has one writer at a time).
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Whether a group may be written without a transaction: read what it needs, then one
    /// statement that writes only if the feed's head is still what was read (see the module
    /// docs). PostgreSQL runs a statement with data-modifying `WITH` clauses all-or-nothing;
    /// SQLite gets several statements in one query, so it always takes the lock first.
    pub(crate) fn writes_alone(self) -> bool {
        self == Dialect::Postgres
    }

    /// How a column of [`Builder::rows`] is cast from the text PostgreSQL is sent.
    fn cast(self, column: Col) -> &'static str {
        match (self, column) {
            (Dialect::Sqlite, _) | (Dialect::Postgres, Col::Text) => "",
            (Dialect::Postgres, Col::Uuid) => "::uuid",
            (Dialect::Postgres, Col::Int) => "::int8",
            (Dialect::Postgres, Col::Bool) => "::boolean",
            (Dialect::Postgres, Col::Json) => "::jsonb",
            (Dialect::Postgres, Col::Time) => "::timestamptz",
        }
    }
}

/// The type of a column of [`Builder::rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Uuid,
    Text,
    Int,
    Bool,
    Json,
    Time,
}

/// One value of [`Builder::rows`]: text (a UUID, JSON document or timestamp is sent as text),
/// an integer or a boolean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Text(Option<String>),
    Int(i64),
    Bool(bool),
}

impl Cell {
    /// The value as PostgreSQL is sent it in a text array (cast back by [`Dialect::cast`]).
    fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(text) => text,
            Cell::Int(n) => Some(n.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(Some(text))
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(Some(text.to_owned()))
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        Cell::Text(text)
    }
}

impl From<Uuid> for Cell {
    fn from(id: Uuid) -> Self {
        Cell::Text(Some(id.to_string()))
    }
}

impl From<Option<Uuid>> for Cell {
    fn from(id: Option<Uuid>) -> Self {
        Cell::Text(id.map(|id| id.to_string()))
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Cell::Bool(b)
    }
}

/// `items` in runs of at most `size`, in order.
pub(crate) fn chunks<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut runs = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        runs.push(items.by_ref().take(size).collect());
    }
    runs
}

/// How many times a group is tried without a transaction (see [`Dialect::writes_alone`]) before
/// it waits for the lock: each failed try means another server wrote meanwhile.
pub(crate) const UNLOCKED_TRIES: usize = 3;

/// Why a group tried without a transaction was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotWritten {
    /// Another server wrote after the read: the head guard failed.
    Raced,
    /// The group writes a record twice, which takes two statements: only under the lock.
    NeedsLock,
}

/// The change feed's head as a writer read it (the `feed_head` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// The newest change.
    pub(crate) seq: i64,
    /// Writing statements so far: a writing statement applies only if this is unchanged.
    pub(crate) writes: i64,
}

/// The change feed as one writer sees it.
#[derive(Debug, Default)]
pub(crate) struct Feed {
    /// The head, once read by a transaction that holds the lock: nobody else can move it
    /// until the transaction ends.
    pub(crate) head: Option<Head>,
}

/// One value bound to a placeholder. The few types both databases agree on.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    /// A text array (PostgreSQL only: see [`Builder::rows`]).
    Texts(Vec<Option<String>>),
}

/// Binding a [`Bind::Texts`]: a `text[]` on PostgreSQL. SQLite has no arrays and
/// [`Builder::rows`] never gives it one; were it given one, it would get the JSON array
/// `json_each` reads.
pub(crate) trait BindTexts: sqlx::Database {
    fn bind_texts<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>,
        texts: &'q [Option<String>],
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>;
}

impl BindTexts for sqlx::Postgres {
    fn bind_texts<'q>(
        query: sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments>,
        texts: &'q [Option<String>],
    ) -> sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments> {
        query.bind(texts)
    }
}

impl BindTexts for sqlx::Sqlite {
    fn bind_texts<'q>(
        query: sqlx::query::Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>>,
        texts: &'q [Option<String>],
    ) -> sqlx::query::Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>> {
        query.bind(serde_json::to_string(texts).expect("strings serialise"))
    }
}

/// Builds a statement and its binds together so placeholder numbers can't drift.
pub(crate) struct Builder {
    pub(crate) dialect: Dialect,
    pub(crate) sql: String,
    pub(crate) binds: Vec<Bind>,
    /// Where each statement after the first begins in `sql` (see [`Builder::next_statement`]).
    starts: Vec<usize>,
}

impl Builder {
    pub(crate) fn new(dialect: Dialect, sql: impl Into<String>) -> Self {
        Builder {
            dialect,
            sql: sql.into(),
            binds: Vec::new(),
            starts: Vec::new(),
        }
    }

    /// Begin another statement, sent with the ones before in one round trip (see
    /// [`Builder::together`]). Placeholders number on across statements.
    pub(crate) fn next_statement(&mut self) -> &mut Self {
        self.starts.push(self.sql.len());
        self
    }

    /// The statements as one: SQLite runs several statements of one query string in order;
    /// PostgreSQL takes one statement per query, so the first ones become data-modifying
    /// `WITH` clauses of the last. These run on one snapshot, so the statements must not touch
    /// the same rows (a `DELETE` and an `INSERT` of one key would not see each other).
    pub(crate) fn together(mut self) -> Self {
        if self.starts.is_empty() {
            return self;
        }
        let mut bounds = vec![0];
        bounds.extend(&self.starts);
        bounds.push(self.sql.len());
        let parts: Vec<&str> = bounds.windows(2).map(|w| &self.sql[w[0]..w[1]]).collect();
        let (last, first) = parts.split_last().expect("two statements or more");
        self.sql = match self.dialect {
            Dialect::Sqlite => parts.join(";\n"),
            Dialect::Postgres => {
                let clauses: Vec<String> = first
                    .iter()
                    .enumerate()
                    .map(|(i, part)| format!("s{i} AS ({part})"))
                    .collect();
                format!("WITH {} {last}", clauses.join(", "))
            }
        };
        self.starts.clear();
        self
    }

    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn next(&mut self, bind: Bind) -> usize {
        self.binds.push(bind);
        self.binds.len()
    }

    pub(crate) fn text(&mut self, value: impl Into<String>) -> &mut Self {
        let n = self.next(Bind::Text(value.into()));
        let _ = write!(self.sql, "${n}");
        self
    }

    pub(crate) fn opt_text(&mut self, value: Option<String>) -> &mut Self {
        let n = self.next(Bind::OptText(value));
        let _ = write!(self.sql, "${n}");
        self
    }

    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        let n = self.next(Bind::Int(value));
        let _ = write!(self.sql, "${n}");
        self
    }

    pub(crate) fn uuid(&mut self, value: Uuid) -> &mut Self {
        let n = self.next(Bind::Text(value.to_string()));
        let placeholder = self.dialect.uuid_in(n);
        self.sql.push_str(&placeholder);
        self
    }

    pub(crate) fn time(&mut self, value: String) -> &mut Self {
        let n = self.next(Bind::Text(value));
        let placeholder = self.dialect.time_in(n);
        self.sql.push_str(&placeholder);
        self
    }

    /// `column` is one of `ids`: one bind and one statement text whatever their number.
    pub(crate) fn in_uuids(&mut self, column: &str, ids: &[Uuid]) -> &mut Self {
        self.in_list(column, ids.iter().map(Uuid::to_string).collect(), Col::Uuid)
    }

    /// `column` is one of `texts`, as [`Builder::in_uuids`].
    pub(crate) fn in_texts(&mut self, column: &str, texts: &[&String]) -> &mut Self {
        self.in_list(
            column,
            texts.iter().map(|t| t.to_string()).collect(),
            Col::Text,
        )
    }

    fn in_list(&mut self, column: &str, values: Vec<String>, cast: Col) -> &mut Self {
        let n = self.next(match self.dialect {
            Dialect::Sqlite => {
                Bind::Text(serde_json::to_string(&values).expect("strings serialise"))
            }
            Dialect::Postgres => Bind::Texts(values.into_iter().map(Some).collect()),
        });
        let test = self.dialect.in_list(column, n, cast);
        self.sql.push_str(&test);
        self
    }

    /// `column IN (<subquery>)`, the subquery written by `subquery`. PostgreSQL gets
    /// `= ANY(ARRAY(<subquery>))`: evaluated once, then looked up by index. Given
    /// `IN (<subquery>) … ORDER BY id LIMIT n` it may instead walk an index in `id` order testing
    /// every row against the subquery, which grows with the table.
    pub(crate) fn in_subquery(
        &mut self,
        column: &str,
        subquery: impl FnOnce(&mut Self),
    ) -> &mut Self {
        let (open, close) = match self.dialect {
            Dialect::Sqlite => (" IN (", ")"),
            Dialect::Postgres => (" = ANY(ARRAY(", "))"),
        };
        self.push(column).push(open);
        subquery(self);
        self.push(close)
    }

    /// After the rows of an `INSERT … SELECT`: insert them only if the head guard (the first
    /// statement of a write, see `write_plan`) moved the head. On SQLite, which runs the
    /// statements one after another under its write lock, the guard cannot fail.
    pub(crate) fn if_guard_passed(&mut self) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self,
            Dialect::Postgres => self.push(" CROSS JOIN s0"),
        }
    }

    /// As [`Builder::if_guard_passed`], for a `WHERE` clause.
    pub(crate) fn and_guard_passed(&mut self) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self,
            Dialect::Postgres => self.push(" AND EXISTS (SELECT 1 FROM s0)"),
        }
    }

    /// `rows` as a table with `columns`, for `INSERT INTO t (…) <rows>` or `(a, b) IN (<rows>)`.
    /// SQLite gets `VALUES (…), (…)`. PostgreSQL gets one text array per column, unnested:
    /// the statement's text is then the same for any number of rows, so each connection parses
    /// it once (sqlx prepares every new text in a round trip of its own, and with a hundred
    /// texts cached it closes one in another).
    pub(crate) fn rows(&mut self, columns: &[Col], rows: Vec<Vec<Cell>>) -> &mut Self {
        debug_assert!(rows.iter().all(|row| row.len() == columns.len()));
        match self.dialect {
            Dialect::Sqlite if rows.is_empty() => {
                let nulls = vec!["NULL"; columns.len()].join(", ");
                self.push(&format!("SELECT {nulls} WHERE 0"));
            }
            Dialect::Sqlite => {
                for (i, row) in rows.into_iter().enumerate() {
                    self.push(if i == 0 { "VALUES (" } else { ", (" });
                    for (j, cell) in row.into_iter().enumerate() {
                        let n = self.next(match cell {
                            Cell::Text(text) => Bind::OptText(text),
                            Cell::Int(n) => Bind::Int(n),
                            Cell::Bool(b) => Bind::Int(i64::from(b)),
                        });
                        let _ = write!(self.sql, "{}${n}", if j == 0 { "" } else { ", " });
                    }
                    self.push(")");
                }
            }
            Dialect::Postgres => {
                let mut arrays = vec![Vec::with_capacity(rows.len()); columns.len()];
                for row in rows {
                    for (array, cell) in arrays.iter_mut().zip(row) {
                        array.push(cell.into_text());
                    }
                }
                let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
                let selected: Vec<String> = names
                    .iter()
                    .zip(columns)
                    .map(|(name, col)| format!("r.{name}{}", self.dialect.cast(*col)))
                    .collect();
                let unnested: Vec<String> = arrays
                    .into_iter()
                    .map(|array| format!("${}::text[]", self.next(Bind::Texts(array))))
                    .collect();
                let _ = write!(
                    self.sql,
                    "SELECT {} FROM UNNEST({}) AS r({})",
                    selected.join(", "),
                    unnested.join(", "),
                    names.join(", ")
                );
            }
        }
        self
    }

    pub(crate) fn contains(&mut self, needle: &str) -> &mut Self {
        let n = self.next(Bind::Text(needle.to_lowercase()));
        let clause = self.dialect.contains(n);
        self.sql.push_str(&clause);
        self
    }

    /// `AND (<who may see the row>)`.
    pub(crate) fn visible_to(&mut self, visibility: &Visibility) -> &mut Self {
        let public = kind_list(&PUBLIC_KINDS);
        match visibility {
            Visibility::All => self,
            Visibility::PublicOnly => self.push(&format!(" AND kind IN ({public})")),
            Visibility::Area(area) => self.within_areas(std::slice::from_ref(area), &public),
            Visibility::Areas(areas) => self.within_areas(areas, &public),
            Visibility::Citizen(scope) => {
                self.push(&format!(" AND (kind IN ({public}) OR creator = "))
                    .text(scope.actor.clone());
                if let Some(me) = scope.me {
                    self.push(" OR owner_id = ").uuid(me);
                }
                if !scope.groups.is_empty() {
                    self.push(" OR ").in_uuids("group_id", &scope.groups);
                }
                if !scope.members.is_empty() {
                    let household = kind_list(&HOUSEHOLD_KINDS);
                    self.push(&format!(" OR (kind IN ({household}) AND "))
                        .in_uuids("owner_id", &scope.members)
                        .push(")");
                }
                self.push(")")
            }
        }
    }
}

impl Builder {
    /// `AND (<a public kind> OR <filed under one of areas or below>)`; no areas: public only.
    fn within_areas(&mut self, areas: &[String], public: &str) -> &mut Self {
        self.push(&format!(" AND (kind IN ({public})"));
        for area in areas {
            self.push(" OR area = ")
                .text(area.clone())
                .push(" OR substr(area, 1, length(")
                .text(format!("{area}."))
                .push(")) = ")
                .text(format!("{area}."));
        }
        self.push(")")
    }
}

fn kind_list(kinds: &[RecordKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of a record row, in the order [`shared_store_impl!`]'s decoder reads them.
pub(crate) fn record_columns(d: Dialect) -> String {
    format!(
        "{}, kind, rev, last_seq, {}, {}, area, {}, creator, search_text, deleted, {}",
        d.uuid_out("id"),
        d.uuid_out("owner_id"),
        d.uuid_out("group_id"),
        d.uuid_out("parent_id"),
        d.json_out("body"),
    )
}

/// Columns of a change-log row for the audit trail.
pub(crate) fn audit_columns(d: Dialect) -> String {
    format!(
        "seq, {}, rev, op, actor, on_behalf_of, before_sha256, after_sha256, request_id, merged",
        d.time_out("at")
    )
}

/// SHA-256 of a record body, as the audit trail records it. serde_json sorts object keys, so
/// the same record always hashes the same.
pub(crate) fn body_hash(body: &serde_json::Value) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body.to_string().as_bytes()))
}

/// RFC 3339 UTC with microseconds: sorts as text, parses in both databases.
pub(crate) fn timestamp(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// The [`Store`](super::Store) implementation for `$type`: the reads every store and batch
/// answer the same way, through `self.conn()` (and `self.record`, `self.response`, which a batch
/// answers from what it knows), then the methods given (`$($own)*`).
macro_rules! store_trait_impl {
    ($type:ty, $kind:expr, $($own:tt)*) => {
        #[async_trait::async_trait]
        impl $crate::storage::Store for $type {
                fn kind(&self) -> doorstep_domain::wire::StorageKind {
                    $kind
                }

                async fn schema_version(&self) -> Result<i64, $crate::storage::StorageError> {
                    applied_version(&self.pool).await
                }

                async fn ping(&self) -> Result<(), $crate::storage::StorageError> {
                    sqlx::query("SELECT 1").execute(&mut *self.conn().await?).await?;
                    Ok(())
                }

                async fn get(
                    &self,
                    id: uuid::Uuid,
                ) -> Result<Option<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                    self.record(id).await
                }

                async fn holds_key(
                    &self,
                    id: uuid::Uuid,
                    key: &str,
                ) -> Result<bool, $crate::storage::StorageError> {
                    shared::holds_key(&mut *self.conn().await?, id, key).await
                }

                async fn list(
                    &self,
                    query: &$crate::storage::ListQuery,
                ) -> Result<Vec<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                    shared::list(&mut *self.conn().await?, query).await
                }

                async fn owners_by_keys(
                    &self,
                    lookups: &[$crate::storage::KeyLookup],
                ) -> Result<Vec<(String, uuid::Uuid)>, $crate::storage::StorageError> {
                    shared::owners_by_keys(&mut *self.conn().await?, lookups).await
                }

                async fn get_many(
                    &self,
                    ids: &[uuid::Uuid],
                ) -> Result<Vec<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                    shared::get_many(&mut *self.conn().await?, ids).await
                }

                async fn review_queue(
                    &self,
                    query: &$crate::storage::QueueQuery,
                ) -> Result<Vec<($crate::storage::StoredRecord, time::OffsetDateTime)>, $crate::storage::StorageError> {
                    shared::review_queue(&mut *self.conn().await?, query).await
                }

                async fn pending_documents(
                    &self,
                    owners: &[uuid::Uuid],
                ) -> Result<Vec<(uuid::Uuid, u32)>, $crate::storage::StorageError> {
                    shared::pending_documents(&mut *self.conn().await?, owners).await
                }

                async fn latest_form_version(
                    &self,
                    programme: uuid::Uuid,
                ) -> Result<Option<u32>, $crate::storage::StorageError> {
                    shared::latest_form_version(&mut *self.conn().await?, programme).await
                }

                async fn applicants(
                    &self,
                    query: &$crate::storage::ApplicantQuery,
                ) -> Result<Vec<uuid::Uuid>, $crate::storage::StorageError> {
                    shared::applicants(&mut *self.conn().await?, query).await
                }

                async fn duplicate_flags(
                    &self,
                    after: Option<(uuid::Uuid, uuid::Uuid)>,
                    limit: u32,
                ) -> Result<Vec<$crate::storage::StoredFlag>, $crate::storage::StorageError> {
                    shared::duplicate_flags(&mut *self.conn().await?, after, limit).await
                }

                async fn changes_since(
                    &self,
                    after_seq: u64,
                    limit: u32,
                    visibility: &$crate::storage::Visibility,
                ) -> Result<Vec<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                    shared::changes_since(&mut *self.conn().await?, after_seq, limit, visibility).await
                }

                async fn head_seq(&self) -> Result<u64, $crate::storage::StorageError> {
                    shared::head_seq(&mut *self.conn().await?).await
                }

                async fn idempotent_response(
                    &self,
                    scope: &str,
                    key: &str,
                ) -> Result<Option<$crate::storage::StoredResponse>, $crate::storage::StorageError> {
                    self.response(scope, key).await
                }

                async fn outbox_claim(
                    &self,
                    worker: &str,
                    now: time::OffsetDateTime,
                    lease_until: time::OffsetDateTime,
                    limit: u32,
                ) -> Result<Vec<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                    shared::outbox_claim(&mut *self.conn().await?, worker, now, lease_until, limit).await
                }

                async fn outbox_settle(
                    &self,
                    id: uuid::Uuid,
                    worker: &str,
                    outcome: &$crate::storage::Settle,
                    now: time::OffsetDateTime,
                ) -> Result<bool, $crate::storage::StorageError> {
                    shared::outbox_settle(&mut *self.conn().await?, id, worker, outcome, now).await
                }

                async fn outbox_list(
                    &self,
                    query: &$crate::storage::OutboxQuery,
                ) -> Result<Vec<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                    shared::outbox_list(&mut *self.conn().await?, query).await
                }

                async fn job_take(
                    &self,
                    name: &str,
                    holder: &str,
                    now: time::OffsetDateTime,
                    lease_until: time::OffsetDateTime,
                ) -> Result<bool, $crate::storage::StorageError> {
                    shared::job_take(&mut *self.conn().await?, name, holder, now, lease_until).await
                }

                async fn job_done(
                    &self,
                    name: &str,
                    holder: &str,
                    next_run_at: time::OffsetDateTime,
                ) -> Result<(), $crate::storage::StorageError> {
                    shared::job_done(&mut *self.conn().await?, name, holder, next_run_at).await
                }

                async fn challenge_create(
                    &self,
                    challenge: &$crate::storage::LivenessChallengeRow,
                ) -> Result<(), $crate::storage::StorageError> {
                    shared::challenge_create(&mut *self.conn().await?, challenge).await
                }

                async fn challenge(
                    &self,
                    id: uuid::Uuid,
                ) -> Result<Option<$crate::storage::LivenessChallengeRow>, $crate::storage::StorageError> {
                    shared::challenge(&mut *self.conn().await?, id).await
                }

                async fn challenge_use(
                    &self,
                    id: uuid::Uuid,
                    at: time::OffsetDateTime,
                ) -> Result<bool, $crate::storage::StorageError> {
                    shared::challenge_use(&mut *self.conn().await?, id, at).await
                }

                async fn liveness_due(
                    &self,
                    until: time::Date,
                    after: Option<(time::Date, uuid::Uuid)>,
                    limit: u32,
                ) -> Result<Vec<$crate::storage::LivenessDue>, $crate::storage::StorageError> {
                    shared::liveness_due(&mut *self.conn().await?, until, after, limit).await
                }

                async fn never_checked(
                    &self,
                    registered_before: time::OffsetDateTime,
                    after: Option<(time::OffsetDateTime, uuid::Uuid)>,
                    limit: u32,
                ) -> Result<Vec<$crate::storage::NeverChecked>, $crate::storage::StorageError> {
                    shared::never_checked(&mut *self.conn().await?, registered_before, after, limit).await
                }

                async fn drafts_closing(
                    &self,
                    from: time::Date,
                    until: time::Date,
                    after: Option<uuid::Uuid>,
                    limit: u32,
                ) -> Result<Vec<$crate::storage::DraftClosing>, $crate::storage::StorageError> {
                    shared::drafts_closing(&mut *self.conn().await?, from, until, after, limit).await
                }

                async fn linked_individual(
                    &self,
                    principal: &str,
                ) -> Result<Option<uuid::Uuid>, $crate::storage::StorageError> {
                    shared::linked_individual(&mut *self.conn().await?, principal).await
                }

                async fn household_of(
                    &self,
                    individual: uuid::Uuid,
                ) -> Result<(Vec<uuid::Uuid>, Vec<uuid::Uuid>), $crate::storage::StorageError> {
                    shared::household_of(&mut *self.conn().await?, individual).await
                }

                async fn revocation_of(
                    &self,
                    targets: &[String],
                ) -> Result<Option<doorstep_domain::api::Revocation>, $crate::storage::StorageError> {
                    shared::revocation_of(&mut *self.conn().await?, targets).await
                }

                async fn revocations(
                    &self,
                    limit: u32,
                ) -> Result<Vec<doorstep_domain::api::Revocation>, $crate::storage::StorageError> {
                    shared::revocations(&mut *self.conn().await?, limit).await
                }

                async fn staff_live(
                    &self,
                    issuer: &str,
                    subject: &str,
                    email: Option<&str>,
                ) -> Result<Option<doorstep_domain::api::StaffEntry>, $crate::storage::StorageError> {
                    shared::staff_live(&mut *self.conn().await?, issuer, subject, email).await
                }

                async fn staff_entry(
                    &self,
                    id: uuid::Uuid,
                ) -> Result<Option<doorstep_domain::api::StaffEntry>, $crate::storage::StorageError> {
                    shared::staff_entry(&mut *self.conn().await?, id).await
                }

                async fn staff_list(
                    &self,
                    after: Option<uuid::Uuid>,
                    limit: u32,
                    include_revoked: bool,
                ) -> Result<Vec<doorstep_domain::api::StaffEntry>, $crate::storage::StorageError> {
                    shared::staff_list(&mut *self.conn().await?, after, limit, include_revoked).await
                }

                async fn audit_trail(
                    &self,
                    record: uuid::Uuid,
                ) -> Result<Vec<$crate::storage::AuditEntry>, $crate::storage::StorageError> {
                    shared::audit_trail(&mut *self.conn().await?, record).await
                }

                async fn areas(
                    &self,
                    within: Option<&str>,
                    limit: usize,
                ) -> Result<Vec<doorstep_domain::gazetteer::Area>, $crate::storage::StorageError> {
                    shared::areas(&mut *self.conn().await?, within, limit).await
                }

                async fn areas_named(
                    &self,
                    codes: &[String],
                ) -> Result<(Vec<doorstep_domain::gazetteer::Area>, bool), $crate::storage::StorageError> {
                    shared::areas_named(&mut *self.conn().await?, codes).await
                }

            $($own)*
        }
    };
}
pub(crate) use store_trait_impl;

/// Expands the store's query code and its [`Store`](super::Store) implementation for one
/// database: `$store` is the store struct (with `pool` and `store_id: OnceCell<String>` fields and an
/// `async fn write_turn(&self) -> OwnedMutexGuard<()>` every writer awaits first), `$db` the sqlx database type,
/// `$dialect` the matching [`Dialect`], `$kind` its [`StorageKind`](doorstep_domain::wire::StorageKind).
/// The invoking module provides `async fn applied_version(&Pool) -> Result<i64, StorageError>`.
macro_rules! shared_store_impl {
    ($store:ident, $db:ty, $dialect:expr, $kind:expr) => {
        impl $store {
            async fn conn(
                &self,
            ) -> Result<sqlx::pool::PoolConnection<$db>, $crate::storage::StorageError> {
                Ok(self.pool.acquire().await?)
            }

            async fn record(&self, id: uuid::Uuid) -> Result<Option<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                shared::get(&mut *self.conn().await?, id).await
            }

            async fn response(&self, scope: &str, key: &str) -> Result<Option<$crate::storage::StoredResponse>, $crate::storage::StorageError> {
                shared::idempotent_response(&mut *self.conn().await?, scope, key).await
            }
        }

        $crate::storage::sql::store_trait_impl! { $store, $kind,

            async fn commit(
                &self,
                writes: Vec<$crate::storage::Write>,
                ctx: &$crate::storage::WriteContext,
            ) -> Result<Vec<$crate::storage::StoredRecord>, $crate::storage::CommitError> {
                // Group commit: see `storage/group.rs`.
                let mut outcome = self.queue.push(writes, ctx.clone());
                // Whoever holds the turn may commit this job with theirs: then there is no need
                // to wait for a turn at all (waiting would only make the next turn's group smaller).
                let turn = tokio::select! {
                    biased;
                    done = &mut outcome => {
                        return done.unwrap_or_else(|_| $crate::storage::group::interrupted());
                    }
                    turn = self.write_turn() => turn,
                };
                let jobs = self.queue.take();
                if !jobs.is_empty() {
                    let queue = self.queue.clone();
                    // Not awaited: this writer's answer comes through `outcome` (a panic in the
                    // task drops it: answered as interrupted), while the task may go on with
                    // other writers' groups.
                    drop(self.spawn_commits(|pool| async move {
                        let mut jobs = jobs;
                        for round in 1.. {
                            for chunk in $crate::storage::sql::chunks(jobs, $crate::storage::group::MAX_GROUP) {
                                shared::commit_group(&pool, chunk).await;
                            }
                            if round == $crate::storage::group::ROUNDS_PER_TURN {
                                break;
                            }
                            jobs = queue.take();
                            if jobs.is_empty() {
                                break;
                            }
                        }
                        drop(turn);
                    }));
                }
                outcome.await.unwrap_or_else(|_| $crate::storage::group::interrupted())
            }

            async fn begin_batch(
                &self,
            ) -> Result<std::sync::Arc<dyn $crate::storage::Batch>, $crate::storage::StorageError> {
                let turn = self.write_turn().await;
                let tx = self.pool.begin_with($dialect.begin_writing()).await?;
                let feed = $crate::storage::sql::Feed::default();
                let state = BatchState { tx, feed, known: Default::default() };
                Ok(std::sync::Arc::new(Batch {
                    pool: self.pool.clone(),
                    open: tokio::sync::Mutex::new(Some(state)),
                    poisoned: std::sync::atomic::AtomicBool::new(false),
                    _turn: turn,
                }))
            }

            async fn link_citizen(
                &self,
                principal: &str,
                individual: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<Option<uuid::Uuid>, $crate::storage::StorageError> {
                let _turn = self.write_turn().await;
                let mut conn = self.pool.acquire().await?;
                shared::link_citizen(&mut conn, principal, individual, at).await
            }

            async fn revoke(
                &self,
                revocation: &doorstep_domain::api::Revocation,
            ) -> Result<(), $crate::storage::StorageError> {
                let _turn = self.write_turn().await;
                let mut conn = self.pool.acquire().await?;
                shared::revoke(&mut conn, revocation).await
            }

            async fn staff_write(
                &self,
                write: $crate::storage::StaffWrite,
            ) -> Result<Result<doorstep_domain::api::StaffEntry, $crate::storage::StaffRefusal>, $crate::storage::StorageError> {
                // The feed's lock (see the module docs) also serialises directory changes across
                // servers, so two admins demoting each other cannot both pass the last-admin check.
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($dialect.begin_writing()).await?;
                let outcome = shared::staff_write(&mut *tx, write).await?;
                if outcome.is_ok() {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn replace_areas(
                &self,
                areas: &[doorstep_domain::gazetteer::Area],
                load: &$crate::storage::AreaLoad,
            ) -> Result<(), $crate::storage::StorageError> {
                let _turn = self.write_turn().await;
                let mut tx = self.pool.begin_with($dialect.begin_writing()).await?;
                shared::replace_areas(&mut tx, areas, load).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn store_id(&self) -> Result<String, $crate::storage::StorageError> {
                let id = self
                    .store_id
                    .get_or_try_init(|| async {
                        let _turn = self.write_turn().await;
                        shared::store_id(&mut *self.pool.acquire().await?).await
                    })
                    .await?;
                Ok(id.clone())
            }

            async fn close(&self) {
                self.close_pools().await;
            }
        }

        /// Writes applied in one transaction that holds the writer lock from its start, and
        /// reads that see them (see [`Store::begin_batch`](crate::storage::Store::begin_batch)).
        pub struct Batch {
            /// For the schema version only.
            pool: sqlx::Pool<$db>,
            /// The transaction, the feed's head and what the batch knows; `None` once finished.
            open: tokio::sync::Mutex<Option<BatchState>>,
            /// Set when a write failed half-way: the batch may then only be dropped (rolled back).
            poisoned: std::sync::atomic::AtomicBool,
            /// This process's writer turn, held until the batch ends.
            _turn: tokio::sync::OwnedMutexGuard<()>,
        }

        struct BatchState {
            tx: sqlx::Transaction<'static, $db>,
            feed: $crate::storage::sql::Feed,
            /// Records and responses read or written so far (nobody else writes meanwhile).
            known: $crate::storage::plan::Known,
        }

        impl Batch {
            async fn state(
                &self,
            ) -> Result<tokio::sync::MappedMutexGuard<'_, BatchState>, $crate::storage::StorageError> {
                let open = self.open.lock().await;
                if open.is_none() {
                    return Err($crate::storage::StorageError::BatchEnded);
                }
                Ok(tokio::sync::MutexGuard::map(open, |open| open.as_mut().expect("checked above")))
            }

            async fn conn(
                &self,
            ) -> Result<tokio::sync::MappedMutexGuard<'_, <$db as sqlx::Database>::Connection>, $crate::storage::StorageError> {
                Ok(tokio::sync::MappedMutexGuard::map(self.state().await?, |state| &mut *state.tx))
            }

            async fn record(&self, id: uuid::Uuid) -> Result<Option<$crate::storage::StoredRecord>, $crate::storage::StorageError> {
                let mut state = self.state().await?;
                if let Some(known) = state.known.records.get(&id) {
                    return Ok(known.clone());
                }
                let record = shared::get(&mut state.tx, id).await?;
                state.known.records.insert(id, record.clone());
                Ok(record)
            }

            async fn response(&self, scope: &str, key: &str) -> Result<Option<$crate::storage::StoredResponse>, $crate::storage::StorageError> {
                let mut state = self.state().await?;
                let scoped = (scope.to_owned(), key.to_owned());
                if let Some(known) = state.known.responses.get(&scoped) {
                    return Ok(known.clone());
                }
                let response = shared::idempotent_response(&mut state.tx, scope, key).await?;
                state.known.responses.insert(scoped, response.clone());
                Ok(response)
            }
        }

        $crate::storage::sql::store_trait_impl! { Batch, $kind,

            async fn commit(
                &self,
                writes: Vec<$crate::storage::Write>,
                ctx: &$crate::storage::WriteContext,
            ) -> Result<Vec<$crate::storage::StoredRecord>, $crate::storage::CommitError> {
                let mut state = self.state().await?;
                let BatchState { tx, feed, known } = &mut *state;
                // A refused write wrote nothing (every check comes before any write); a
                // database error may have left half of one, so the batch can then only roll back.
                let result = match shared::locked_commit_jobs(tx, vec![(writes, ctx)], feed, known).await {
                    Ok(mut outcomes) => outcomes.pop().expect("one job, one outcome"),
                    Err(e) => Err(e.into()),
                };
                if let Err($crate::storage::CommitError::Storage(_)) = &result {
                    self.poisoned.store(true, std::sync::atomic::Ordering::Release);
                }
                result
            }

            async fn begin_batch(
                &self,
            ) -> Result<std::sync::Arc<dyn $crate::storage::Batch>, $crate::storage::StorageError> {
                Err($crate::storage::StorageError::BatchEnded)
            }

            async fn link_citizen(
                &self,
                principal: &str,
                individual: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<Option<uuid::Uuid>, $crate::storage::StorageError> {
                shared::link_citizen(&mut *self.conn().await?, principal, individual, at).await
            }

            async fn revoke(
                &self,
                revocation: &doorstep_domain::api::Revocation,
            ) -> Result<(), $crate::storage::StorageError> {
                shared::revoke(&mut *self.conn().await?, revocation).await
            }

            async fn staff_write(
                &self,
                write: $crate::storage::StaffWrite,
            ) -> Result<Result<doorstep_domain::api::StaffEntry, $crate::storage::StaffRefusal>, $crate::storage::StorageError> {
                // The batch's transaction already holds the write lock.
                shared::staff_write(&mut *self.conn().await?, write).await
            }

            async fn replace_areas(
                &self,
                areas: &[doorstep_domain::gazetteer::Area],
                load: &$crate::storage::AreaLoad,
            ) -> Result<(), $crate::storage::StorageError> {
                // Already inside the batch's transaction.
                shared::replace_areas(&mut *self.conn().await?, areas, load).await
            }

            async fn store_id(&self) -> Result<String, $crate::storage::StorageError> {
                shared::store_id(&mut *self.conn().await?).await
            }

            async fn close(&self) {}
        }

        #[async_trait::async_trait]
        impl $crate::storage::Batch for Batch {
            async fn finish(&self) -> Result<(), $crate::storage::StorageError> {
                if self.poisoned.load(std::sync::atomic::Ordering::Acquire) {
                    return Err($crate::storage::StorageError::BatchEnded);
                }
                let state = self.open.lock().await.take().ok_or($crate::storage::StorageError::BatchEnded)?;
                state.tx.commit().await?;
                Ok(())
            }
        }

        mod shared {
        use std::str::FromStr as _;

        use sqlx::Row as _;
        use uuid::Uuid;

        use $crate::storage::model::{
            AuditEntry, CommitError, ListQuery, RecordIndex, StoredRecord,
            StoredResponse, Visibility, Write, WriteContext,
        };
        use $crate::storage::sql::{
            audit_columns, body_hash, record_columns, timestamp, Bind, Builder,
        };
        use $crate::storage::StorageError;

        const DIALECT: $crate::storage::sql::Dialect = $dialect;

        type Conn = <$db as sqlx::Database>::Connection;

        fn query(b: &Builder) -> sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments<'_>> {
            let mut q = sqlx::query::<$db>(&b.sql);
            for bind in &b.binds {
                q = match bind {
                    Bind::Text(v) => q.bind(v.as_str()),
                    Bind::OptText(v) => q.bind(v.as_deref()),
                    Bind::Int(v) => q.bind(*v),
                    Bind::Texts(v) => <$db as $crate::storage::sql::BindTexts>::bind_texts(q, v),
                };
            }
            q
        }

        fn parse_uuid(text: Option<String>) -> Result<Option<Uuid>, StorageError> {
            text.map(|t| {
                Uuid::parse_str(&t).map_err(|e| {
                    StorageError::Corrupt(format!("record id {t:?} is not a UUID: {e}"))
                })
            })
            .transpose()
        }

        fn decode_record(row: &<$db as sqlx::Database>::Row) -> Result<StoredRecord, StorageError> {
            let id: String = row.try_get(0)?;
            let kind: String = row.try_get(1)?;
            let kind = doorstep_domain::RecordKind::from_str(&kind)
                .map_err(|_| StorageError::Corrupt(format!("unknown record kind {kind:?}")))?;
            let body: String = row.try_get(11)?;
            Ok(StoredRecord {
                kind,
                id: parse_uuid(Some(id))?.expect("some in, some out"),
                rev: row.try_get::<i64, _>(2)? as u64,
                seq: row.try_get::<i64, _>(3)? as u64,
                index: RecordIndex {
                    owner_id: parse_uuid(row.try_get(4)?)?,
                    group_id: parse_uuid(row.try_get(5)?)?,
                    area: row.try_get(6)?,
                    parent_id: parse_uuid(row.try_get(7)?)?,
                    creator: row.try_get(8)?,
                    search_text: row.try_get(9)?,
                    // Written with every write, never read back (as keys).
                    keys: Vec::new(),
                    state: None,
                    state_since: None,
                },
                deleted: row.try_get(10)?,
                body: serde_json::from_str(&body)
                    .map_err(|e| StorageError::Corrupt(format!("record {} body: {e}", kind)))?,
            })
        }

        async fn fetch_record(conn: &mut Conn, id: Uuid) -> Result<Option<StoredRecord>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM records WHERE id = ", record_columns(DIALECT)));
            b.uuid(id);
            let row = query(&b).fetch_optional(&mut *conn).await?;
            row.as_ref().map(decode_record).transpose()
        }

        async fn fetch_response(conn: &mut Conn, scope: &str, key: &str) -> Result<Option<StoredResponse>, StorageError> {
            let mut b = Builder::new(DIALECT, "SELECT fingerprint, status, response FROM idempotency_keys WHERE scope = ");
            b.text(scope).push(" AND key = ").text(key);
            let Some(row) = query(&b).fetch_optional(&mut *conn).await? else {
                return Ok(None);
            };
            let response: String = row.try_get(2)?;
            Ok(Some(StoredResponse {
                fingerprint: row.try_get(0)?,
                status: row.try_get::<i32, _>(1)? as u16,
                body: serde_json::from_str(&response)
                    .map_err(|e| StorageError::Corrupt(format!("stored response: {e}")))?,
            }))
        }

        /// See [`Store::commit`](crate::storage::Store::commit): one job.
        pub(super) async fn commit(
            conn: &mut Conn,
            writes: Vec<Write>,
            ctx: &WriteContext,
            feed: &mut $crate::storage::sql::Feed,
        ) -> Result<Vec<StoredRecord>, CommitError> {
            locked_commit_jobs(conn, vec![(writes, ctx)], feed, &mut Default::default()).await?.pop().expect("one job, one outcome")
        }

        /// Check and write a group of jobs in `conn`, a transaction begun with
        /// [`Dialect::begin_writing`](crate::storage::sql::Dialect::begin_writing): read what the
        /// checks need and the feed's head, decide every job (`plan.rs`), write what passed.
        /// Round trips: one read (two with idempotency claims) and one write per group.
        pub(super) async fn locked_commit_jobs(
            conn: &mut Conn,
            jobs: Vec<(Vec<Write>, &WriteContext)>,
            feed: &mut $crate::storage::sql::Feed,
            known: &mut $crate::storage::plan::Known,
        ) -> Result<Vec<Result<Vec<StoredRecord>, CommitError>>, StorageError> {
            commit_jobs(conn, jobs, feed, known, false).await?.map_err(|_| {
                StorageError::Corrupt("the change feed's head moved while its lock was held".into())
            })
        }

        /// [`locked_commit_jobs`] outside a transaction when `alone`: then the group is written
        /// by one statement that applies only if the feed's head is still what was read, and
        /// [`NotWritten`](crate::storage::sql::NotWritten) says why it was not: try again, or under
        /// the lock.
        pub(super) async fn commit_jobs(
            conn: &mut Conn,
            jobs: Vec<(Vec<Write>, &WriteContext)>,
            feed: &mut $crate::storage::sql::Feed,
            known: &mut $crate::storage::plan::Known,
            alone: bool,
        ) -> Result<Result<Vec<Result<Vec<StoredRecord>, CommitError>>, $crate::storage::sql::NotWritten>, StorageError> {
            // Read under the lock (or checked by the write's guard), so two retries of one
            // request cannot both get through.
            let (before, head) = read_before(conn, &jobs, known, feed.head).await?;
            let contexts: Vec<&WriteContext> = jobs.iter().map(|(_, ctx)| *ctx).collect();
            let plan = $crate::storage::plan::plan(jobs, before, head.seq);
            let head = match write_plan(conn, &plan, &contexts, head, alone).await? {
                Ok(head) => head,
                Err(not_written) => return Ok(Err(not_written)),
            };
            known.learn(&plan);
            // Known from here on while the lock is held (a batch's next write starts from it).
            feed.head = Some(head);
            Ok(Ok(plan.outcomes))
        }

        /// The stored records the jobs write, the holders of the unique keys they claim, the
        /// responses stored under their idempotency keys, and the feed's head unless `head` is
        /// known already.
        async fn read_before(
            conn: &mut Conn,
            jobs: &[(Vec<Write>, &WriteContext)],
            known: &mut $crate::storage::plan::Known,
            head: Option<$crate::storage::sql::Head>,
        ) -> Result<($crate::storage::plan::Before, $crate::storage::sql::Head), StorageError> {
            use $crate::storage::sql::Col;
            let mut before = $crate::storage::plan::Before::default();
            let mut ids: Vec<Uuid> = jobs.iter().flat_map(|(writes, _)| writes.iter().map(|w| w.id)).collect();
            ids.sort_unstable();
            ids.dedup();
            // What the batch knows already is not asked again.
            ids.retain(|id| match known.records.get(id) {
                Some(record) => {
                    before.records.extend(record.clone().map(|r| (r.id, r)));
                    false
                }
                None => true,
            });
            let mut keys: Vec<&String> = jobs.iter().flat_map(|(writes, _)| writes.iter().flat_map($crate::storage::plan::unique_keys)).collect();
            keys.sort_unstable();
            keys.dedup();
            // Records, key holders and the feed's head in one query: each kind of row leaves
            // the other kinds' columns null.
            let mut b = Builder::new(DIALECT, format!("SELECT {}, NULL, NULL, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) FROM records WHERE ", record_columns(DIALECT)));
            b.in_uuids("id", &ids);
            let nulls = "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL";
            if !keys.is_empty() {
                b.push(&format!(" UNION ALL SELECT {nulls}, key, {}, NULL, NULL FROM record_keys WHERE ", DIALECT.uuid_out("record_id")));
                b.in_texts("key", &keys);
            }
            if head.is_none() {
                b.push(&format!(" UNION ALL SELECT {nulls}, NULL, NULL, seq, writes FROM feed_head"));
            }
            let asking = !ids.is_empty() || !keys.is_empty() || head.is_none();
            for key in keys {
                before.holders.insert(key.clone(), Vec::new());
            }
            let rows = if asking { query(&b).fetch_all(&mut *conn).await? } else { Vec::new() };
            for id in &ids {
                known.records.insert(*id, None);
            }
            let mut read_head = None;
            for row in rows {
                if let Some(seq) = row.try_get::<Option<i64>, _>(14)? {
                    read_head = Some($crate::storage::sql::Head { seq, writes: row.try_get(15)? });
                } else if let Some(key) = row.try_get::<Option<String>, _>(12)? {
                    let holder = parse_uuid(row.try_get(13)?)?.expect("a key row names its record");
                    before.holders.entry(key).or_default().push(holder);
                } else {
                    let record = decode_record(&row)?;
                    known.records.insert(record.id, Some(record.clone()));
                    before.records.insert(record.id, record);
                }
            }
            let head = head.or(read_head).ok_or_else(|| StorageError::Corrupt("the feed's head was not read".into()))?;
            let mut claims: Vec<&$crate::storage::IdempotencyClaim> = jobs.iter().filter_map(|(_, ctx)| ctx.idempotency.as_ref()).collect();
            claims.retain(|claim| match known.responses.get(&(claim.scope.clone(), claim.key.clone())) {
                Some(response) => {
                    before.responses.extend(response.clone().map(|r| ((claim.scope.clone(), claim.key.clone()), r)));
                    false
                }
                None => true,
            });
            for claim in &claims {
                known.responses.insert((claim.scope.clone(), claim.key.clone()), None);
            }
            if !claims.is_empty() {
                let mut b = Builder::new(DIALECT, "SELECT scope, key, fingerprint, status, response FROM idempotency_keys WHERE (scope, key) IN (");
                b.rows(&[Col::Text, Col::Text], claims.iter().map(|claim| vec![claim.scope.as_str().into(), claim.key.as_str().into()]).collect());
                b.push(")");
                for row in query(&b).fetch_all(&mut *conn).await? {
                    let response: String = row.try_get(4)?;
                    let scoped: (String, String) = (row.try_get(0)?, row.try_get(1)?);
                    let stored = StoredResponse {
                        fingerprint: row.try_get(2)?,
                        status: row.try_get::<i32, _>(3)? as u16,
                        body: serde_json::from_str(&response)
                            .map_err(|e| StorageError::Corrupt(format!("stored response: {e}")))?,
                    };
                    known.responses.insert(scoped.clone(), Some(stored.clone()));
                    before.responses.insert(scoped, stored);
                }
            }
            Ok((before, head))
        }

        /// Write a plan's rows, keys, change-log entries and remembered responses, moving the
        /// feed's head on from `head`. One statement for each run of rows with distinct ids (one
        /// run unless a group writes a record twice; PostgreSQL cannot upsert one row twice in
        /// one statement). Each statement begins with the head guard: it moves the head only if
        /// the head is still what was read, and the rest of the statement writes only if it did.
        /// Returns the new head, or why nothing was written: the guard failed (only possible when
        /// not under the lock), or `alone` and the plan needs several statements.
        async fn write_plan(
            conn: &mut Conn,
            plan: &$crate::storage::plan::Plan,
            contexts: &[&WriteContext],
            head: $crate::storage::sql::Head,
            alone: bool,
        ) -> Result<Result<$crate::storage::sql::Head, $crate::storage::sql::NotWritten>, StorageError> {
            use $crate::storage::sql::Col::{Bool, Int, Json, Text, Time, Uuid as Id};
            use $crate::storage::sql::NotWritten;
            if plan.rows.is_empty() && plan.claims.is_empty() {
                return Ok(Ok(head));
            }
            // Starts with one run, which stays empty when the plan only stores answers.
            let mut runs: Vec<Vec<&$crate::storage::plan::Row>> = vec![Vec::new()];
            for row in &plan.rows {
                match runs.last_mut() {
                    Some(run) if run.iter().all(|r| r.record.id != row.record.id) => run.push(row),
                    _ => runs.push(vec![row]),
                }
            }
            if alone && runs.len() > 1 {
                return Ok(Err(NotWritten::NeedsLock));
            }
            let last = runs.len() - 1;
            let mut head = head;
            for (i, run) in runs.iter().enumerate() {
                let seq = run.iter().map(|row| row.record.seq as i64).max().unwrap_or(head.seq);
                let mut b = Builder::new(DIALECT, "UPDATE feed_head SET seq = ");
                b.int(seq).push(", writes = writes + 1 WHERE id = 1 AND writes = ").int(head.writes);
                if DIALECT.writes_alone() {
                    b.push(" RETURNING seq");
                }
                if !run.is_empty() {
                    b.next_statement().push("INSERT INTO records (id, kind, rev, last_seq, owner_id, group_id, area, parent_id, creator, search_text, deleted, body, created_at, updated_at, state, state_since) ");
                    b.rows(
                        &[Id, Text, Int, Int, Id, Id, Text, Id, Text, Text, Bool, Json, Time, Time, Text, Time],
                        run.iter().map(|row| {
                            let (r, at) = (&row.record, timestamp(contexts[row.job].at));
                            vec![
                                r.id.into(), r.kind.as_str().into(), (r.rev as i64).into(), (r.seq as i64).into(),
                                r.index.owner_id.into(), r.index.group_id.into(), r.index.area.clone().into(),
                                r.index.parent_id.into(), r.index.creator.clone().into(), r.index.search_text.clone().into(),
                                r.deleted.into(), r.body.to_string().into(), at.clone().into(), at.into(),
                                r.index.state.clone().into(), r.index.state_since.map(timestamp).into(),
                            ]
                        }).collect(),
                    );
                    b.if_guard_passed();
                    b.push(" ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, last_seq = excluded.last_seq, \
                            owner_id = excluded.owner_id, group_id = excluded.group_id, area = excluded.area, \
                            parent_id = excluded.parent_id, search_text = excluded.search_text, \
                            deleted = excluded.deleted, body = excluded.body, updated_at = excluded.updated_at, \
                            state = excluded.state, state_since = excluded.state_since");
                }
                // Keys a stored record no longer has (a new record has none yet); the ones it
                // keeps are left, so no two statements here touch one row.
                let existed: Vec<Uuid> = run.iter().filter(|row| row.existed).map(|row| row.record.id).collect();
                if !existed.is_empty() {
                    b.next_statement().push("DELETE FROM record_keys WHERE ").in_uuids("record_id", &existed);
                    b.push(" AND (record_id, key) NOT IN (");
                    b.rows(
                        &[Id, Text],
                        run.iter()
                            .filter(|row| row.existed)
                            .flat_map(|row| row.record.index.keys.iter().map(|key| vec![row.record.id.into(), key.as_str().into()]))
                            .collect(),
                    );
                    b.push(")").and_guard_passed();
                }
                let keyed: Vec<Vec<$crate::storage::sql::Cell>> = run.iter()
                    .flat_map(|row| row.record.index.keys.iter().map(|key| vec![key.as_str().into(), row.record.id.into()]))
                    .collect();
                if !keyed.is_empty() {
                    b.next_statement().push("INSERT INTO record_keys (key, record_id) ");
                    b.rows(&[Text, Id], keyed).if_guard_passed().push(" ON CONFLICT DO NOTHING");
                }
                if !run.is_empty() {
                    b.next_statement().push("INSERT INTO changes (seq, at, record_id, kind, rev, op, actor, on_behalf_of, before_sha256, after_sha256, request_id, merged) ");
                    b.rows(
                        &[Int, Time, Id, Text, Int, Text, Text, Text, Text, Text, Text, Bool],
                        run.iter().map(|row| {
                            let (r, ctx) = (&row.record, contexts[row.job]);
                            vec![
                                (r.seq as i64).into(), timestamp(ctx.at).into(), r.id.into(), r.kind.as_str().into(),
                                (r.rev as i64).into(), row.op.into(), ctx.actor.clone().into(),
                                ctx.on_behalf_of.clone().into(), row.before_sha256.clone().into(),
                                body_hash(&r.body).into(), ctx.request_id.clone().into(), ctx.merged.into(),
                            ]
                        }).collect(),
                    );
                    b.if_guard_passed();
                }
                // The duplicate check's findings become the record's flags: those it no longer
                // finds go, the others are written (a flag found again keeps when and for whom
                // it was first raised). Distinct rows, so neither statement sees the other's.
                let checked: Vec<(&$crate::storage::plan::Row, &Vec<doorstep_domain::duplicates::Match>)> = run.iter()
                    .filter_map(|row| row.duplicate_check.as_ref().map(|found| (*row, found)))
                    .collect();
                let flag_pairs = |rows: &[(&$crate::storage::plan::Row, &Vec<doorstep_domain::duplicates::Match>)]| -> Vec<Vec<$crate::storage::sql::Cell>> {
                    rows.iter()
                        .flat_map(|(row, found)| found.iter().map(|m| vec![row.record.id.into(), (*m.id.as_uuid()).into()]))
                        .collect()
                };
                let rechecked: Vec<_> = checked.iter().filter(|(row, _)| row.existed).copied().collect();
                if !rechecked.is_empty() {
                    let ids: Vec<Uuid> = rechecked.iter().map(|(row, _)| row.record.id).collect();
                    b.next_statement().push("DELETE FROM duplicate_flags WHERE ").in_uuids("record_id", &ids);
                    b.push(" AND (record_id, candidate_id) NOT IN (");
                    b.rows(&[Id, Id], flag_pairs(&rechecked));
                    b.push(")").and_guard_passed();
                }
                let flags: Vec<Vec<$crate::storage::sql::Cell>> = checked.iter()
                    .flat_map(|(row, found)| found.iter().map(|m| {
                        let ctx = contexts[row.job];
                        vec![
                            row.record.id.into(), (*m.id.as_uuid()).into(), i64::from(m.score).into(),
                            serde_json::to_string(&m.reasons).expect("reasons serialise").into(),
                            timestamp(ctx.at).into(), ctx.actor.clone().into(),
                        ]
                    }))
                    .collect();
                if !flags.is_empty() {
                    b.next_statement().push("INSERT INTO duplicate_flags (record_id, candidate_id, score, reasons, flagged_at, flagged_for) ");
                    b.rows(&[Id, Id, Int, Json, Time, Text], flags).if_guard_passed();
                    b.push(" ON CONFLICT (record_id, candidate_id) DO UPDATE SET score = excluded.score, reasons = excluded.reasons");
                }
                // A notification's messages beyond the app, pending from now: in this statement,
                // so they exist exactly when the notification does. Their ids derive from the
                // notification and the channel, so a second writing of one adds nothing.
                let outbound: Vec<Vec<$crate::storage::sql::Cell>> = run.iter()
                    .flat_map(|row| row.outbound.iter().map(move |m| {
                        let at = timestamp(contexts[row.job].at);
                        vec![
                            m.id.into(), row.record.id.into(), row.record.index.owner_id.into(),
                            row.record.index.area.clone().into(), m.channel.as_str().into(),
                            m.address.clone().into(), m.language.clone().into(), m.subject.clone().into(),
                            m.body.clone().into(), "pending".into(), at.clone().into(), at.clone().into(), at.into(),
                        ]
                    }))
                    .collect();
                if !outbound.is_empty() {
                    b.next_statement().push("INSERT INTO outbox (id, notification_id, recipient_id, area, channel, address, language, subject, body, status, next_attempt_at, created_at, updated_at) ");
                    b.rows(&[Id, Id, Id, Text, Text, Text, Text, Text, Text, Text, Time, Time, Time], outbound).if_guard_passed();
                    b.push(" ON CONFLICT (id) DO NOTHING");
                }
                if i == last && !plan.claims.is_empty() {
                    b.next_statement().push("INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) ");
                    b.rows(
                        &[Text, Text, Text, Int, Text, Time],
                        plan.claims.iter().map(|(job, claim, response)| vec![
                            claim.scope.clone().into(), claim.key.clone().into(), claim.fingerprint.clone().into(),
                            i64::from(claim.status).into(), response.to_string().into(), timestamp(contexts[*job].at).into(),
                        ]).collect(),
                    );
                    b.if_guard_passed();
                }
                let applied = if DIALECT.writes_alone() {
                    // The statement's own result: the head it moved, or no row.
                    b.next_statement().push("SELECT seq FROM s0");
                    query(&b.together()).fetch_optional(&mut *conn).await?.is_some()
                } else {
                    // SQLite runs the statements in turn under its write lock: the guard holds.
                    query(&b.together()).execute(&mut *conn).await?;
                    true
                };
                if !applied {
                    return Ok(Err(NotWritten::Raced));
                }
                head = $crate::storage::sql::Head { seq, writes: head.writes + 1 };
            }
            Ok(Ok(head))
        }

        /// Commit a group of queued jobs in one transaction, answering each (see
        /// `storage/group.rs`).
        pub(super) async fn commit_group(
            pool: &sqlx::Pool<$db>,
            jobs: Vec<$crate::storage::group::Job>,
        ) {
            let batch = || jobs.iter().map(|job| (job.writes.clone(), &job.ctx)).collect::<Vec<_>>();
            let together = async {
                // Without a transaction where the database allows: two round trips, a read and
                // a guarded write, instead of four. Another server writing meanwhile makes the
                // guard fail; after a few such turns the group waits for the lock instead.
                if DIALECT.writes_alone() {
                    let mut conn = pool.acquire().await?;
                    for _ in 0..$crate::storage::sql::UNLOCKED_TRIES {
                        match commit_jobs(&mut conn, batch(), &mut Default::default(), &mut Default::default(), true).await? {
                            Ok(outcomes) => return Ok::<_, StorageError>(outcomes),
                            Err($crate::storage::sql::NotWritten::Raced) => continue,
                            Err($crate::storage::sql::NotWritten::NeedsLock) => break,
                        }
                    }
                }
                let mut tx = pool.begin_with(DIALECT.begin_writing()).await?;
                let outcomes = locked_commit_jobs(&mut tx, batch(), &mut $crate::storage::sql::Feed::default(), &mut Default::default()).await?;
                tx.commit().await?;
                Ok::<_, StorageError>(outcomes)
            };
            match together.await {
                Ok(outcomes) => {
                    for (job, outcome) in jobs.into_iter().zip(outcomes) {
                        let _ = job.reply.send(outcome);
                    }
                }
                // Tried again one by one, so no job fails for its neighbours.
                Err(e) if jobs.len() > 1 => {
                    tracing::warn!(error = %e, jobs = jobs.len(), "a group commit failed; committing its writes one by one");
                    for $crate::storage::group::Job { writes, ctx, reply } in jobs {
                        let alone = async {
                            let mut tx = pool.begin_with(DIALECT.begin_writing()).await?;
                            let written = commit(&mut tx, writes, &ctx, &mut $crate::storage::sql::Feed::default()).await?;
                            tx.commit().await?;
                            Ok(written)
                        };
                        let _ = reply.send(alone.await);
                    }
                }
                Err(e) => {
                    let job = jobs.into_iter().next().expect("one job");
                    let _ = job.reply.send(Err(CommitError::Storage(e)));
                }
            }
        }

        fn outbox_columns() -> String {
            format!(
                "{}, {}, {}, area, channel, address, language, subject, body, status, CAST(attempts AS BIGINT), {}, last_error, {}, {}, {}",
                DIALECT.uuid_out("id"), DIALECT.uuid_out("notification_id"), DIALECT.uuid_out("recipient_id"),
                DIALECT.time_out("next_attempt_at"), DIALECT.time_out("created_at"),
                DIALECT.time_out("updated_at"), DIALECT.time_out("delivered_at"),
            )
        }

        fn decode_outbox(row: &<$db as sqlx::Database>::Row) -> Result<$crate::storage::OutboxRow, StorageError> {
            let channel: String = row.try_get(4)?;
            let status: String = row.try_get(9)?;
            let time = |i: usize| -> Result<time::OffsetDateTime, StorageError> { parse_time(&row.try_get::<String, _>(i)?) };
            Ok($crate::storage::OutboxRow {
                id: parse_uuid(row.try_get(0)?)?.expect("not null"),
                notification_id: parse_uuid(row.try_get(1)?)?.expect("not null"),
                recipient_id: parse_uuid(row.try_get(2)?)?.expect("not null"),
                area: row.try_get(3)?,
                channel: $crate::storage::OutboundChannelKind::parse(&channel)
                    .ok_or_else(|| StorageError::Corrupt(format!("an outbox channel {channel:?}")))?,
                address: row.try_get(5)?,
                language: row.try_get(6)?,
                subject: row.try_get(7)?,
                body: row.try_get(8)?,
                status: $crate::storage::OutboxStatus::parse(&status)
                    .ok_or_else(|| StorageError::Corrupt(format!("an outbox status {status:?}")))?,
                attempts: u32::try_from(row.try_get::<i64, _>(10)?).unwrap_or(u32::MAX),
                next_attempt_at: time(11)?,
                last_error: row.try_get(12)?,
                created_at: time(13)?,
                updated_at: time(14)?,
                delivered_at: row.try_get::<Option<String>, _>(15)?.as_deref().map(parse_time).transpose()?,
            })
        }

        pub(super) async fn outbox_claim(conn: &mut Conn, worker: &str, now: time::OffsetDateTime, lease_until: time::OffsetDateTime, limit: u32) -> Result<Vec<$crate::storage::OutboxRow>, StorageError> {
            // A read first: most looks find nothing due, and a read takes no write lock (an
            // UPDATE would, on SQLite, making other writers wait for it every period).
            let mut probe = Builder::new(DIALECT, "SELECT 1 FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ");
            probe.time(timestamp(now)).push(") OR (status = 'sending' AND lease_until < ").time(timestamp(now)).push(") LIMIT 1");
            if query(&probe).fetch_optional(&mut *conn).await?.is_none() {
                return Ok(Vec::new());
            }
            let mut b = Builder::new(DIALECT, "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = ");
            b.text(worker).push(", lease_until = ").time(timestamp(lease_until))
                .push(", updated_at = ").time(timestamp(now))
                .push(" WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ").time(timestamp(now))
                .push(") OR (status = 'sending' AND lease_until < ").time(timestamp(now))
                .push(") ORDER BY next_attempt_at, id LIMIT ").int(i64::from(limit));
            b.push(DIALECT.skip_locked());
            b.push(&format!(") RETURNING {}", outbox_columns()));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            let mut claimed: Vec<$crate::storage::OutboxRow> = rows.iter().map(decode_outbox).collect::<Result<_, _>>()?;
            claimed.sort_by_key(|r| (r.next_attempt_at, r.id));
            Ok(claimed)
        }

        pub(super) async fn outbox_settle(conn: &mut Conn, id: Uuid, worker: &str, outcome: &$crate::storage::Settle, now: time::OffsetDateTime) -> Result<bool, StorageError> {
            use $crate::storage::Settle;
            let mut b = Builder::new(DIALECT, "UPDATE outbox SET claimed_by = NULL, lease_until = NULL, updated_at = ");
            b.time(timestamp(now));
            match outcome {
                Settle::Delivered => {
                    b.push(", status = 'delivered', delivered_at = ").time(timestamp(now));
                }
                Settle::Retry { at, error } => {
                    b.push(", status = 'pending', next_attempt_at = ").time(timestamp(*at))
                        .push(", last_error = ").text(error.clone());
                }
                Settle::Failed { error } => {
                    b.push(", status = 'failed', last_error = ").text(error.clone());
                }
            }
            b.push(" WHERE id = ").uuid(id).push(" AND status = 'sending' AND claimed_by = ").text(worker);
            Ok(query(&b).execute(&mut *conn).await?.rows_affected() == 1)
        }

        pub(super) async fn outbox_list(conn: &mut Conn, q: &$crate::storage::OutboxQuery) -> Result<Vec<$crate::storage::OutboxRow>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM outbox WHERE 1 = 1", outbox_columns()));
            if let Some(status) = q.status {
                b.push(" AND status = ").text(status.as_str());
            }
            if let Some(recipient) = q.recipient {
                b.push(" AND recipient_id = ").uuid(recipient);
            }
            if let Some((at, id)) = q.before {
                b.push(" AND (created_at, id) < (").time(timestamp(at)).push(", ").uuid(id).push(")");
            }
            match &q.visibility {
                Visibility::All => {}
                Visibility::Areas(areas) if !areas.is_empty() => {
                    b.push(" AND (1 = 0");
                    for area in areas {
                        b.push(" OR area = ").text(area.clone())
                            .push(" OR substr(area, 1, length(").text(format!("{area}."))
                            .push(")) = ").text(format!("{area}."));
                    }
                    b.push(")");
                }
                // Nobody else reads the outbox (the handler refuses them first).
                _ => {
                    b.push(" AND 1 = 0");
                }
            }
            b.push(" ORDER BY created_at DESC, id DESC LIMIT ").int(i64::from(q.limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter().map(decode_outbox).collect()
        }

        pub(super) async fn job_take(conn: &mut Conn, name: &str, holder: &str, now: time::OffsetDateTime, lease_until: time::OffsetDateTime) -> Result<bool, StorageError> {
            // Not due, or held: answered by a read, without a write lock.
            let mut probe = Builder::new(DIALECT, "SELECT 1 FROM scheduled_jobs WHERE name = ");
            probe.text(name).push(" AND (next_run_at > ").time(timestamp(now))
                .push(" OR lease_until >= ").time(timestamp(now)).push(")");
            if query(&probe).fetch_optional(&mut *conn).await?.is_some() {
                return Ok(false);
            }
            let mut b = Builder::new(DIALECT, "INSERT INTO scheduled_jobs (name, next_run_at) VALUES (");
            b.text(name).push(", ").time(timestamp(now)).push(") ON CONFLICT (name) DO NOTHING");
            query(&b).execute(&mut *conn).await?;
            let mut b = Builder::new(DIALECT, "UPDATE scheduled_jobs SET holder = ");
            b.text(holder).push(", lease_until = ").time(timestamp(lease_until))
                .push(", last_run_at = ").time(timestamp(now))
                .push(" WHERE name = ").text(name)
                .push(" AND next_run_at <= ").time(timestamp(now))
                .push(" AND (lease_until IS NULL OR lease_until < ").time(timestamp(now)).push(")");
            Ok(query(&b).execute(&mut *conn).await?.rows_affected() == 1)
        }

        pub(super) async fn job_done(conn: &mut Conn, name: &str, holder: &str, next_run_at: time::OffsetDateTime) -> Result<(), StorageError> {
            let mut b = Builder::new(DIALECT, "UPDATE scheduled_jobs SET holder = NULL, lease_until = NULL, next_run_at = ");
            b.time(timestamp(next_run_at)).push(" WHERE name = ").text(name).push(" AND holder = ").text(holder);
            query(&b).execute(&mut *conn).await?;
            Ok(())
        }

        pub(super) async fn challenge_create(conn: &mut Conn, c: &$crate::storage::LivenessChallengeRow) -> Result<(), StorageError> {
            let mut b = Builder::new(DIALECT, "INSERT INTO liveness_challenges (id, individual_id, requested_by, issuer, nonce, acr_values, created_at, expires_at) VALUES (");
            b.uuid(c.id).push(", ").uuid(c.individual_id).push(", ").text(&c.requested_by)
                .push(", ").text(&c.issuer).push(", ").text(&c.nonce).push(", ").text(&c.acr_values)
                .push(", ").time(timestamp(c.created_at)).push(", ").time(timestamp(c.expires_at)).push(")");
            query(&b).execute(&mut *conn).await?;
            Ok(())
        }

        pub(super) async fn challenge(conn: &mut Conn, id: Uuid) -> Result<Option<$crate::storage::LivenessChallengeRow>, StorageError> {
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {}, requested_by, issuer, nonce, acr_values, {}, {}, {} FROM liveness_challenges WHERE id = ",
                DIALECT.uuid_out("id"), DIALECT.uuid_out("individual_id"), DIALECT.time_out("created_at"),
                DIALECT.time_out("expires_at"), DIALECT.time_out("used_at"),
            ));
            b.uuid(id);
            let Some(row) = query(&b).fetch_optional(&mut *conn).await? else {
                return Ok(None);
            };
            let used: Option<String> = row.try_get(8)?;
            Ok(Some($crate::storage::LivenessChallengeRow {
                id: parse_uuid(row.try_get(0)?)?.expect("not null"),
                individual_id: parse_uuid(row.try_get(1)?)?.expect("not null"),
                requested_by: row.try_get(2)?,
                issuer: row.try_get(3)?,
                nonce: row.try_get(4)?,
                acr_values: row.try_get(5)?,
                created_at: parse_time(&row.try_get::<String, _>(6)?)?,
                expires_at: parse_time(&row.try_get::<String, _>(7)?)?,
                used_at: used.as_deref().map(parse_time).transpose()?,
            }))
        }

        pub(super) async fn challenge_use(conn: &mut Conn, id: Uuid, at: time::OffsetDateTime) -> Result<bool, StorageError> {
            let mut b = Builder::new(DIALECT, "UPDATE liveness_challenges SET used_at = ");
            b.time(timestamp(at)).push(" WHERE id = ").uuid(id).push(" AND used_at IS NULL");
            Ok(query(&b).execute(&mut *conn).await?.rows_affected() == 1)
        }

        pub(super) async fn liveness_due(conn: &mut Conn, until: time::Date, after: Option<(time::Date, Uuid)>, limit: u32) -> Result<Vec<$crate::storage::LivenessDue>, StorageError> {
            let day = |d: time::Date| doorstep_domain::date_format::format(d);
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {}, l.state, {} FROM records l WHERE l.kind = 'liveness_check' AND l.deleted = FALSE \
                 AND l.owner_id IS NOT NULL AND l.state IS NOT NULL AND l.state <= ",
                DIALECT.uuid_out("l.id"), DIALECT.uuid_out("l.owner_id"), DIALECT.json_out("l.body"),
            ));
            b.text(day(until));
            if let Some((due, id)) = after {
                b.push(" AND (l.state, l.id) > (").text(day(due)).push(", ").uuid(id).push(")");
            }
            // The person's latest check decides: a later one moved the date on.
            b.push(" AND NOT EXISTS (SELECT 1 FROM records n WHERE n.owner_id = l.owner_id AND n.kind = 'liveness_check' \
                    AND n.deleted = FALSE AND n.state IS NOT NULL AND (n.state > l.state OR (n.state = l.state AND n.id > l.id)))");
            b.push(" ORDER BY l.state, l.id LIMIT ").int(i64::from(limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    let state: String = row.try_get(2)?;
                    let body: String = row.try_get(3)?;
                    // The last day of grace, where the check has one (those written before it
                    // existed follow the registry's grace).
                    let overdue_after = serde_json::from_str::<serde_json::Value>(&body)
                        .map_err(|e| StorageError::Corrupt(format!("a liveness check's body: {e}")))?
                        .get("overdue_after")
                        .and_then(serde_json::Value::as_str)
                        .map(doorstep_domain::date_format::parse)
                        .transpose()
                        .map_err(|e| StorageError::Corrupt(format!("a liveness check's overdue_after: {e}")))?;
                    Ok($crate::storage::LivenessDue {
                        check: parse_uuid(row.try_get(0)?)?.expect("not null"),
                        individual: parse_uuid(row.try_get(1)?)?.expect("not null"),
                        due: doorstep_domain::date_format::parse(&state)
                            .map_err(|e| StorageError::Corrupt(format!("a liveness check's due day {state:?}: {e}")))?,
                        overdue_after,
                    })
                })
                .collect()
        }

        pub(super) async fn never_checked(conn: &mut Conn, registered_before: time::OffsetDateTime, after: Option<(time::OffsetDateTime, Uuid)>, limit: u32) -> Result<Vec<$crate::storage::NeverChecked>, StorageError> {
            // Through the partial index of live individuals by registration time (migration 0013);
            // a passed check that set a due day is a liveness check with a `state`.
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {} FROM records i WHERE i.kind = 'individual' AND i.deleted = FALSE AND i.created_at < ",
                DIALECT.uuid_out("i.id"), DIALECT.time_out("i.created_at"),
            ));
            b.time(timestamp(registered_before));
            if let Some((at, id)) = after {
                b.push(" AND (i.created_at, i.id) > (").time(timestamp(at)).push(", ").uuid(id).push(")");
            }
            b.push(" AND NOT EXISTS (SELECT 1 FROM records l WHERE l.owner_id = i.id AND l.kind = 'liveness_check' \
                    AND l.deleted = FALSE AND l.state IS NOT NULL)");
            b.push(" ORDER BY i.created_at, i.id LIMIT ").int(i64::from(limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    Ok($crate::storage::NeverChecked {
                        individual: parse_uuid(row.try_get(0)?)?.expect("not null"),
                        registered_at: parse_time(&row.try_get::<String, _>(1)?)?,
                    })
                })
                .collect()
        }

        pub(super) async fn drafts_closing(conn: &mut Conn, from: time::Date, until: time::Date, after: Option<Uuid>, limit: u32) -> Result<Vec<$crate::storage::DraftClosing>, StorageError> {
            let day = |d: time::Date| doorstep_domain::date_format::format(d);
            // Programmes found by their closing day (`state`, indexed with the kind), then their
            // drafts by `parent_id`; paged by the application's id.
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {}, {}, p.state FROM records p JOIN records a ON a.parent_id = p.id \
                 WHERE p.kind = 'programme' AND p.deleted = FALSE AND p.state IS NOT NULL AND p.state >= ",
                DIALECT.uuid_out("a.id"), DIALECT.uuid_out("a.owner_id"), DIALECT.uuid_out("p.id"),
            ));
            b.text(day(from)).push(" AND p.state <= ").text(day(until))
                .push(" AND a.kind = 'application' AND a.deleted = FALSE AND a.state = 'draft' AND a.owner_id IS NOT NULL");
            if let Some(after) = after {
                b.push(" AND a.id > ").uuid(after);
            }
            b.push(" ORDER BY a.id LIMIT ").int(i64::from(limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    let state: String = row.try_get(3)?;
                    Ok($crate::storage::DraftClosing {
                        application: parse_uuid(row.try_get(0)?)?.expect("not null"),
                        applicant: parse_uuid(row.try_get(1)?)?.expect("not null"),
                        programme: parse_uuid(row.try_get(2)?)?.expect("not null"),
                        closes_on: doorstep_domain::date_format::parse(&state)
                            .map_err(|e| StorageError::Corrupt(format!("a programme's closing day {state:?}: {e}")))?,
                    })
                })
                .collect()
        }

        pub(super) async fn get(conn: &mut Conn, id: Uuid) -> Result<Option<StoredRecord>, StorageError> {
            fetch_record(conn, id).await
        }

        pub(super) async fn holds_key(conn: &mut Conn, id: Uuid, key: &str) -> Result<bool, StorageError> {
            let mut b = Builder::new(DIALECT, "SELECT COUNT(*) FROM record_keys WHERE key = ");
            b.text(key).push(" AND record_id = ").uuid(id);
            Ok(query(&b).fetch_one(&mut *conn).await?.try_get::<i64, _>(0)? > 0)
        }

        pub(super) async fn list(conn: &mut Conn, q: &ListQuery) -> Result<Vec<StoredRecord>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM records WHERE kind = ", record_columns(DIALECT)));
            b.text(q.kind.as_str());
            if !q.include_deleted {
                b.push(" AND deleted = FALSE");
            }
            if let Some(after) = q.after {
                b.push(" AND id > ").uuid(after);
            }
            if let Some(owner) = q.owner_id {
                b.push(" AND owner_id = ").uuid(owner);
            }
            if let Some(group) = q.group_id {
                b.push(" AND group_id = ").uuid(group);
            }
            if let Some(parent) = q.parent_id {
                b.push(" AND parent_id = ").uuid(parent);
            }
            if let Some(text) = &q.text {
                b.push(" AND ").contains(text);
            }
            if let Some(key) = &q.key {
                b.push(" AND ").in_subquery("id", |b| {
                    b.push("SELECT record_id FROM record_keys WHERE key = ").text(key.as_str());
                });
            }
            b.visible_to(&q.visibility);
            b.push(" ORDER BY id LIMIT ").int(i64::from(q.limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter().map(decode_record).collect()
        }

        pub(super) async fn owners_by_keys(conn: &mut Conn, lookups: &[$crate::storage::KeyLookup]) -> Result<Vec<(String, Uuid)>, StorageError> {
            // One statement, each lookup a limited subquery of its own, so a crowded key cannot
            // crowd the others out. Deleted records hold no keys; the test is a second guard.
            let mut b = Builder::new(DIALECT, "");
            let mut parts = 0;
            for (i, lookup) in lookups.iter().enumerate() {
                if lookup.keys.is_empty() || lookup.limit == 0 {
                    continue;
                }
                if parts > 0 {
                    b.push(" UNION ALL ");
                }
                parts += 1;
                b.push(&format!(
                    "SELECT key, owner FROM (SELECT k.key AS key, {} AS owner FROM record_keys k JOIN records r ON r.id = k.record_id WHERE ",
                    DIALECT.uuid_out("r.owner_id")
                ));
                let keys: Vec<&String> = lookup.keys.iter().collect();
                b.in_texts("k.key", &keys);
                b.push(" AND r.deleted = FALSE AND r.owner_id IS NOT NULL LIMIT ").int(i64::from(lookup.limit));
                b.push(&format!(") AS l{i}"));
            }
            if parts == 0 {
                return Ok(Vec::new());
            }
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, parse_uuid(row.try_get(1)?)?.expect("owner_id IS NOT NULL"))))
                .collect()
        }

        pub(super) async fn get_many(conn: &mut Conn, ids: &[Uuid]) -> Result<Vec<StoredRecord>, StorageError> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM records WHERE ", record_columns(DIALECT)));
            b.in_uuids("id", ids);
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter().map(decode_record).collect()
        }

        /// `AND <area is code or below it>`.
        fn within_area(b: &mut Builder, code: &str) {
            b.push(" AND (area = ").text(code)
                .push(" OR substr(area, 1, length(").text(format!("{code}."))
                .push(")) = ").text(format!("{code}.")).push(")");
        }

        fn parse_time(text: &str) -> Result<time::OffsetDateTime, StorageError> {
            doorstep_domain::timestamp::parse(text)
                .map_err(|e| StorageError::Corrupt(format!("a stored time {text:?}: {e}")))
        }

        pub(super) async fn review_queue(conn: &mut Conn, q: &$crate::storage::QueueQuery) -> Result<Vec<(StoredRecord, time::OffsetDateTime)>, StorageError> {
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {} FROM records WHERE kind = 'application' AND deleted = FALSE AND state_since IS NOT NULL AND ",
                record_columns(DIALECT), DIALECT.time_out("state_since"),
            ));
            let states: Vec<&String> = q.states.iter().collect();
            b.in_texts("state", &states);
            if let Some(programme) = q.programme {
                b.push(" AND parent_id = ").uuid(programme);
            }
            if let Some(area) = &q.area {
                within_area(&mut b, area);
            }
            if let Some(before) = q.before {
                b.push(" AND state_since < ").time(timestamp(before));
            }
            if let Some((since, id)) = q.after {
                b.push(" AND (state_since, id) > (").time(timestamp(since)).push(", ").uuid(id).push(")");
            }
            b.visible_to(&q.visibility);
            b.push(" ORDER BY state_since, id LIMIT ").int(i64::from(q.limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    let since: String = row.try_get(12)?;
                    Ok((decode_record(row)?, parse_time(&since)?))
                })
                .collect()
        }

        pub(super) async fn pending_documents(conn: &mut Conn, owners: &[Uuid]) -> Result<Vec<(Uuid, u32)>, StorageError> {
            if owners.is_empty() {
                return Ok(Vec::new());
            }
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, COUNT(*) FROM records WHERE kind = 'document' AND deleted = FALSE AND state = 'pending' AND ",
                DIALECT.uuid_out("owner_id"),
            ));
            b.in_uuids("owner_id", owners);
            b.push(" GROUP BY owner_id");
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| Ok((parse_uuid(row.try_get(0)?)?.expect("owner_id is one of the owners"), row.try_get::<i64, _>(1)? as u32)))
                .collect()
        }

        pub(super) async fn latest_form_version(conn: &mut Conn, programme: Uuid) -> Result<Option<u32>, StorageError> {
            let mut b = Builder::new(DIALECT, format!(
                "SELECT MAX({}) FROM records WHERE kind = 'form_definition' AND parent_id = ",
                DIALECT.json_int("body", "version"),
            ));
            b.uuid(programme);
            let latest: Option<i64> = query(&b).fetch_one(&mut *conn).await?.try_get(0)?;
            latest
                .map(|v| u32::try_from(v).map_err(|_| StorageError::Corrupt(format!("a form version {v} is out of range"))))
                .transpose()
        }

        pub(super) async fn applicants(conn: &mut Conn, q: &$crate::storage::ApplicantQuery) -> Result<Vec<Uuid>, StorageError> {
            let mut b = Builder::new(DIALECT, format!(
                "SELECT DISTINCT {} AS applicant, owner_id FROM records WHERE kind = 'application' AND deleted = FALSE AND owner_id IS NOT NULL AND parent_id = ",
                DIALECT.uuid_out("owner_id"),
            ));
            b.uuid(q.programme);
            if let Some(state) = &q.state {
                b.push(" AND state = ").text(state.as_str());
            }
            if let Some(area) = &q.area {
                within_area(&mut b, area);
            }
            if let Some(after) = q.after {
                b.push(" AND owner_id > ").uuid(after);
            }
            b.visible_to(&q.visibility);
            b.push(" ORDER BY owner_id LIMIT ").int(i64::from(q.limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| Ok(parse_uuid(row.try_get(0)?)?.expect("owner_id IS NOT NULL")))
                .collect()
        }

        pub(super) async fn duplicate_flags(conn: &mut Conn, after: Option<(Uuid, Uuid)>, limit: u32) -> Result<Vec<$crate::storage::StoredFlag>, StorageError> {
            let mut b = Builder::new(DIALECT, format!(
                "SELECT {}, {}, CAST(f.score AS BIGINT), {}, {}, f.flagged_for FROM duplicate_flags f \
                 JOIN records r ON r.id = f.record_id JOIN records c ON c.id = f.candidate_id \
                 WHERE r.deleted = FALSE AND c.deleted = FALSE",
                DIALECT.uuid_out("f.record_id"), DIALECT.uuid_out("f.candidate_id"),
                DIALECT.json_out("f.reasons"), DIALECT.time_out("f.flagged_at"),
            ));
            if let Some((record, candidate)) = after {
                b.push(" AND (f.record_id, f.candidate_id) > (").uuid(record).push(", ").uuid(candidate).push(")");
            }
            b.push(" ORDER BY f.record_id, f.candidate_id LIMIT ").int(i64::from(limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    let reasons: String = row.try_get(3)?;
                    Ok($crate::storage::StoredFlag {
                        record_id: parse_uuid(row.try_get(0)?)?.expect("not null"),
                        candidate_id: parse_uuid(row.try_get(1)?)?.expect("not null"),
                        score: u8::try_from(row.try_get::<i64, _>(2)?)
                            .map_err(|_| StorageError::Corrupt("a duplicate flag's score is out of range".into()))?,
                        reasons: serde_json::from_str(&reasons)
                            .map_err(|e| StorageError::Corrupt(format!("a duplicate flag's reasons: {e}")))?,
                        flagged_at: row.try_get(4)?,
                        flagged_for: row.try_get(5)?,
                    })
                })
                .collect()
        }

        pub(super) async fn changes_since(conn: &mut Conn, after_seq: u64, limit: u32, visibility: &Visibility) -> Result<Vec<StoredRecord>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM records WHERE last_seq > ", record_columns(DIALECT)));
            b.int(after_seq as i64);
            b.visible_to(visibility);
            b.push(" ORDER BY last_seq LIMIT ").int(i64::from(limit));
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter().map(decode_record).collect()
        }

        pub(super) async fn head_seq(conn: &mut Conn) -> Result<u64, StorageError> {
            let seq: i64 = sqlx::query_scalar::<$db, i64>("SELECT COALESCE(MAX(seq), 0) FROM changes")
                .fetch_one(&mut *conn)
                .await?;
            Ok(seq as u64)
        }

        pub(super) async fn idempotent_response(conn: &mut Conn, scope: &str, key: &str) -> Result<Option<StoredResponse>, StorageError> {
            fetch_response(conn, scope, key).await
        }

        pub(super) async fn linked_individual(conn: &mut Conn, principal: &str) -> Result<Option<Uuid>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM citizen_links WHERE principal = ", DIALECT.uuid_out("individual_id")));
            b.text(principal);
            let id: Option<String> = query(&b).fetch_optional(&mut *conn).await?.map(|r| r.try_get(0)).transpose()?;
            parse_uuid(id)
        }

        pub(super) async fn link_citizen(conn: &mut Conn, principal: &str, individual: Uuid, at: time::OffsetDateTime) -> Result<Option<Uuid>, StorageError> {
            let mut b = Builder::new(DIALECT, "INSERT INTO citizen_links (principal, individual_id, linked_at) VALUES (");
            b.text(principal).push(", ").uuid(individual).push(", ").time(timestamp(at)).push(") ON CONFLICT DO NOTHING");
            query(&b).execute(&mut *conn).await?;
            linked_individual(conn, principal).await
        }

        pub(super) async fn revoke(conn: &mut Conn, r: &doorstep_domain::api::Revocation) -> Result<(), StorageError> {
            let at = time::OffsetDateTime::parse(&r.revoked_at, &time::format_description::well_known::Rfc3339)
                .map_err(|e| StorageError::Corrupt(format!("a revocation's time: {e}")))?;
            let mut b = Builder::new(DIALECT, "INSERT INTO revocations (id, target, reason, revoked_by, revoked_at) VALUES (");
            b.uuid(r.id).push(", ").text(&r.target).push(", ").text(&r.reason).push(", ").text(&r.revoked_by)
                .push(", ").time(timestamp(at)).push(")");
            query(&b).execute(&mut *conn).await?;
            Ok(())
        }

        fn revocation_columns() -> String {
            format!("{}, target, reason, revoked_by, {}", DIALECT.uuid_out("id"), DIALECT.time_out("revoked_at"))
        }

        fn decode_revocation(row: &<$db as sqlx::Database>::Row) -> Result<doorstep_domain::api::Revocation, StorageError> {
            Ok(doorstep_domain::api::Revocation {
                id: parse_uuid(row.try_get(0)?)?.expect("not null"),
                target: row.try_get(1)?,
                reason: row.try_get(2)?,
                revoked_by: row.try_get(3)?,
                revoked_at: row.try_get(4)?,
            })
        }

        pub(super) async fn revocation_of(conn: &mut Conn, targets: &[String]) -> Result<Option<doorstep_domain::api::Revocation>, StorageError> {
            if targets.is_empty() {
                return Ok(None);
            }
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM revocations WHERE ", revocation_columns()));
            b.in_texts("target", &targets.iter().collect::<Vec<_>>());
            b.push(" ORDER BY revoked_at, id LIMIT 1");
            query(&b).fetch_optional(&mut *conn).await?.as_ref().map(decode_revocation).transpose()
        }

        pub(super) async fn revocations(conn: &mut Conn, limit: u32) -> Result<Vec<doorstep_domain::api::Revocation>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM revocations ORDER BY revoked_at DESC, id DESC LIMIT ", revocation_columns()));
            b.int(i64::from(limit));
            query(&b).fetch_all(&mut *conn).await?.iter().map(decode_revocation).collect()
        }

        fn staff_columns() -> String {
            format!("{}, issuer, subject, email, role, areas, granted_by, granted_at, changed_by, changed_at, revoked_by, revoked_at", DIALECT.uuid_out("id"))
        }

        fn decode_staff(row: &<$db as sqlx::Database>::Row) -> Result<doorstep_domain::api::StaffEntry, StorageError> {
            let role: String = row.try_get(4)?;
            let areas: String = row.try_get(5)?;
            Ok(doorstep_domain::api::StaffEntry {
                id: parse_uuid(row.try_get(0)?)?.expect("not null"),
                issuer: row.try_get(1)?,
                subject: row.try_get(2)?,
                email: row.try_get(3)?,
                role: doorstep_domain::api::StaffRole::parse(&role)
                    .ok_or_else(|| StorageError::Corrupt(format!("a staff directory role {role:?}")))?,
                areas: serde_json::from_str(&areas)
                    .map_err(|e| StorageError::Corrupt(format!("a staff directory entry's areas: {e}")))?,
                granted_by: row.try_get(6)?,
                granted_at: row.try_get(7)?,
                changed_by: row.try_get(8)?,
                changed_at: row.try_get(9)?,
                revoked_by: row.try_get(10)?,
                revoked_at: row.try_get(11)?,
            })
        }

        /// The live entry for (issuer, subject), else for (issuer, verified e-mail).
        pub(super) async fn staff_live(conn: &mut Conn, issuer: &str, subject: &str, email: Option<&str>) -> Result<Option<doorstep_domain::api::StaffEntry>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM staff_directory WHERE revoked_at IS NULL AND issuer = ", staff_columns()));
            b.text(issuer).push(" AND (subject = ").text(subject);
            if let Some(email) = email {
                b.push(" OR email = ").text(email);
            }
            b.push(") ORDER BY CASE WHEN subject IS NULL THEN 1 ELSE 0 END LIMIT 1");
            query(&b).fetch_optional(&mut *conn).await?.as_ref().map(decode_staff).transpose()
        }

        pub(super) async fn staff_entry(conn: &mut Conn, id: Uuid) -> Result<Option<doorstep_domain::api::StaffEntry>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM staff_directory WHERE id = ", staff_columns()));
            b.uuid(id);
            query(&b).fetch_optional(&mut *conn).await?.as_ref().map(decode_staff).transpose()
        }

        pub(super) async fn staff_list(conn: &mut Conn, after: Option<Uuid>, limit: u32, include_revoked: bool) -> Result<Vec<doorstep_domain::api::StaffEntry>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM staff_directory WHERE TRUE", staff_columns()));
            if !include_revoked {
                b.push(" AND revoked_at IS NULL");
            }
            if let Some(after) = after {
                b.push(" AND id > ").uuid(after);
            }
            b.push(" ORDER BY id LIMIT ").int(i64::from(limit));
            query(&b).fetch_all(&mut *conn).await?.iter().map(decode_staff).collect()
        }

        /// Apply one grant, change or revocation with its history row, inside the caller's
        /// writing transaction (so the checks below hold until commit).
        pub(super) async fn staff_write(conn: &mut Conn, write: $crate::storage::StaffWrite) -> Result<Result<doorstep_domain::api::StaffEntry, $crate::storage::StaffRefusal>, StorageError> {
            use $crate::storage::{StaffRefusal, StaffWrite};
            use doorstep_domain::api::StaffRole;
            let areas_json = |areas: &[String]| serde_json::to_string(areas).expect("strings serialise");
            let (id, action, role, areas, actor, at) = match write {
                StaffWrite::Grant(entry) => {
                    let mut b = Builder::new(DIALECT, format!("SELECT {} FROM staff_directory WHERE revoked_at IS NULL AND issuer = ", staff_columns()));
                    b.text(&entry.issuer);
                    match (&entry.subject, &entry.email) {
                        (Some(subject), _) => b.push(" AND subject = ").text(subject),
                        (None, Some(email)) => b.push(" AND email = ").text(email),
                        (None, None) => return Err(StorageError::Corrupt("a staff grant names neither subject nor e-mail".into())),
                    };
                    b.push(" LIMIT 1");
                    if let Some(existing) = query(&b).fetch_optional(&mut *conn).await?.as_ref().map(decode_staff).transpose()? {
                        return Ok(Err(StaffRefusal::AlreadyListed(existing.id)));
                    }
                    let mut b = Builder::new(DIALECT, "INSERT INTO staff_directory (id, issuer, subject, email, role, areas, granted_by, granted_at) VALUES (");
                    b.uuid(entry.id).push(", ").text(&entry.issuer).push(", ").opt_text(entry.subject.clone())
                        .push(", ").opt_text(entry.email.clone()).push(", ").text(entry.role.as_str())
                        .push(", ").text(areas_json(&entry.areas)).push(", ").text(&entry.granted_by)
                        .push(", ").text(&entry.granted_at).push(")");
                    query(&b).execute(&mut *conn).await?;
                    (entry.id, "grant", entry.role, entry.areas, entry.granted_by, entry.granted_at)
                }
                StaffWrite::Change { id, role, areas, by, at } => {
                    let current = match live_for_change(conn, id).await? {
                        Ok(current) => current,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                    if current.role == StaffRole::Admin && role != StaffRole::Admin && !other_admin(conn, id).await? {
                        return Ok(Err(StaffRefusal::LastAdmin));
                    }
                    let mut b = Builder::new(DIALECT, "UPDATE staff_directory SET role = ");
                    b.text(role.as_str()).push(", areas = ").text(areas_json(&areas)).push(", changed_by = ").text(&by)
                        .push(", changed_at = ").text(&at).push(" WHERE id = ").uuid(id);
                    query(&b).execute(&mut *conn).await?;
                    (id, "change", role, areas, by, at)
                }
                StaffWrite::Revoke { id, by, at } => {
                    let current = match live_for_change(conn, id).await? {
                        Ok(current) => current,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                    if current.role == StaffRole::Admin && !other_admin(conn, id).await? {
                        return Ok(Err(StaffRefusal::LastAdmin));
                    }
                    let mut b = Builder::new(DIALECT, "UPDATE staff_directory SET revoked_by = ");
                    b.text(&by).push(", revoked_at = ").text(&at).push(" WHERE id = ").uuid(id);
                    query(&b).execute(&mut *conn).await?;
                    (id, "revoke", current.role, current.areas, by, at)
                }
            };
            let mut b = Builder::new(DIALECT, "INSERT INTO staff_changes (id, entry_id, action, role, areas, actor, at) VALUES (");
            b.uuid(Uuid::now_v7()).push(", ").uuid(id).push(", ").text(action).push(", ").text(role.as_str())
                .push(", ").text(areas_json(&areas)).push(", ").text(&actor).push(", ").text(&at).push(")");
            query(&b).execute(&mut *conn).await?;
            let entry = staff_entry(conn, id).await?.ok_or_else(|| StorageError::Corrupt("a staff entry vanished while written".into()))?;
            Ok(Ok(entry))
        }

        /// The entry a change or revocation is about, if it exists and is live.
        async fn live_for_change(conn: &mut Conn, id: Uuid) -> Result<Result<doorstep_domain::api::StaffEntry, $crate::storage::StaffRefusal>, StorageError> {
            Ok(match staff_entry(conn, id).await? {
                None => Err($crate::storage::StaffRefusal::NotFound),
                Some(entry) if entry.revoked_at.is_some() => Err($crate::storage::StaffRefusal::Revoked),
                Some(entry) => Ok(entry),
            })
        }

        /// Whether a live admin other than entry `id` remains.
        async fn other_admin(conn: &mut Conn, id: Uuid) -> Result<bool, StorageError> {
            let mut b = Builder::new(DIALECT, "SELECT COUNT(*) FROM staff_directory WHERE revoked_at IS NULL AND role = 'admin' AND id <> ");
            b.uuid(id);
            Ok(query(&b).fetch_one(&mut *conn).await?.try_get::<i64, _>(0)? > 0)
        }

        pub(super) async fn household_of(conn: &mut Conn, individual: Uuid) -> Result<(Vec<Uuid>, Vec<Uuid>), StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT DISTINCT {} FROM records WHERE kind = 'membership' AND deleted = FALSE AND owner_id = ", DIALECT.uuid_out("group_id")));
            b.uuid(individual);
            let groups: Vec<Uuid> = query(&b).fetch_all(&mut *conn).await?
                .iter().map(|r| parse_uuid(r.try_get(0)?).map(Option::unwrap_or_default)).collect::<Result<_, StorageError>>()?;
            let mut members = vec![individual];
            for group in &groups {
                let mut b = Builder::new(DIALECT, format!("SELECT {} FROM records WHERE kind = 'membership' AND deleted = FALSE AND group_id = ", DIALECT.uuid_out("owner_id")));
                b.uuid(*group);
                for row in query(&b).fetch_all(&mut *conn).await? {
                    if let Some(member) = parse_uuid(row.try_get(0)?)? {
                        if !members.contains(&member) {
                            members.push(member);
                        }
                    }
                }
            }
            Ok((groups, members))
        }

        pub(super) async fn audit_trail(conn: &mut Conn, record: Uuid) -> Result<Vec<AuditEntry>, StorageError> {
            let mut b = Builder::new(DIALECT, format!("SELECT {} FROM changes WHERE record_id = ", audit_columns(DIALECT)));
            b.uuid(record).push(" ORDER BY seq");
            let rows = query(&b).fetch_all(&mut *conn).await?;
            rows.iter()
                .map(|row| {
                    Ok(AuditEntry {
                        seq: row.try_get::<i64, _>(0)? as u64,
                        at: row.try_get(1)?,
                        rev: row.try_get::<i64, _>(2)? as u64,
                        op: row.try_get(3)?,
                        actor: row.try_get(4)?,
                        on_behalf_of: row.try_get(5)?,
                        before_sha256: row.try_get(6)?,
                        after_sha256: row.try_get(7)?,
                        request_id: row.try_get(8)?,
                        merged: row.try_get(9)?,
                    })
                })
                .collect()
        }

        fn decode_area(row: &<$db as sqlx::Database>::Row) -> Result<doorstep_domain::gazetteer::Area, StorageError> {
            let level: i32 = row.try_get(2)?;
            Ok(doorstep_domain::gazetteer::Area {
                code: row.try_get(0)?,
                parent: row.try_get(1)?,
                level: u8::try_from(level).map_err(|_| StorageError::Corrupt(format!("area level {level}")))?,
                name: row.try_get(3)?,
            })
        }

        const AREA_COLUMNS: &str = "SELECT code, parent_code, CAST(level AS INTEGER), name FROM admin_areas WHERE ";

        pub(super) async fn areas(conn: &mut Conn, within: Option<&str>, limit: usize) -> Result<Vec<doorstep_domain::gazetteer::Area>, StorageError> {
            let mut b = Builder::new(DIALECT, AREA_COLUMNS);
            match within {
                None => b.push("TRUE"),
                // Codes nest (a child's code is its parent's and one more part), so the subtree
                // is found by prefix and the ancestors are the code's own prefixes.
                Some(area) => {
                    let ancestors: Vec<String> = area.match_indices('.').map(|(at, _)| area[..at].to_owned()).collect();
                    let below = format!("{area}.");
                    b.push("code = ").text(area)
                        .push(" OR substr(code, 1, length(").text(below.clone()).push(")) = ").text(below)
                        .push(" OR ")
                        .in_texts("code", &ancestors.iter().collect::<Vec<_>>())
                }
            };
            b.push(" LIMIT ").int(i64::try_from(limit).unwrap_or(i64::MAX));
            query(&b).fetch_all(&mut *conn).await?.iter().map(decode_area).collect()
        }

        pub(super) async fn areas_named(conn: &mut Conn, codes: &[String]) -> Result<(Vec<doorstep_domain::gazetteer::Area>, bool), StorageError> {
            let mut b = Builder::new(DIALECT, AREA_COLUMNS);
            b.in_texts("code", &codes.iter().collect::<Vec<_>>());
            let found: Vec<_> = query(&b).fetch_all(&mut *conn).await?.iter().map(decode_area).collect::<Result<_, _>>()?;
            if !found.is_empty() {
                return Ok((found, true));
            }
            let any: i64 = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM (SELECT 1 FROM admin_areas LIMIT 1) AS one")
                .fetch_one(&mut *conn)
                .await?;
            Ok((found, any > 0))
        }

        /// Rows per INSERT: 4 binds each stays far below SQLite's limit on binds.
        const AREA_ROWS_PER_INSERT: usize = 1000;

        pub(super) async fn replace_areas(conn: &mut Conn, areas: &[doorstep_domain::gazetteer::Area], load: &$crate::storage::AreaLoad) -> Result<(), StorageError> {
            use $crate::storage::sql::{Cell, Col};
            sqlx::query::<$db>("DELETE FROM admin_areas").execute(&mut *conn).await?;
            for run in areas.chunks(AREA_ROWS_PER_INSERT) {
                let mut b = Builder::new(DIALECT, "INSERT INTO admin_areas (code, parent_code, level, name) ");
                b.rows(
                    &[Col::Text, Col::Text, Col::Int, Col::Text],
                    run.iter()
                        .map(|a| vec![Cell::from(a.code.as_str()), Cell::from(a.parent.clone()), Cell::from(i64::from(a.level)), Cell::from(a.name.as_str())])
                        .collect(),
                );
                query(&b).execute(&mut *conn).await?;
            }
            let mut b = Builder::new(DIALECT, "INSERT INTO admin_area_loads (id, loaded_by, loaded_at, areas, sha256) VALUES (");
            b.uuid(load.id).push(", ").text(&load.loaded_by).push(", ").time(timestamp(load.loaded_at))
                .push(", ").int(i64::try_from(load.areas).unwrap_or(i64::MAX)).push(", ").text(&load.sha256).push(")");
            query(&b).execute(&mut *conn).await?;
            Ok(())
        }

        /// A random id for this store, made once: sync cursors carry it so a client that
        /// points at a different (or rebuilt) registry is told to start over.
        pub(super) async fn store_id(conn: &mut Conn) -> Result<String, StorageError> {
            let fresh = Uuid::now_v7().to_string();
            let mut b = Builder::new(DIALECT, "INSERT INTO registry_meta (key, value) VALUES ('store_id', ");
            b.text(fresh).push(") ON CONFLICT (key) DO NOTHING");
            query(&b).execute(&mut *conn).await?;
            let id: String = sqlx::query_scalar::<$db, String>("SELECT value FROM registry_meta WHERE key = 'store_id'")
                .fetch_one(&mut *conn)
                .await?;
            Ok(id)
        }
        }
    };
}
pub(crate) use shared_store_impl;
