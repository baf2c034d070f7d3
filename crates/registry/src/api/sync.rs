//! Sync: push a device's mutations, pull the change feed.
//!
//! **Push** applies each mutation in order, in its own transaction, exactly once (its id is an
//! idempotency key whose stored answer is the full [`MutationResult`], written in the same
//! transaction as the change). A mutation made on an older revision is three-way merged field by
//! field ([`doorstep_domain::sync::merge`]): what did not clash is applied (and marked `merged`
//! in the change log for review), what clashed comes back as a conflict for a person to settle.
//! A merge that would break a rule of the model (a second household head…) is a conflict too,
//! never a silent fix. An invalid or forbidden mutation is rejected alone; the rest go on.
//!
//! **Pull** pages through the change feed from a cursor, showing only what the caller may see.
//! The cursor names the store it came from, so a device pointed at another registry (or a
//! rebuilt one) is told to start again rather than silently missing records.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use doorstep_domain::sync::{
    merge, FieldConflict, Mutation, MutationOp, MutationResult, PullResponse, PulledRecord,
    PushRequest, PushResponse, MAX_PULL_LIMIT, MAX_PUSH_MUTATIONS,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::write::{check_change_set, on_behalf_of, prepare, WriteRequest};
use super::ApiError;
use crate::access::Caller;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::{CommitError, Expect, IdempotencyClaim, StoredRecord, Write, WriteContext};

/// Idempotency scope of one caller's sync mutations, `sync:<actor>`. Mutation ids are UUIDs
/// minted on devices; scoping them per caller (as HTTP `Idempotency-Key`s are) means another
/// caller's id is simply unknown here: its stored result, which holds a whole record, is never
/// handed out, and whether an id was used cannot be probed. A replay by another session of the
/// same person (same actor) still matches.
fn sync_scope(caller: &Caller) -> String {
    format!("sync:{}", caller.actor())
}
/// How often a mutation is retried when another writer changed its record meanwhile.
const RACE_RETRIES: usize = 3;
/// How many of a push's mutations share a transaction. Other writers wait while one runs, so
/// it stays short: about 15 ms on a small server.
const MUTATIONS_PER_TRANSACTION: usize = 50;
/// Largest push body.
pub const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;

/// Apply a batch of mutations from a device.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync",
    params(("Doorstep-On-Behalf-Of" = Option<uuid::Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    request_body = PushRequest,
    responses((status = 200, body = PushResponse, description = "One result per mutation, in order"),
              (status = 400, description = "Malformed batch (not JSON, wrong shape, a mutation id twice) or header: nothing applied", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Too many mutations, or a body over 16 MiB: nothing applied", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PushResponse>, ApiError> {
    let request: PushRequest = doorstep_domain::strict_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ProblemKind::BadRequest,
            format!("The sync batch could not be read ({e}); nothing was applied."),
        )
    })?;
    if request.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(ApiError::new(
            ProblemKind::TooLarge,
            format!(
                "A batch may carry at most {MAX_PUSH_MUTATIONS} mutations, this one has {}; nothing was applied. Send smaller batches.",
                request.mutations.len()
            ),
        ));
    }
    let mut ids = std::collections::HashSet::new();
    if let Some(twice) = request.mutations.iter().find(|m| !ids.insert(m.id)) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            format!(
                "Mutation {} appears twice in the batch; nothing was applied.",
                twice.id
            ),
        ));
    }
    let mut results = Vec::with_capacity(request.mutations.len());
    let mut mutations = request.mutations.into_iter().peekable();
    while mutations.peek().is_some() {
        // A run of mutations in one transaction: each sees the ones before it (a membership
        // the person it names), and the run pays for one lock and one commit. A database error
        // rolls the run back and fails the request; the device sends the batch again and the
        // runs committed before answer from their stored results.
        let batch = state.storage.begin_batch().await?;
        let within = AppState {
            storage: batch.clone(),
            ..state.clone()
        };
        for mutation in mutations.by_ref().take(MUTATIONS_PER_TRANSACTION) {
            results.push(apply(&within, &caller, &headers, mutation).await?);
        }
        batch.finish().await?;
    }
    Ok(Json(PushResponse { results }))
}

/// Apply one mutation, retrying when a concurrent writer moved the record on.
async fn apply(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    mutation: Mutation,
) -> Result<MutationResult, ApiError> {
    let fingerprint = hex::encode(Sha256::digest(
        serde_json::to_vec(&mutation).expect("mutations serialise"),
    ));
    for _ in 0..RACE_RETRIES {
        if let Some(done) = state
            .storage
            .idempotent_response(&sync_scope(caller), &mutation.id.to_string())
            .await?
        {
            return Ok(replayed(&mutation, &fingerprint, done));
        }
        let applying = Applying {
            state,
            caller,
            headers,
            m: &mutation,
            fingerprint: &fingerprint,
        };
        match applying.attempt().await? {
            Attempt::Done(result) => return Ok(result),
            Attempt::Raced => continue,
        }
    }
    Ok(rejected(
        &mutation,
        ProblemKind::Conflict,
        "The record kept changing while this change was applied; it will be retried at the next sync.",
    ))
}

enum Attempt {
    Done(MutationResult),
    /// Someone else wrote the record between reading and writing it.
    Raced,
}

/// One mutation being applied, with what each step of it needs.
struct Applying<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    headers: &'a HeaderMap,
    m: &'a Mutation,
    /// SHA-256 of the mutation as sent: its stored result answers only the same mutation.
    fingerprint: &'a str,
}

/// What a merge left for the write to report.
#[derive(Default)]
struct Merged {
    /// Fields that clashed: the write applies the rest, a person settles these.
    conflicts: Vec<FieldConflict>,
    /// Made on an older revision that someone else changed since (a "soft" conflict).
    stale: bool,
}

impl Applying<'_> {
    async fn attempt(&self) -> Result<Attempt, ApiError> {
        let Applying {
            state, caller, m, ..
        } = *self;
        let stored = state.storage.get(m.record_id).await?;
        // A record the caller may not see is treated exactly as one that does not exist, whatever
        // the mutation's revision, so nothing about it can be learnt from the answer.
        let exists = stored.is_some();
        let current =
            stored.filter(|r| r.kind == m.kind && caller.visibility.allows(r.kind, &r.index));
        let done = |r| Ok(Attempt::Done(r));
        // A create's change set is the whole new record, checked field by field by `prepare`.
        if m.op == MutationOp::Update {
            if let Err(e) = check_change_set(&m.changes) {
                return done(rejected_by(m, &e));
            }
        }
        let request = |op, body, current| WriteRequest {
            kind: m.kind,
            id: m.record_id,
            op,
            body,
            current,
            decision: false,
            step_up: false,
        };
        match (m.op, current) {
            (MutationOp::Create, None) if exists => done(rejected(
                m,
                ProblemKind::Conflict,
                "A record with this id exists already; the device must mint a new id.",
            )),
            (MutationOp::Create, Some(_)) => done(rejected(
                m,
                ProblemKind::Conflict,
                "A record with this id exists already; the device should pull and edit it instead.",
            )),
            (MutationOp::Create, None) => {
                let body = Value::Object(m.changes.set.clone());
                match prepare(state, caller, request(MutationOp::Create, body, None)).await {
                    Ok(write) => self.write_one(write, None, Merged::default()).await,
                    Err(e) => done(rejected_by(m, &e)),
                }
            }
            (_, None) => done(rejected(
                m,
                ProblemKind::NotFound,
                "The record does not exist on the registry, or you may no longer see it.",
            )),
            (MutationOp::Delete, Some(current)) if current.deleted => {
                done(applied(m, &current, false))
            }
            (MutationOp::Delete, Some(current)) if m.base_rev != Some(current.rev) => {
                // Deleting what someone else has edited meanwhile: a person decides.
                done(whole_record_conflict(m, &current, Value::Null))
            }
            (MutationOp::Delete, Some(current)) => {
                match prepare(
                    state,
                    caller,
                    request(MutationOp::Delete, Value::Null, Some(&current)),
                )
                .await
                {
                    Ok(write) => {
                        self.write_one(write, Some(&current), Merged::default())
                            .await
                    }
                    Err(e) => done(rejected_by(m, &e)),
                }
            }
            // An edit of a record deleted meanwhile. Made on the deleted revision itself it is a
            // deliberate restore (a person settled the conflict) and goes to the merge below.
            (MutationOp::Update, Some(current))
                if current.deleted && m.base_rev != Some(current.rev) =>
            {
                done(whole_record_conflict(
                    m,
                    &current,
                    Value::Object(m.changes.set.clone()),
                ))
            }
            (MutationOp::Update, Some(current)) => {
                let stale = m.base_rev != Some(current.rev)
                    && changed_by_others(state, caller, &current, m.base_rev).await?;
                let merged = merge(&current.body, &m.changes);
                if !merged.changed {
                    return done(match merged.conflicts.is_empty() {
                        true => applied(m, &current, stale),
                        false => conflict(m, &current, merged.conflicts),
                    });
                }
                match prepare(
                    state,
                    caller,
                    request(MutationOp::Update, merged.record, Some(&current)),
                )
                .await
                {
                    Ok(write) => {
                        self.write_one(
                            write,
                            Some(&current),
                            Merged {
                                conflicts: merged.conflicts,
                                stale,
                            },
                        )
                        .await
                    }
                    // The merged record breaks a rule although each side alone kept it: a conflict.
                    Err(e) if stale && is_rule_break(&e) => done(rule_conflict(m, &current)),
                    Err(e) => done(rejected_by(m, &e)),
                }
            }
        }
    }

    /// Commit one write with its result as the idempotent answer, in one transaction.
    async fn write_one(
        &self,
        mut write: Write,
        current: Option<&StoredRecord>,
        merged: Merged,
    ) -> Result<Attempt, ApiError> {
        let Applying {
            state,
            caller,
            headers,
            m,
            fingerprint,
        } = *self;
        let Merged { conflicts, stale } = merged;
        let rev = current.map_or(1, |c| c.rev + 1);
        write.expect = current.map_or(Expect::Absent, |c| Expect::Rev(c.rev));
        let mut record = write.body.clone();
        record["rev"] = Value::from(rev);
        let result = if conflicts.is_empty() {
            MutationResult::Applied {
                mutation_id: m.id,
                rev,
                merged: stale,
                record,
                // Stored with the result below, so a resent mutation is told the same.
                possible_duplicates: crate::duplicates::notice(caller, Some(&write)),
            }
        } else {
            MutationResult::Conflict {
                mutation_id: m.id,
                rev,
                record,
                conflicts,
            }
        };
        let ctx = WriteContext {
            actor: caller.actor(),
            on_behalf_of: on_behalf_of(state, caller, headers, std::slice::from_ref(&write))
                .await?,
            at: OffsetDateTime::now_utc(),
            request_id: Some(m.id.to_string()),
            idempotency: Some(IdempotencyClaim {
                scope: sync_scope(caller),
                key: m.id.to_string(),
                fingerprint: fingerprint.to_owned(),
                status: 200,
                response: Some(serde_json::to_value(&result).expect("results serialise")),
            }),
            merged: stale,
        };
        match state.storage.commit(vec![write], &ctx).await {
            Ok(_) => Ok(Attempt::Done(result)),
            Err(CommitError::Replay(previous)) => {
                Ok(Attempt::Done(replayed(m, fingerprint, previous)))
            }
            Err(CommitError::Stale { .. } | CommitError::Exists { .. }) => Ok(Attempt::Raced),
            // A clash with another record's state (a second household head): for a change to an
            // existing record a person settles it; a new record is refused with the reason.
            Err(CommitError::Duplicate { .. }) if current.is_some() => {
                Ok(Attempt::Done(rule_conflict(m, current.expect("checked"))))
            }
            Err(e @ (CommitError::Duplicate { .. } | CommitError::Missing { .. })) => {
                Ok(Attempt::Done(rejected_by(m, &ApiError::from(e))))
            }
            Err(CommitError::Storage(e)) => Err(e.into()),
        }
    }
}

/// Whether anyone but the caller changed the record after `base_rev`. A device that made
/// several edits offline sends them in one batch, each on the revision it saw; only changes by
/// someone else make a merge a "soft" conflict worth a reviewer's look.
async fn changed_by_others(
    state: &AppState,
    caller: &Caller,
    current: &StoredRecord,
    base_rev: Option<u64>,
) -> Result<bool, ApiError> {
    let since = base_rev.unwrap_or(0);
    let actor = caller.actor();
    Ok(state
        .storage
        .audit_trail(current.id)
        .await?
        .iter()
        .any(|change| change.rev > since && change.actor != actor))
}

fn replayed(
    m: &Mutation,
    fingerprint: &str,
    previous: crate::storage::StoredResponse,
) -> MutationResult {
    if previous.fingerprint != fingerprint {
        return rejected(
            m,
            ProblemKind::IdempotencyKeyReused,
            "This mutation id was already used for a different change; the device must mint a new id.",
        );
    }
    serde_json::from_value(previous.body).unwrap_or_else(|_| {
        rejected(
            m,
            ProblemKind::Internal,
            "The stored result of this mutation is unreadable.",
        )
    })
}

fn applied(m: &Mutation, current: &StoredRecord, merged: bool) -> MutationResult {
    MutationResult::Applied {
        mutation_id: m.id,
        rev: current.rev,
        merged,
        record: current.body.clone(),
        possible_duplicates: Vec::new(),
    }
}

fn conflict(m: &Mutation, current: &StoredRecord, conflicts: Vec<FieldConflict>) -> MutationResult {
    MutationResult::Conflict {
        mutation_id: m.id,
        rev: current.rev,
        record: current.body.clone(),
        conflicts,
    }
}

/// Edit against delete, or delete against edit: the whole record is in question.
fn whole_record_conflict(m: &Mutation, current: &StoredRecord, mine: Value) -> MutationResult {
    let theirs = if current.deleted {
        Value::Null
    } else {
        current.body.clone()
    };
    conflict(
        m,
        current,
        vec![FieldConflict {
            field: "*".into(),
            base: Value::Null,
            mine,
            theirs,
        }],
    )
}

/// Every field this mutation touches, as a conflict: the merged whole breaks a rule.
fn rule_conflict(m: &Mutation, current: &StoredRecord) -> MutationResult {
    let conflicts = m
        .changes
        .fields()
        .map(|field| FieldConflict {
            field: field.clone(),
            base: m.changes.base_of(field).clone(),
            mine: m.changes.mine_of(field).clone(),
            theirs: current.body.get(field).cloned().unwrap_or(Value::Null),
        })
        .collect();
    conflict(m, current, conflicts)
}

fn is_rule_break(e: &ApiError) -> bool {
    let p = e.problem();
    p.kind_is(ProblemKind::Invalid) || p.kind_is(ProblemKind::Conflict)
}

fn rejected(m: &Mutation, kind: ProblemKind, message: &str) -> MutationResult {
    rejected_by(m, &ApiError::new(kind, message))
}

fn rejected_by(m: &Mutation, e: &ApiError) -> MutationResult {
    let p = e.problem();
    MutationResult::Rejected {
        mutation_id: m.id,
        problem: p.type_uri.clone(),
        message: p.detail.clone(),
        errors: p.errors.clone().unwrap_or_default(),
    }
}

/// Where a pull continues (the query the app's registry client sends).
pub use doorstep_domain::api::PullQuery as PullParams;

/// Records changed after the cursor that the caller may see, oldest change first.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullParams),
    responses((status = 200, body = PullResponse, description = "The next page of the change feed"),
              (status = 400, description = "A damaged cursor, `limit` out of range, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The cursor is from another registry: pull again without one", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<PullParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = params.limit.unwrap_or(500);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            format!("limit must be between 1 and {MAX_PULL_LIMIT}."),
        ));
    }
    let store_id = state.storage.store_id().await?;
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => parse_cursor(cursor, &store_id)?,
    };
    let mut page = state
        .storage
        .changes_since(after, limit + 1, &caller.visibility)
        .await?;
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let last = page.last().map_or(after, |r| r.seq);
    Ok(Json(PullResponse {
        records: page
            .into_iter()
            .map(|r| PulledRecord {
                kind: r.kind,
                id: r.id,
                rev: r.rev,
                deleted: r.deleted,
                body: r.body,
            })
            .collect(),
        cursor: format!("{store_id}.{last}"),
        more,
    }))
}

fn parse_cursor(cursor: &str, store_id: &str) -> Result<u64, ApiError> {
    let (store, seq) = cursor.rsplit_once('.').ok_or_else(|| {
        ApiError::new(
            ProblemKind::BadRequest,
            "The cursor is not one this registry gave out; pull without a cursor to start over.",
        )
    })?;
    if store != store_id {
        return Err(ApiError::new(
            ProblemKind::CursorReset,
            "This device last synced with a different registry (or this one was rebuilt). Pull again without a cursor; changes not yet sent stay on the device.",
        ));
    }
    seq.parse().map_err(|_| {
        ApiError::new(
            ProblemKind::BadRequest,
            "The cursor is damaged; pull without a cursor to start over.",
        )
    })
}
