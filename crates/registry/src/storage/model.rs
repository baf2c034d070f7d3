//! What the store reads and writes: records as JSON plus the few indexed facts the server
//! queries on, and the shape of a transactional write.
//!
//! The store never interprets a record body; the HTTP layer checks it against the domain model
//! and derives its [`RecordIndex`] before writing.

use doorstep_domain::RecordKind;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// One record as stored, at its current revision.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub kind: RecordKind,
    pub id: Uuid,
    /// Revision of this record: 1 when created, +1 on each accepted change.
    pub rev: u64,
    /// Position of the change that produced this revision in the change feed.
    pub seq: u64,
    pub index: RecordIndex,
    pub deleted: bool,
    /// The record's JSON, with `rev` set to [`StoredRecord::rev`].
    pub body: serde_json::Value,
}

/// The facts about a record that access rules, lists and search need without parsing JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordIndex {
    /// The individual the record is about (for an individual: itself).
    pub owner_id: Option<Uuid>,
    /// The household the record belongs to (a group, or a membership of it).
    pub group_id: Option<Uuid>,
    /// Admin-area code the record is filed under; agents see their area and areas below it.
    pub area: Option<String>,
    /// The record it hangs off, e.g. the programme of a form or an application.
    pub parent_id: Option<Uuid>,
    /// Actor id of whoever created the record (kept across updates by the store).
    pub creator: String,
    /// Lower-case text searched by name (`q=`).
    pub search_text: String,
    /// Exact-match lookup keys (`phone:+2547…`, `id:NATIONAL_ID:123`). Keys starting with
    /// [`UNIQUE_KEY_PREFIX`] may belong to one live record only: that is how one-head-per-household
    /// and one-preferred-account are enforced inside the writing transaction.
    pub keys: Vec<String>,
    /// Where the record is in its workflow, for the review desk: an application's status, a
    /// document's verification status. Written with every write (worked out from the body),
    /// not read back.
    pub state: Option<String>,
    /// Since when (server time) it has been in that state: an application's last status
    /// change; `None` for a draft.
    pub state_since: Option<time::OffsetDateTime>,
}

/// Keys with this prefix are unique among live records.
pub const UNIQUE_KEY_PREFIX: &str = "u:";

/// What the writer believes about the record's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The record must not exist yet (a create).
    Absent,
    /// The record must be at exactly this revision (`If-Match`).
    Rev(u64),
}

/// One record to write in a [`Store::commit`](super::Store::commit).
#[derive(Debug, Clone)]
pub struct Write {
    pub kind: RecordKind,
    pub id: Uuid,
    pub expect: Expect,
    /// The full new body; the store sets its `rev`.
    pub body: serde_json::Value,
    pub index: RecordIndex,
    /// A soft delete: the record stays (so the deletion syncs) but is marked.
    pub deleted: bool,
    /// For an individual whose duplicate check ran ([`crate::duplicates`]): what it found.
    /// The record's duplicate flags become exactly these, in the same statement as the record
    /// (so a stored record never lacks its flags); `None` leaves its flags as they are.
    pub duplicate_check: Option<Vec<doorstep_domain::duplicates::Match>>,
    /// For a notification: the messages beyond the app it sends (one per channel), kept in the
    /// outbox in the same statement as the notification, so they exist exactly when it does.
    pub outbound: Vec<Outbound>,
}

/// One message beyond the app, as the outbox keeps it until it is delivered (see
/// [`crate::outbound`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// Derived from the notification and the channel ([`crate::outbound::message_id`]): the
    /// message's id at the receiver, the same on every attempt.
    pub id: Uuid,
    pub channel: OutboundChannelKind,
    /// The e-mail address, or the phone number (E.164) for the webhook.
    pub address: String,
    /// The BCP 47 tag of the language the message is written in.
    pub language: String,
    pub subject: String,
    pub body: String,
}

/// The channels a message beyond the app can go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundChannelKind {
    /// E-mail over SMTP.
    Email,
    /// An HTTP POST to the configured webhook (an SMS gateway).
    Webhook,
}

impl OutboundChannelKind {
    pub const ALL: [OutboundChannelKind; 2] =
        [OutboundChannelKind::Email, OutboundChannelKind::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboundChannelKind::Email => "email",
            OutboundChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// An outbox row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub recipient_id: Uuid,
    pub area: Option<String>,
    pub channel: OutboundChannelKind,
    pub address: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
}

pub use doorstep_domain::api::OutboxStatus;

/// How an attempt at delivering a claimed outbox row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    Delivered,
    /// Try again at this time.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// Give up: attempts used up, or the receiver refused it for good.
    Failed {
        error: String,
    },
}

/// A page of the outbox for staff, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxQuery {
    pub visibility: Visibility,
    pub status: Option<OutboxStatus>,
    pub recipient: Option<Uuid>,
    /// Only rows before this (created_at, id), newest first.
    pub before: Option<(OffsetDateTime, Uuid)>,
    pub limit: u32,
}

/// A passed liveness check's due day, as the scheduler reads it ([`Store::liveness_due`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivenessDue {
    pub check: Uuid,
    pub individual: Uuid,
    pub due: time::Date,
    /// The check's last day of grace, where it has one.
    pub overdue_after: Option<time::Date>,
}

/// A live registrant none of whose liveness checks has passed, as the scheduler reads them
/// ([`Store::never_checked`](super::Store::never_checked)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeverChecked {
    pub individual: Uuid,
    /// When the registry first recorded them (server time).
    pub registered_at: time::OffsetDateTime,
}

/// A draft application to a programme whose applications close soon, as the scheduler reads it
/// ([`Store::drafts_closing`](super::Store::drafts_closing)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftClosing {
    pub application: Uuid,
    pub applicant: Uuid,
    pub programme: Uuid,
    pub closes_on: time::Date,
}

/// A liveness step-up started ([`Store::challenge_create`]): single use, bound to the registrant
/// and to the caller who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivenessChallengeRow {
    pub id: Uuid,
    pub individual_id: Uuid,
    /// The asking caller's actor id; only they may answer it.
    pub requested_by: String,
    pub issuer: String,
    pub nonce: String,
    /// The acr values required, space-separated; empty: a fresh login is enough.
    pub acr_values: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// Who is writing, when, and how to remember the answer.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// Actor id of the caller, e.g. `agent:wanjiru`.
    pub actor: String,
    /// For an agent acting for a registrant: that registrant's individual id.
    pub on_behalf_of: Option<String>,
    /// Server time of the write.
    pub at: OffsetDateTime,
    /// Idempotency key or sync mutation id, copied into the change log.
    pub request_id: Option<String>,
    /// Remember the response under this key, in the same transaction as the write.
    pub idempotency: Option<IdempotencyClaim>,
    /// The write was made on an older revision and merged with later changes (a "soft"
    /// conflict): marked in the change log so staff can review it.
    pub merged: bool,
}

impl WriteContext {
    /// A plain write by `actor`, now.
    pub fn by(actor: impl Into<String>) -> Self {
        WriteContext {
            actor: actor.into(),
            on_behalf_of: None,
            at: OffsetDateTime::now_utc(),
            request_id: None,
            idempotency: None,
            merged: false,
        }
    }
}

/// An `Idempotency-Key` and what the request looked like.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Keys are per caller: the actor id.
    pub scope: String,
    pub key: String,
    /// SHA-256 of method, path and body: a reused key with another request is refused.
    pub fingerprint: String,
    /// HTTP status to replay.
    pub status: u16,
    /// The body to replay; `None` means the first record written.
    pub response: Option<serde_json::Value>,
}

/// A remembered response to a request with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub fingerprint: String,
    pub status: u16,
    pub body: serde_json::Value,
}

/// Why a commit wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{} {} is at revision {}, not {expected}", .current.kind, .current.id, .current.rev)]
    Stale {
        expected: u64,
        current: Box<StoredRecord>,
    },
    #[error("{} {} exists already", .current.kind, .current.id)]
    Exists { current: Box<StoredRecord> },
    #[error("there is no {kind} {id}")]
    Missing { kind: RecordKind, id: Uuid },
    #[error("{key} already belongs to record {holder}")]
    Duplicate { key: String, holder: Uuid },
    #[error("the idempotency key was used before")]
    Replay(StoredResponse),
    #[error(transparent)]
    Storage(#[from] super::StorageError),
}

impl From<sqlx::Error> for CommitError {
    fn from(e: sqlx::Error) -> Self {
        CommitError::Storage(e.into())
    }
}

/// Who may see which records, as the store filters them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Staff and admins.
    All,
    /// An agent: records filed under this area or an area below it (`KE.30` covers `KE.30.2`).
    Area(String),
    /// Staff the staff directory limits to some areas: records under any of them.
    Areas(Vec<String>),
    /// A citizen: their own records, their households' shared records, and what they created.
    Citizen(CitizenScope),
    /// Only configuration kinds (programmes, forms, ID types), e.g. a citizen not yet linked.
    PublicOnly,
}

/// The records a citizen may see, as ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CitizenScope {
    /// Their own individual record, if linked.
    pub me: Option<Uuid>,
    /// Their actor id, for records they created.
    pub actor: String,
    /// Households they are a current member of.
    pub groups: Vec<Uuid>,
    /// Individuals in those households (themselves included).
    pub members: Vec<Uuid>,
}

/// Kinds anyone signed in may read: the programme catalogue and its forms.
pub const PUBLIC_KINDS: [RecordKind; 3] = [
    RecordKind::Programme,
    RecordKind::FormDefinition,
    RecordKind::IdType,
];

/// Kinds a citizen sees for the whole household rather than only for themself.
pub const HOUSEHOLD_KINDS: [RecordKind; 4] = [
    RecordKind::Individual,
    RecordKind::Contact,
    RecordKind::Group,
    RecordKind::Membership,
];

/// A page request over one kind.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub kind: RecordKind,
    pub visibility: Visibility,
    /// Only records after this id (the cursor: ids are UUIDv7, so this is creation order).
    pub after: Option<Uuid>,
    pub limit: u32,
    pub owner_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    /// Case-insensitive substring of the search text.
    pub text: Option<String>,
    /// Exact lookup key, e.g. `phone:+254700000001`.
    pub key: Option<String>,
    pub include_deleted: bool,
}

impl ListQuery {
    pub fn new(kind: RecordKind, visibility: Visibility, limit: u32) -> Self {
        ListQuery {
            kind,
            visibility,
            after: None,
            limit,
            owner_id: None,
            group_id: None,
            parent_id: None,
            text: None,
            key: None,
            include_deleted: false,
        }
    }
}

/// A page of the review queue: live applications in some states, oldest state first (see
/// [`Store::review_queue`](super::Store::review_queue)).
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub visibility: Visibility,
    /// Application statuses (wire names), at least one.
    pub states: Vec<String>,
    pub programme: Option<Uuid>,
    /// Filed under this area code or below.
    pub area: Option<String>,
    /// Only those in their state since before this instant.
    pub before: Option<time::OffsetDateTime>,
    /// The page continues after this (state since, id).
    pub after: Option<(time::OffsetDateTime, Uuid)>,
    pub limit: u32,
}

/// Applicants with a live application to a programme (see
/// [`Store::applicants`](super::Store::applicants)), in id order.
#[derive(Debug, Clone)]
pub struct ApplicantQuery {
    pub visibility: Visibility,
    pub programme: Uuid,
    pub state: Option<String>,
    pub area: Option<String>,
    pub after: Option<Uuid>,
    pub limit: u32,
}

/// Where to look for likely duplicates: the records holding any of `keys`, at most `limit` of
/// them (see [`Store::owners_by_keys`](super::Store::owners_by_keys)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLookup {
    pub keys: Vec<String>,
    pub limit: u32,
}

/// A duplicate flag as stored (see `GET /v1/duplicates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFlag {
    pub record_id: Uuid,
    pub candidate_id: Uuid,
    pub score: u8,
    /// The reasons, as JSON (`doorstep_domain::duplicates::Reason`s).
    pub reasons: serde_json::Value,
    /// RFC 3339 UTC.
    pub flagged_at: String,
    pub flagged_for: String,
}

/// One entry of a record's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    /// Server time, RFC 3339.
    pub at: String,
    pub rev: u64,
    /// `create`, `update` or `delete`.
    pub op: String,
    pub actor: String,
    pub on_behalf_of: Option<String>,
    /// SHA-256 of the record body before the change (none for a create).
    pub before_sha256: Option<String>,
    pub after_sha256: String,
    pub request_id: Option<String>,
    /// Whether this was a stale sync write merged automatically (a "soft" conflict).
    pub merged: bool,
}

/// One replacement of the gazetteer, as its audit trail keeps it (`admin_area_loads`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaLoad {
    pub id: uuid::Uuid,
    /// The admin's actor id.
    pub loaded_by: String,
    pub loaded_at: time::OffsetDateTime,
    /// How many areas the new gazetteer holds.
    pub areas: usize,
    /// SHA-256 of the gazetteer as `GET /v1/areas` answers it to an admin (its ETag).
    pub sha256: String,
}
