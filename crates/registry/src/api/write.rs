//! The one write pipeline. Every path that changes a record — REST create, replace and delete
//! ([`super::records`]) and the create, update and delete mutations of a sync push
//! ([`super::sync`]) — turns its request into a [`WriteRequest`] and calls [`prepare`], so a rule
//! written here holds on every path that reaches the same data. What [`prepare`] checks, in order:
//!
//! 1. the caller's role may create or change records of this kind at all;
//! 2. the record as stored is one the caller may see (else 404, the same as no record);
//! 3. the business rules of the operation (only a draft application may be deleted);
//! 4. the fields the registry owns — `id` (must be the id the record is written under), `rev`,
//!    `created_at`, `created_by`, `deleted_at` — come from the registry, never from the body;
//! 5. the body is a valid record of the kind (the domain model's rules);
//! 6. fields only the office or the ID provider set are left as stored ([`access`]), and
//!    changing what staff verified resets the verification; a reviewer's decision (a document
//!    or an account verified) comes only from the review desk ([`WriteRequest::decision`]) and
//!    changes nothing else;
//! 7. the records it points to exist, are alive and are visible to the caller, and the
//!    administrative areas its address names are the gazetteer's ([`super::areas`]); a form
//!    definition keeps to the Form.io subset Doorstep checks, and an application names a form
//!    version of its programme and, unless a draft, its answers pass that version (and are
//!    stored cleaned) ([`super::form_rules`]); then the programme rules
//!    ([`super::programme_rules`]: one application per person per programme unless it allows
//!    several, as a unique key in the index; form versions never change and each new one is the
//!    latest + 1);
//! 8. the record as it would become is still visible to the caller (an agent cannot move a
//!    record out of their area, a citizen cannot file a record under someone else);
//! 9. an agent acting for a person has the person's consent on record where it is required
//!    ([`super::consent`]);
//! 10. a new individual, or one whose names, birth date, IDs or `not_duplicate_of` answers
//!     change, is checked for likely duplicates among everyone registered
//!     ([`crate::duplicates`], bounded index lookups in every area): never a refusal, the
//!     findings travel with the write (flagged for staff in the same statement) and are told
//!     to the caller (a header here, `possible_duplicates` in a sync result).
//!
//! [`commit`] then writes what was prepared, with its idempotency claim, in one transaction.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use doorstep_domain::sync::{ChangeSet, MutationOp};
use doorstep_domain::timestamp;
use doorstep_domain::{FieldError, RecordKind};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{record_response, replay, ApiError, ON_BEHALF_OF};
use crate::access::{self, Caller};
use crate::auth::Role;
use crate::duplicates;
use crate::problem::ProblemKind;
use crate::resources::{self, BodyError, Typed};
use crate::state::AppState;
use crate::storage::{CommitError, Expect, IdempotencyClaim, StoredRecord, Write, WriteContext};

/// Fields of every record that the registry sets, which no request may choose.
pub const SERVER_OWNED: [&str; 5] = doorstep_domain::sync::SERVER_OWNED_FIELDS;

/// One record to write, as any path asks for it.
pub struct WriteRequest<'a> {
    pub kind: RecordKind,
    /// The id the record is written under: the URL's id, or the mutation's `record_id`.
    pub id: Uuid,
    pub op: MutationOp,
    /// The new version of the record (ignored for a delete).
    pub body: Value,
    /// The record as stored; `None` for a create.
    pub current: Option<&'a StoredRecord>,
    /// A reviewer's decision from the review desk ([`super::review`]): the one write that may
    /// change a document's or an account's verification, and nothing else.
    pub decision: bool,
    /// A liveness check the registry verified itself from a step-up authentication
    /// ([`super::liveness`]): the one way a citizen's check is recorded, and the only write that
    /// may set a check's `acr`, `auth_time` and `assisted_by`.
    pub step_up: bool,
}

/// Check a write against every rule and turn it into a store write (with `expect` left for the
/// caller to set from the revision the change was made on).
pub async fn prepare(
    state: &AppState,
    caller: &Caller,
    request: WriteRequest<'_>,
) -> Result<Write, ApiError> {
    let WriteRequest {
        kind,
        id,
        op,
        body,
        current,
        decision,
        step_up,
    } = request;
    let role = caller.role();
    let allowed = match op {
        _ if decision => op == MutationOp::Update && access::may_decide(role, kind),
        _ if step_up => op == MutationOp::Create && kind == RecordKind::LivenessCheck,
        MutationOp::Create => access::may_create_kind(role, kind),
        MutationOp::Update | MutationOp::Delete => access::may_write_kind(role, kind),
    };
    if !allowed {
        let mut detail = format!(
            "A {role:?} account may not {} {} records.",
            if op == MutationOp::Create {
                "create"
            } else {
                "change"
            },
            kind.as_str()
        )
        .to_lowercase();
        if access::may_decide(role, kind) {
            detail.push_str(" Verify it from the review desk instead.");
        }
        return Err(ApiError::forbidden(detail));
    }
    let old = match (op, current) {
        (MutationOp::Create, _) => None,
        (_, Some(c))
            if c.kind == kind && c.id == id && caller.visibility.allows(kind, &c.index) =>
        {
            Some(c)
        }
        _ => return Err(ApiError::not_found(kind.as_str(), id)),
    };

    let deleting = op == MutationOp::Delete;
    let body = match old {
        Some(old) if deleting => {
            deletable(kind, old)?;
            let mut body = old.body.clone();
            let now = Value::String(timestamp::format(OffsetDateTime::now_utc()));
            body["deleted_at"] = now.clone();
            body["updated_at"] = now;
            body
        }
        _ => server_owned_fields(body, id, old, caller)?,
    };

    let (mut typed, mut body) = resources::parse(kind, body)?;
    let old_typed = match old {
        Some(old) => Some(
            resources::parse(kind, old.body.clone())
                .map_err(|e| {
                    ApiError::new(
                        ProblemKind::Internal,
                        format!("stored record unreadable: {e:?}"),
                    )
                })?
                .0,
        ),
        None => None,
    };
    if access::reset_verifications(role, old_typed.as_ref(), &typed, &mut body, decision) {
        typed = resources::parse(kind, body.clone())?.0;
    }
    // What the identity provider vouched for in a step-up is the registry's to write: no device or
    // person sets it, on any path (a check done otherwise, e.g. in person at the office, has none).
    if let Typed::LivenessCheck(check) = &typed {
        let before = match &old_typed {
            Some(Typed::LivenessCheck(before)) => (
                before.acr.clone(),
                before.auth_time,
                before.assisted_by.clone(),
            ),
            _ => (None, None, None),
        };
        let now = (
            check.acr.clone(),
            check.auth_time,
            check.assisted_by.clone(),
        );
        if !step_up && !deleting && now != before {
            return Err(ApiError::forbidden(
                "acr, auth_time and assisted_by are set by the registry when it verifies a liveness check with the identity provider (POST /v1/liveness/challenges).",
            ));
        }
    }
    // A passed liveness check sent without its next due day (or its last day of grace) gets
    // them from the person's programmes or the registry's `[scheduler]` settings, so every
    // passed check has days the reminders and the app go by (`liveness::schedule`; the
    // step-up's check comes through here too).
    if let Typed::LivenessCheck(check) = &typed {
        if !deleting
            && crate::liveness::schedule::fill(
                state.storage.as_ref(),
                &state.scheduler,
                check,
                &mut body,
            )
            .await?
        {
            typed = resources::parse(kind, body.clone())?.0;
        }
    }
    let vouched = caller
        .principal
        .individual_id
        .as_deref()
        .map(|number| (state.auth.individual_id_type(), number));
    access::protected_fields(role, old_typed.as_ref(), &typed, vouched, decision)
        .map_err(ApiError::forbidden)?;
    payment_accounts(caller, old_typed.as_ref(), &typed)?;
    if !deleting {
        super::areas::check_addresses(state.storage.as_ref(), old_typed.as_ref(), &typed).await?;
    }

    let referenced = referenced(state, caller, &typed).await?;
    if !deleting {
        super::form_rules::check(state, &mut typed, &mut body).await?;
    }
    let new_area = match role {
        Role::Agent => caller.principal.area.clone(),
        _ => None,
    };
    let mut index = typed.index(&referenced, new_area);
    match old {
        Some(old) => {
            index.area = old.index.area.clone().or(index.area);
            index.creator = old.index.creator.clone();
        }
        None => index.creator = caller.actor(),
    }
    if let Typed::Individual(person) = &typed {
        index
            .keys
            .extend(vouched_keys(state, caller, person, old).await?);
    }
    super::programme_rules::check(state, op, &typed, &mut index).await?;
    if !caller.visibility.allows(kind, &index) {
        return Err(ApiError::forbidden(match role {
            Role::Agent => "This record would be filed outside your assigned area.".to_owned(),
            _ => "You may only change your own records and your household's.".to_owned(),
        }));
    }
    super::consent::check(state, caller, &typed, &index, old.is_none()).await?;
    let duplicate_check = match &typed {
        Typed::Individual(person) if !deleting => {
            let before = match &old_typed {
                Some(Typed::Individual(before)) => Some(before),
                _ => None,
            };
            match duplicates::needs_check(before, person) {
                true => Some(
                    duplicates::check(state.storage.as_ref(), id, person, old.is_some()).await?,
                ),
                false => None,
            }
        }
        _ => None,
    };
    // A notification staff write themselves is sent beyond the app like the registry's own.
    let outbound = match (&typed, old) {
        (Typed::Notification(n), None) if !deleting => {
            match super::notify::recipient(state, *n.recipient_id.as_uuid()).await? {
                Some(to) => {
                    crate::outbound::messages(id, &to.reach, to.language, &n.title, &n.body)
                }
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    Ok(Write {
        kind,
        id,
        expect: Expect::Absent,
        body,
        index,
        deleted: deleting,
        duplicate_check,
        outbound,
    })
}

/// Refuse a sync change set that touches a field the registry owns. A device's edit never
/// needs to (the app's diff leaves them out); one that does is forged or broken, and applying
/// it could aim the write at another record (`id`) or fake its history.
pub fn check_change_set(changes: &ChangeSet) -> Result<(), ApiError> {
    let touched: Vec<&str> = changes
        .set
        .iter()
        // Setting `deleted_at` to null is how a person restores a record deleted meanwhile.
        .filter(|(field, value)| !(field.as_str() == "deleted_at" && value.is_null()))
        .map(|(field, _)| field.as_str())
        .chain(changes.unset.iter().map(String::as_str))
        .filter(|field| SERVER_OWNED.contains(field))
        .collect();
    if touched.is_empty() {
        return Ok(());
    }
    Err(ApiError::from(
        crate::problem::Problem::new(
            ProblemKind::Invalid,
            format!(
                "A change may not set {}: the registry sets these itself. To delete a record send a delete mutation.",
                touched.join(", ")
            ),
        )
        .with_errors(
            touched
                .iter()
                .map(|field| FieldError {
                    field: (*field).to_owned(),
                    code: doorstep_domain::validate::code::NOT_ALLOWED.into(),
                    message: "Set by the registry.".into(),
                })
                .collect(),
        ),
    ))
}

/// Business rules on deleting a stored record.
fn deletable(kind: RecordKind, old: &StoredRecord) -> Result<(), ApiError> {
    if kind == RecordKind::Application
        && old.body.get("status").and_then(Value::as_str) != Some("draft")
    {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "Only a draft application can be deleted; a submitted one stays on record.",
        ));
    }
    Ok(())
}

/// Put the registry's own values into the fields it owns, refusing a body that asks for others.
fn server_owned_fields(
    body: Value,
    id: Uuid,
    old: Option<&StoredRecord>,
    caller: &Caller,
) -> Result<Value, ApiError> {
    let Value::Object(mut fields) = body else {
        return Err(BodyError::Shape("the body must be a JSON object".into()).into());
    };
    match fields.get("id") {
        None => {
            fields.insert("id".into(), Value::String(id.to_string()));
        }
        Some(Value::String(text)) if text.parse::<Uuid>().ok() == Some(id) => {}
        Some(other) => {
            return Err(ApiError::new(
                ProblemKind::BadRequest,
                format!(
                    "The record's id {other} differs from the id it is written under ({id}). A record's id never changes."
                ),
            ))
        }
    }
    if fields.get("deleted_at").is_some_and(|d| !d.is_null()) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            "deleted_at is set by the registry when a record is deleted: use DELETE (or a delete mutation) instead.",
        ));
    }
    fields.insert("deleted_at".into(), Value::Null);
    // The store numbers revisions.
    fields.remove("rev");
    match old {
        // Creation facts never change.
        Some(old) => {
            for field in ["created_at", "created_by"] {
                fields.insert(field.into(), old.body[field].clone());
            }
        }
        None => {
            fields.insert("created_by".into(), Value::String(caller.actor()));
        }
    }
    Ok(Value::Object(fields))
}

/// Who may add, change or choose a payment account: the person it pays, or an agent or the
/// office (see the role table in [`access`]). A citizen may not aim another household member's
/// payments anywhere.
fn payment_accounts(caller: &Caller, old: Option<&Typed>, new: &Typed) -> Result<(), ApiError> {
    let Typed::FinancialAccount(account) = new else {
        return Ok(());
    };
    if let Some(Typed::FinancialAccount(old)) = old {
        if old.registrant_id != account.registrant_id {
            return Err(ApiError::forbidden(
                "An account cannot move to another person: add a new account for them instead.",
            ));
        }
    }
    if caller.role() == Role::Citizen && caller.me != Some(*account.registrant_id.as_uuid()) {
        return Err(ApiError::forbidden(
            "You can add or change payment details only for yourself. A household member adds their own, or asks an agent or the registry office.",
        ));
    }
    Ok(())
}

/// The index of each record `typed` points to, checking that each exists, is alive and is
/// visible to the caller.
async fn referenced(
    state: &AppState,
    caller: &Caller,
    typed: &Typed,
) -> Result<Vec<crate::storage::RecordIndex>, ApiError> {
    let mut referenced = Vec::new();
    let mut missing = Vec::new();
    for reference in typed.references() {
        match state.storage.get(reference.id).await? {
            Some(r)
                if reference.kinds.contains(&r.kind)
                    && !r.deleted
                    && caller.visibility.allows(r.kind, &r.index) =>
            {
                referenced.push(r.index)
            }
            _ => missing.push(FieldError {
                field: reference.field.into(),
                code: doorstep_domain::validate::code::UNKNOWN_REFERENCE.into(),
                message: format!(
                    "There is no {} {} you can use here. Create it first, or check the id.",
                    reference
                        .kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    reference.id
                ),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(BodyError::Invalid(missing).into());
    }
    Ok(referenced)
}

/// The "vouched" keys of an individual (see [`access::vouched_key`]): a citizen registering
/// themself with the number their provider vouches for vouches for it; an update keeps the vouch
/// of each number the record still holds. No request can set one otherwise.
async fn vouched_keys(
    state: &AppState,
    caller: &Caller,
    person: &doorstep_domain::Individual,
    old: Option<&StoredRecord>,
) -> Result<Vec<String>, ApiError> {
    let id_type = state.auth.individual_id_type();
    let mut keys = Vec::new();
    for reg in person
        .reg_ids
        .iter()
        .filter(|r| r.id_type.as_str() == id_type)
    {
        let key = access::vouched_key(id_type, &reg.value);
        let vouched = match old {
            None => {
                caller.role() == Role::Citizen
                    && caller.me.is_none()
                    && caller.principal.individual_id.as_deref() == Some(reg.value.as_str())
            }
            // Kept while the stored person holds it (a live individual, as a list by key finds).
            Some(old) => {
                old.kind == RecordKind::Individual
                    && !old.deleted
                    && state.storage.holds_key(old.id, &key).await?
            }
        };
        if vouched {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Commit and answer with the first record written (or the replayed answer).
pub async fn commit(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    writes: Vec<Write>,
    claim: Option<IdempotencyClaim>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let on_behalf_of = on_behalf_of(state, caller, headers, &writes).await?;
    let notice = duplicates::notice(caller, writes.first());
    // A retry with the same key is told the same: the notice is stored with the answer, in a
    // member no record has, which `replay` turns back into the header.
    let claim = claim.map(|mut claim| {
        if let (false, Some(first)) = (notice.is_empty(), writes.first()) {
            let mut stored = first.body.clone();
            stored["rev"] = serde_json::Value::from(match first.expect {
                Expect::Absent => 1,
                Expect::Rev(rev) => rev + 1,
            });
            stored[super::STORED_NOTICE] =
                serde_json::to_value(&notice).expect("matches serialise");
            claim.response = Some(stored);
        }
        claim
    });
    let ctx = WriteContext {
        actor: caller.actor(),
        on_behalf_of,
        at: OffsetDateTime::now_utc(),
        request_id: claim.as_ref().map(|c| c.key.clone()),
        idempotency: claim.clone(),
        merged: false,
    };
    match state.storage.commit(writes, &ctx).await {
        Ok(written) => {
            let first = written.first().expect("at least one write");
            tracing::info!(actor = %ctx.actor, kind = %first.kind, id = %first.id, rev = first.rev, possible_duplicates = notice.len(), "record written");
            let mut response = record_response(status, &first.body);
            super::add_notice(&mut response, &notice);
            Ok(response)
        }
        Err(CommitError::Replay(previous)) => Ok(replay(
            claim.as_ref().expect("replay needs a claim"),
            previous,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The registrant an agent acts for: the header if given (must be an individual the agent can
/// see), else whoever the record is about. Only agents act on behalf of someone.
pub(crate) async fn on_behalf_of(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    writes: &[Write],
) -> Result<Option<String>, ApiError> {
    if caller.role() != Role::Agent {
        return Ok(None);
    }
    if let Some(value) = headers.get(ON_BEHALF_OF) {
        let text = value.to_str().unwrap_or("");
        let id = Uuid::parse_str(text).map_err(|_| {
            ApiError::new(
                ProblemKind::BadRequest,
                format!("{ON_BEHALF_OF} must be the id of an individual in your area."),
            )
        })?;
        return match state.storage.get(id).await? {
            Some(r)
                if r.kind == RecordKind::Individual
                    && caller.visibility.allows(r.kind, &r.index) =>
            {
                Ok(Some(id.to_string()))
            }
            _ => Err(ApiError::new(
                ProblemKind::BadRequest,
                format!("{ON_BEHALF_OF} names {id}, which is not an individual in your area."),
            )),
        };
    }
    Ok(writes
        .first()
        .and_then(|w| w.index.owner_id)
        .map(|id| id.to_string()))
}
