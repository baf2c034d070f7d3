//! The registry's HTTP API contract: every route's path and every JSON body that crosses it.
//!
//! The registry's router and the app's registry client both take their paths and bodies from
//! here, so a renamed field or a moved route fails to compile on both sides instead of failing
//! in a system test. The sync bodies live in [`crate::sync`] and the health report in
//! [`crate::wire`]; they are re-exported here so this module lists the whole contract.
//!
//! Paths are axum route templates (`{id}` for a path parameter) relative to the server root;
//! the functions next to them fill the parameters in. A client joining them to a base URL that
//! has a path of its own drops the leading `/` ([`relative`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::application::ApplicationStatus;

pub use crate::gazetteer::{Area, AreaList};
pub use crate::review::{
    AccountDecision, AnnouncementReceipt, AnnouncementRequest, AnnouncementText, DocumentDecision,
    ReviewCase, ReviewQueueItem, ReviewQueuePage, ReviewQueueQuery,
};
pub use crate::sync::{PullResponse, PushRequest, PushResponse};
pub use crate::wire::HealthReport;

/// Route templates, relative to the server root.
pub mod paths {
    use uuid::Uuid;

    /// `GET`: [`crate::wire::HealthReport`]. Public.
    pub const HEALTH: &str = "/health";
    /// `GET`: 204 when the database answers. Public.
    pub const READY: &str = "/ready";
    /// `GET`: the OpenAPI document. Public.
    pub const OPENAPI: &str = "/openapi.json";
    /// `GET`: [`super::Me`].
    pub const ME: &str = "/v1/me";
    /// `GET ?q=&limit=`: a [`super::Page`] of individuals.
    pub const SEARCH: &str = "/v1/search";
    /// `POST` a [`super::Transition`] (with `Idempotency-Key`, optionally `If-Match`).
    pub const TRANSITIONS: &str = "/v1/applications/{id}/transitions";
    /// `POST` a [`crate::sync::PushRequest`], answered by a [`crate::sync::PushResponse`].
    pub const SYNC_PUSH: &str = "/v1/sync/push";
    /// `GET` with a [`super::PullQuery`]: a [`crate::sync::PullResponse`].
    pub const SYNC_PULL: &str = "/v1/sync/pull";
    /// `GET` a [`super::Page`], `POST` a record.
    pub const COLLECTION: &str = "/v1/{collection}";
    /// `GET`, `PUT`, `DELETE` one record.
    pub const RECORD: &str = "/v1/{collection}/{id}";
    /// `GET` one record's audit trail.
    pub const RECORD_HISTORY: &str = "/v1/{collection}/{id}/history";
    /// `GET` a document's bytes.
    pub const DOCUMENT_CONTENT: &str = "/v1/documents/{id}/content";
    /// tus 1.0: `POST` creates an upload, `OPTIONS` describes the server.
    pub const UPLOADS: &str = "/v1/uploads";
    /// tus 1.0: `HEAD`, `PATCH`, `GET`, `DELETE` one upload.
    pub const UPLOAD: &str = "/v1/uploads/{id}";
    /// `POST` an [`super::ExchangeRequest`]: the provider's token response. Public.
    pub const TOKEN_EXCHANGE: &str = "/v1/auth/token-exchange";
    /// `POST` with the provider's access token as bearer: the provider's userinfo. Public.
    pub const USERINFO: &str = "/v1/auth/userinfo";
    /// `GET` with a [`super::DuplicatesQuery`]: a [`super::DuplicateFlagPage`] of the likely
    /// duplicates the registry's check flagged. Staff and admins only.
    pub const DUPLICATES: &str = "/v1/duplicates";
    /// `POST` a [`super::DuplicateCheck`]: the people already registered whom someone about to
    /// be registered is likely to be ([`super::DuplicateCheckAnswer`]). Agents, staff, admins.
    pub const DUPLICATES_CHECK: &str = "/v1/duplicates/check";
    /// Admins: revoke a field agent's device or account (`POST`), list revocations (`GET`).
    pub const REVOCATIONS: &str = "/v1/revocations";
    /// The staff directory: `GET` a [`super::StaffPage`] (staff and admins), `POST` a
    /// [`super::StaffGrant`] (admins).
    pub const STAFF: &str = "/v1/staff";
    /// One directory entry: `PUT` a [`super::StaffChange`], `DELETE` to revoke (admins).
    pub const STAFF_ENTRY: &str = "/v1/staff/{id}";
    /// The gazetteer: `GET` an [`crate::gazetteer::AreaList`] (every signed-in caller; an agent
    /// gets their area, its ancestors and its subtree), with `ETag` / `If-None-Match`; `PUT` one
    /// to replace it whole (admins).
    pub const AREAS: &str = "/v1/areas";
    /// The review desk's queue (staff and admins): `GET` with a
    /// [`crate::review::ReviewQueueQuery`], a [`crate::review::ReviewQueuePage`].
    pub const REVIEW_QUEUE: &str = "/v1/review/queue";
    /// One application as a reviewer opens it: `GET` a [`crate::review::ReviewCase`].
    pub const REVIEW_APPLICATION: &str = "/v1/review/applications/{id}";
    /// `POST` a [`crate::review::DocumentDecision`]: the document, verified or rejected.
    pub const REVIEW_DOCUMENT: &str = "/v1/review/documents/{id}/verification";
    /// `POST` an [`crate::review::AccountDecision`]: the account, verified or failed.
    pub const REVIEW_ACCOUNT: &str = "/v1/review/financial-accounts/{id}/verification";
    /// `POST` an [`crate::review::AnnouncementRequest`]: an
    /// [`crate::review::AnnouncementReceipt`].
    pub const ANNOUNCEMENTS: &str = "/v1/review/announcements";
    /// Messages beyond the app and how their delivery went: `GET` with an
    /// [`super::OutboxListQuery`], an [`super::OutboxPage`] (staff and admins; no message text).
    pub const OUTBOX: &str = "/v1/outbox";
    /// `POST` a [`super::LivenessChallengeRequest`]: a [`super::LivenessChallenge`], the start of
    /// a liveness step-up for one registrant (the caller themself, or for an agent or staff a
    /// person they serve).
    pub const LIVENESS_CHALLENGES: &str = "/v1/liveness/challenges";
    /// `POST` a [`super::LivenessProof`] for a challenge: the registry verifies the step-up
    /// authentication and answers with the recorded [`crate::liveness::LivenessCheck`].
    pub const LIVENESS_PROOF: &str = "/v1/liveness/challenges/{id}/proof";

    /// Every route of the API, for tests that keep the server and its document in step.
    pub const ALL: &[&str] = &[
        HEALTH,
        READY,
        OPENAPI,
        ME,
        SEARCH,
        TRANSITIONS,
        SYNC_PUSH,
        SYNC_PULL,
        COLLECTION,
        RECORD,
        RECORD_HISTORY,
        DOCUMENT_CONTENT,
        UPLOADS,
        UPLOAD,
        TOKEN_EXCHANGE,
        USERINFO,
        DUPLICATES,
        DUPLICATES_CHECK,
        REVOCATIONS,
        STAFF,
        STAFF_ENTRY,
        AREAS,
        REVIEW_QUEUE,
        REVIEW_APPLICATION,
        REVIEW_DOCUMENT,
        REVIEW_ACCOUNT,
        ANNOUNCEMENTS,
        OUTBOX,
        LIVENESS_CHALLENGES,
        LIVENESS_PROOF,
    ];

    /// `/v1/liveness/challenges/<id>/proof`.
    pub fn liveness_proof(challenge: Uuid) -> String {
        LIVENESS_PROOF.replace("{id}", &challenge.to_string())
    }

    /// `/v1/review/applications/<id>`.
    pub fn review_application(application: Uuid) -> String {
        REVIEW_APPLICATION.replace("{id}", &application.to_string())
    }

    /// `/v1/review/documents/<id>/verification`.
    pub fn review_document(document: Uuid) -> String {
        REVIEW_DOCUMENT.replace("{id}", &document.to_string())
    }

    /// `/v1/review/financial-accounts/<id>/verification`.
    pub fn review_account(account: Uuid) -> String {
        REVIEW_ACCOUNT.replace("{id}", &account.to_string())
    }

    /// `/v1/staff/<id>`.
    pub fn staff_entry(id: Uuid) -> String {
        STAFF_ENTRY.replace("{id}", &id.to_string())
    }

    /// `/v1/applications/<id>/transitions`.
    pub fn transitions(application: Uuid) -> String {
        TRANSITIONS.replace("{id}", &application.to_string())
    }

    /// `/v1/<collection>`, e.g. `/v1/individuals`.
    pub fn collection(collection: &str) -> String {
        COLLECTION.replace("{collection}", collection)
    }

    /// `/v1/<collection>/<id>`.
    pub fn record(collection: &str, id: Uuid) -> String {
        RECORD
            .replace("{collection}", collection)
            .replace("{id}", &id.to_string())
    }

    /// `/v1/<collection>/<id>/history`.
    pub fn record_history(collection: &str, id: Uuid) -> String {
        RECORD_HISTORY
            .replace("{collection}", collection)
            .replace("{id}", &id.to_string())
    }

    /// `/v1/documents/<id>/content`.
    pub fn document_content(document: Uuid) -> String {
        DOCUMENT_CONTENT.replace("{id}", &document.to_string())
    }

    /// `/v1/uploads/<id>` (the registry's upload ids are opaque strings).
    pub fn upload(id: &str) -> String {
        UPLOAD.replace("{id}", id)
    }
}

/// The URL segments of the `/v1/{collection}` collections the app calls by name (the registry's
/// `Collection` enum holds every one; a registry test checks these are among them).
pub mod collections {
    /// Programmes (admins write).
    pub const PROGRAMMES: &str = "programmes";
    /// Form definitions, one record per published version (admins write).
    pub const FORMS: &str = "forms";
}

/// Request and response headers the API defines (beyond HTTP's own).
pub mod headers {
    /// A client-chosen key that makes a mutation safe to resend.
    pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
    /// tus 1.0: the protocol version, on every tus request and response.
    pub const TUS_RESUMABLE: &str = "Tus-Resumable";
    /// The tus version the registry speaks.
    pub const TUS_VERSION: &str = "1.0.0";
    /// tus 1.0: the upload's total size (creation).
    pub const UPLOAD_LENGTH: &str = "Upload-Length";
    /// tus 1.0: where the bytes of a `PATCH` start, and how many the server has (`HEAD`, `PATCH`).
    pub const UPLOAD_OFFSET: &str = "Upload-Offset";
    /// tus 1.0: `key base64(value)` pairs, comma-separated (creation).
    pub const UPLOAD_METADATA: &str = "Upload-Metadata";
    /// tus 1.0: the body type of a `PATCH`.
    pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
    /// On the answer to a REST write of an individual (create, or a change of names, birth
    /// date, IDs or "not a duplicate of"): the registry's duplicate check's findings, a JSON
    /// array of [`crate::duplicates::Match`] (ASCII, best first). Absent when it found nobody.
    pub const POSSIBLE_DUPLICATES: &str = "Doorstep-Possible-Duplicates";
    /// On every request from the app: this installation's random id (no personal data), so the
    /// registry can stop serving one lost or handed-over device.
    pub const DEVICE: &str = "Doorstep-Device";
}

/// A path without its leading `/`, to join to a base URL that may have a path of its own
/// (`https://example.org/registry/` + `v1/sync/push`).
pub fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// Body of `POST /v1/applications/{id}/transitions`: a requested status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Transition {
    pub to: ApplicationStatus,
    /// Why; required when asking for more information and when rejecting. Shown to the applicant.
    #[serde(default)]
    pub note: Option<String>,
}

/// Body of `POST /v1/auth/token-exchange`: what the app sends to have the registry redeem its
/// authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExchangeRequest {
    /// The authorization code from the provider's redirect.
    pub code: String,
    /// The PKCE verifier (RFC 7636) of the sign-in attempt that produced the code.
    pub code_verifier: String,
    /// The loopback redirect URI used in the authorization request, exactly.
    pub redirect_uri: String,
    /// RFC 8707 resource indicator, when the app asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// Body of `POST /v1/liveness/challenges`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LivenessChallengeRequest {
    /// Whose liveness is checked: an individual's record id. A citizen may leave it out (their
    /// own record); an agent or staff member names the person they assist.
    #[serde(default)]
    pub individual_id: Option<Uuid>,
}

/// A liveness step-up about to start: what the app puts in its authorization request. Single
/// use, bound to the registrant and to whoever asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LivenessChallenge {
    pub id: Uuid,
    /// The `nonce` to send in the authorization request; the ID token must carry it back.
    pub nonce: String,
    pub individual_id: Uuid,
    /// The identity provider the person must authenticate at (its issuer URL).
    pub issuer: String,
    /// The `acr_values` to ask for, best first; empty when the provider has none and only a fresh
    /// login (`prompt=login`, `max_age=0`) is required.
    pub acr_values: Vec<String>,
    /// `max_age` to ask for (always 0: the person authenticates now).
    pub max_age: u64,
    /// How the proof is sent: `id_token` (the app redeems the code itself) or `code` (the
    /// registry redeems it with its own client, `[signin]`).
    pub proof: LivenessProofKind,
    /// RFC 3339: authentication before this time does not count (minus a small clock skew).
    pub not_before: String,
    /// RFC 3339: the proof must arrive before this time.
    pub expires: String,
}

/// Which [`LivenessProof`] a challenge expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LivenessProofKind {
    IdToken,
    Code,
}

/// Body of `POST /v1/liveness/challenges/{id}/proof`: either the ID token the app received
/// (providers the app redeems with), or the authorization code with its PKCE verifier and
/// redirect URI (providers the registry redeems with, eSignet's `private_key_jwt`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LivenessProof {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// A page of records: what `GET /v1/{collection}` and `GET /v1/search` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page {
    /// The records, ordered by id (ids are time-ordered UUIDv7, so oldest first).
    pub items: Vec<serde_json::Value>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

/// Filters of `GET /v1/{collection}`: which records, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListParams {
    /// Cursor: only records after this id (the `next_after` of the previous page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub after: Option<Uuid>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
    /// Records about this individual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub owner: Option<Uuid>,
    /// Records of this household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub group: Option<Uuid>,
    /// Records hanging off this one (forms of a programme, documents of an application…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub parent: Option<Uuid>,
    /// Name contains (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub q: Option<String>,
    /// Include deleted records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub include_deleted: Option<bool>,
}

/// Query of `GET /v1/sync/pull`: where a pull continues.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PullQuery {
    /// The `cursor` of the previous page; absent to start from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub cursor: Option<String>,
    /// Records per page, 1 to 1000 (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 1000)
    )]
    pub limit: Option<u32>,
}

/// Query of `GET /v1/duplicates`: where the page starts, and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DuplicatesQuery {
    /// The `next_after` of the previous page; absent to start from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub after: Option<String>,
    /// Flags per page, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
}

/// One likely duplicate the registry's check flagged for staff: `record_id` was saved while
/// `candidate_id` was already registered, and the two are likely one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateFlag {
    /// The individual whose saving raised the flag.
    pub record_id: Uuid,
    /// The individual already registered that it is likely to be.
    pub candidate_id: Uuid,
    /// 0 to 100 (see [`crate::duplicates::Match::score`]).
    pub score: u8,
    pub reasons: Vec<crate::duplicates::Reason>,
    /// Server time of the check that first raised it, RFC 3339 UTC.
    pub flagged_at: String,
    /// Who saved the record (and was told), e.g. `agent:wanjiru`.
    pub flagged_for: String,
}

/// Body of `POST /v1/duplicates/check`: someone an agent is about to register, as the record
/// they will be (the registry compares them with everyone registered, in every area).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCheck {
    /// The individual record as it will be saved (its `id` is excluded from the matches).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::individual::Individual))]
    pub person: serde_json::Value,
    /// Their phone numbers, E.164 (at most 10).
    #[serde(default)]
    pub phones: Vec<String>,
}

/// Answer of `POST /v1/duplicates/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCheckAnswer {
    /// Best first; ids, scores and what agrees, never another person's details.
    pub matches: Vec<crate::duplicates::Match>,
}

/// A page of open duplicate flags (both people still registered), ordered by record, then
/// candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateFlagPage {
    pub items: Vec<DuplicateFlag>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// Where a message beyond the app (e-mail, SMS through the webhook) is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum OutboxStatus {
    /// Waiting for its first attempt, or for a retry at `next_attempt_at`.
    Pending,
    /// A registry process is sending it now (it becomes pending again if that process stops).
    Sending,
    /// The receiver took it.
    Delivered,
    /// Given up: every attempt failed, or the receiver refused it for good (`last_error`).
    Failed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Delivered,
        OutboxStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Query of `GET /v1/outbox`: which messages, where the page starts, and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OutboxListQuery {
    /// Only messages in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub status: Option<OutboxStatus>,
    /// Only messages to this individual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub recipient: Option<Uuid>,
    /// The `next_before` of the previous page; absent to start with the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub before: Option<String>,
    /// Messages per page, 1 to 200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 200)
    )]
    pub limit: Option<u32>,
}

/// One message beyond the app as staff see it: to whom, by which channel, how delivery went.
/// Never its text (the notification it carries is the person's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    /// The message's id, also its id at the receiver (e-mail `Message-ID`, webhook
    /// `Idempotency-Key`).
    pub id: Uuid,
    /// The notification it carries.
    pub notification_id: Uuid,
    /// The individual it is addressed to.
    pub recipient_id: Uuid,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address or phone number it goes to.
    pub address: String,
    pub status: OutboxStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending), RFC 3339 UTC.
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// A page of the outbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxPage {
    pub items: Vec<OutboxEntry>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next_before: Option<String>,
}

/// Body of `POST /v1/revocations`: stop serving one device, or one agent's account everywhere.
/// Exactly one of `device` and `agent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevocationRequest {
    /// The device's id, as it sends it in `Doorstep-Device`.
    #[serde(default)]
    pub device: Option<Uuid>,
    /// The agent's actor id, e.g. `agent:wanjiru` (as the registry's audit trail shows it).
    #[serde(default)]
    pub agent: Option<String>,
    /// Why, in words the agent will read on the device (lost, handed over, left the service).
    pub reason: String,
}

/// A revocation as kept (the list is the audit trail: who revoked what, when and why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revocation {
    pub id: Uuid,
    /// `device:<uuid>` or `agent:<subject>`.
    pub target: String,
    pub reason: String,
    /// The admin who revoked it.
    pub revoked_by: String,
    /// RFC 3339 UTC.
    pub revoked_at: String,
}

/// Every revocation, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevocationList {
    pub items: Vec<Revocation>,
}

/// Body of `GET /v1/me`: who the caller is, as the registry sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Me {
    pub actor: String,
    pub role: CallerRole,
    pub area: Option<String>,
    /// A citizen's own individual record, once linked.
    pub individual_id: Option<Uuid>,
    /// Agents: the registry refuses their writes for a person whose consent is not on record.
    #[serde(default)]
    pub consent_required: bool,
    /// Staff limited to some areas (from the staff directory); empty: every area.
    #[serde(default)]
    pub areas: Vec<String>,
}

/// What a caller is to the registry, worked out on every request from their token and the
/// staff directory. It decides which of the app's sections they get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum CallerRole {
    /// A registrant working on their own record (and their household's).
    Citizen,
    /// A field agent registering and updating people in one area.
    Agent,
    /// Programme staff: review applications, verify documents and accounts.
    Staff,
    /// A registry administrator: programmes, forms and the staff directory.
    Admin,
}

/// A role the staff directory gives. Citizens are not listed: anyone an issuer vouches for is
/// one where that issuer grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum StaffRole {
    /// A field agent: exactly one area.
    Agent,
    /// Programme staff: some areas, or every area when none is given.
    Staff,
    /// A registry administrator: every area.
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [StaffRole::Agent, StaffRole::Staff, StaffRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Agent => "agent",
            StaffRole::Staff => "staff",
            StaffRole::Admin => "admin",
        }
    }

    /// Case-insensitive; `None` for any other name (citizen included).
    pub fn parse(name: &str) -> Option<StaffRole> {
        StaffRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether `areas` suit this role: an agent works in exactly one area, an admin in all.
    /// The message says what to send instead.
    pub fn check_areas(self, areas: &[String]) -> Result<(), String> {
        if let Some(bad) = areas.iter().find(|a| {
            a.trim().is_empty()
                || a.trim() != a.as_str()
                || a.len() > 64
                || a.chars().any(char::is_control)
        }) {
            return Err(format!(
                "`{bad}` is not an area code: give codes such as KE.30, without spaces around them, at most 64 characters."
            ));
        }
        let mut sorted: Vec<&String> = areas.iter().collect();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != areas.len() {
            return Err("An area is listed twice; list each area once.".into());
        }
        match (self, areas.len()) {
            (StaffRole::Agent, 1) | (StaffRole::Staff, _) | (StaffRole::Admin, 0) => Ok(()),
            (StaffRole::Agent, _) => {
                Err("An agent works in exactly one area: give one area code.".into())
            }
            (StaffRole::Admin, _) => {
                Err("An administrator works across every area: give no areas.".into())
            }
        }
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the staff directory, as kept: who (issuer with subject or verified e-mail),
/// which role and areas, and the trail of who granted, changed and revoked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffEntry {
    pub id: Uuid,
    /// The identity provider, exactly as its tokens' `iss`.
    pub issuer: String,
    /// The person's `sub` at that provider; absent when matched by e-mail.
    pub subject: Option<String>,
    /// A verified e-mail address (lower case); absent when matched by subject.
    pub email: Option<String>,
    pub role: StaffRole,
    pub areas: Vec<String>,
    /// Actor id of whoever granted it (an admin, or `cli:<user>` on the server).
    pub granted_by: String,
    /// RFC 3339 UTC.
    pub granted_at: String,
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
    /// Set when revoked: the entry is kept as the trail and no longer gives a role.
    pub revoked_by: Option<String>,
    pub revoked_at: Option<String>,
}

/// Body of `POST /v1/staff`: give an identity a role. Exactly one of `subject` and `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffGrant {
    pub issuer: String,
    #[serde(default)]
    pub subject: Option<String>,
    /// Matched only against a token whose `email_verified` is true.
    #[serde(default)]
    pub email: Option<String>,
    pub role: StaffRole,
    #[serde(default)]
    pub areas: Vec<String>,
}

/// Body of `PUT /v1/staff/{id}`: the entry's new role and areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffChange {
    pub role: StaffRole,
    #[serde(default)]
    pub areas: Vec<String>,
}

/// Query of `GET /v1/staff`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StaffQuery {
    /// The `next_after` of the previous page; absent to start from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub after: Option<Uuid>,
    /// Entries per page, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 500)
    )]
    pub limit: Option<u32>,
    /// Also list revoked entries (the trail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub include_revoked: Option<bool>,
}

/// One page of the staff directory, oldest grant first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffPage {
    pub items: Vec<StaffEntry>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_fill_their_parameters() {
        let id = Uuid::parse_str("0190b6a2-8a3e-7c1d-9f00-1234567890ab").unwrap();
        assert_eq!(
            paths::transitions(id),
            "/v1/applications/0190b6a2-8a3e-7c1d-9f00-1234567890ab/transitions"
        );
        assert_eq!(paths::collection("individuals"), "/v1/individuals");
        assert_eq!(
            paths::record("contacts", id),
            "/v1/contacts/0190b6a2-8a3e-7c1d-9f00-1234567890ab"
        );
        assert_eq!(
            paths::record_history("contacts", id),
            "/v1/contacts/0190b6a2-8a3e-7c1d-9f00-1234567890ab/history"
        );
        assert_eq!(
            paths::document_content(id),
            "/v1/documents/0190b6a2-8a3e-7c1d-9f00-1234567890ab/content"
        );
        assert_eq!(paths::upload("abc"), "/v1/uploads/abc");
        assert_eq!(
            paths::review_document(id),
            "/v1/review/documents/0190b6a2-8a3e-7c1d-9f00-1234567890ab/verification"
        );
        assert_eq!(
            paths::review_account(id),
            "/v1/review/financial-accounts/0190b6a2-8a3e-7c1d-9f00-1234567890ab/verification"
        );
        assert_eq!(
            paths::review_application(id),
            "/v1/review/applications/0190b6a2-8a3e-7c1d-9f00-1234567890ab"
        );
        assert_eq!(relative(paths::SYNC_PUSH), "v1/sync/push");
    }

    #[test]
    fn every_path_is_rooted_and_listed_once() {
        for (i, p) in paths::ALL.iter().enumerate() {
            assert!(p.starts_with('/'), "{p}");
            assert!(!paths::ALL[..i].contains(p), "{p} listed twice");
        }
    }

    #[test]
    fn transition_wire_format_is_stable() {
        let t = Transition {
            to: ApplicationStatus::Submitted,
            note: None,
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"to": "submitted", "note": null})
        );
        let back: Transition = serde_json::from_value(json!({"to": "rejected"})).unwrap();
        assert_eq!(back.to, ApplicationStatus::Rejected);
        assert!(serde_json::from_value::<Transition>(json!({"to": "draft", "x": 1})).is_err());
    }

    #[test]
    fn exchange_request_leaves_out_an_absent_resource() {
        let r = ExchangeRequest {
            code: "c".into(),
            code_verifier: "v".into(),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            resource: None,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"code": "c", "code_verifier": "v", "redirect_uri": "http://127.0.0.1:1/cb"})
        );
        let with = ExchangeRequest {
            resource: Some("https://registry.example.org".into()),
            ..r
        };
        let back: ExchangeRequest =
            serde_json::from_value(serde_json::to_value(&with).unwrap()).unwrap();
        assert_eq!(back, with);
    }

    #[test]
    fn page_and_me_wire_format_is_stable() {
        let page = Page {
            items: vec![json!({"a": 1})],
            next_after: None,
        };
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            json!({"items": [{"a": 1}], "next_after": null})
        );
        let me: Me = serde_json::from_value(
            json!({"actor": "a", "role": "citizen", "area": null, "individual_id": null}),
        )
        .unwrap();
        assert_eq!(me.role, CallerRole::Citizen);
    }
}
