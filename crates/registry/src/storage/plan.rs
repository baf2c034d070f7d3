//! Deciding a group of writes: which are refused and why, and what the others write (revision,
//! feed position, keys), from what the database held when the group began.
//!
//! `sql.rs` reads the [`Before`] state of every record and unique key the group touches in one
//! round trip, [`plan`] decides every job in order here, without I/O, and `sql.rs` writes the
//! [`Plan`] in one more round trip, guarded by the feed's head (see `sql.rs`): either under the
//! feed's lock or, on PostgreSQL, as one statement that writes only if nobody wrote since the
//! read (else the group is read and decided again). Each job is
//! decided against the state the jobs before it left, so the outcome is exactly that of
//! committing them one after another: a job that frees a unique key lets a later one take it, a
//! second write to one record is checked against the first, a reused idempotency key replays.
//! A job of several writes is all or nothing: its writes are decided on a scratch copy that is
//! kept only if every one of them passes.

use std::collections::HashMap;

use uuid::Uuid;

use super::model::{
    CommitError, Expect, IdempotencyClaim, StoredRecord, StoredResponse, Write, WriteContext,
    UNIQUE_KEY_PREFIX,
};
use super::sql::body_hash;

/// What the database holds that a group's checks need.
#[derive(Debug, Default)]
pub(crate) struct Before {
    /// Every stored record the group writes, by id.
    pub(crate) records: HashMap<Uuid, StoredRecord>,
    /// For every unique key the group's records claim: the records holding it.
    pub(crate) holders: HashMap<String, Vec<Uuid>>,
    /// Stored responses of the group's idempotency claims, by (scope, key).
    pub(crate) responses: HashMap<(String, String), StoredResponse>,
}

/// What a batch (one transaction holding the writer lock) has already read or written: nobody
/// else can change these meanwhile, so it need not ask the database again. `None`: known to be
/// absent.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pub(crate) records: HashMap<Uuid, Option<StoredRecord>>,
    pub(crate) responses: HashMap<(String, String), Option<StoredResponse>>,
}

impl Known {
    /// Remember what a plan wrote, once it is written.
    pub(crate) fn learn(&mut self, plan: &Plan) {
        for row in &plan.rows {
            let mut record = row.record.clone();
            // As the store reads a record back: without its keys.
            record.index.keys.clear();
            self.records.insert(record.id, Some(record));
        }
        for (_, claim, response) in &plan.claims {
            let stored = StoredResponse {
                fingerprint: claim.fingerprint.clone(),
                status: claim.status,
                body: response.clone(),
            };
            self.responses
                .insert((claim.scope.clone(), claim.key.clone()), Some(stored));
        }
    }
}

/// One record row to write.
#[derive(Debug)]
pub(crate) struct Row {
    /// The record as it will be stored: revision, feed position, creator, keys, body.
    pub(crate) record: StoredRecord,
    /// The record existed, so keys it no longer has must be dropped.
    pub(crate) existed: bool,
    /// For the change log.
    pub(crate) op: &'static str,
    pub(crate) before_sha256: Option<String>,
    /// Which job (index into the group) wrote it: its context says who and when.
    pub(crate) job: usize,
    /// The record's duplicate flags from now on, if its check ran ([`Write::duplicate_check`]).
    pub(crate) duplicate_check: Option<Vec<doorstep_domain::duplicates::Match>>,
    /// The messages beyond the app it sends ([`Write::outbound`]).
    pub(crate) outbound: Vec<super::model::Outbound>,
}

/// What a group writes and what each of its jobs is told.
#[derive(Debug)]
pub(crate) struct Plan {
    /// One per job, in order.
    pub(crate) outcomes: Vec<Result<Vec<StoredRecord>, CommitError>>,
    /// Every row to write, in feed order.
    pub(crate) rows: Vec<Row>,
    /// Responses to remember: (job, claim, response body).
    pub(crate) claims: Vec<(usize, IdempotencyClaim, serde_json::Value)>,
    /// The feed's newest seq once the plan is written.
    pub(crate) head: i64,
}

/// The unique keys a write claims (none once deleted).
pub(crate) fn unique_keys(write: &Write) -> impl Iterator<Item = &String> {
    write
        .index
        .keys
        .iter()
        .filter(move |k| !write.deleted && k.starts_with(UNIQUE_KEY_PREFIX))
}

/// Decide `jobs` in order against `before`, numbering changes after `head`.
pub(crate) fn plan(jobs: Vec<(Vec<Write>, &WriteContext)>, mut before: Before, head: i64) -> Plan {
    let mut plan = Plan {
        outcomes: Vec::with_capacity(jobs.len()),
        rows: Vec::new(),
        claims: Vec::new(),
        head,
    };
    for (job, (writes, ctx)) in jobs.into_iter().enumerate() {
        let outcome = decide(job, writes, ctx, &mut before, &mut plan);
        plan.outcomes.push(outcome);
    }
    plan
}

/// One job: on success its rows and claim join the plan and `before` moves on past it.
fn decide(
    job: usize,
    writes: Vec<Write>,
    ctx: &WriteContext,
    before: &mut Before,
    plan: &mut Plan,
) -> Result<Vec<StoredRecord>, CommitError> {
    if let Some(claim) = &ctx.idempotency {
        if let Some(previous) = before
            .responses
            .get(&(claim.scope.clone(), claim.key.clone()))
        {
            return Err(CommitError::Replay(previous.clone()));
        }
    }
    // The job's own view: what it changed, over `before`.
    let mut records: HashMap<Uuid, StoredRecord> = HashMap::new();
    let mut holders: HashMap<String, Vec<Uuid>> = HashMap::new();
    let mut rows = Vec::with_capacity(writes.len());
    let mut seq = plan.head;
    for write in writes {
        let current = records
            .get(&write.id)
            .or_else(|| before.records.get(&write.id))
            .filter(|c| c.kind == write.kind || write.expect == Expect::Absent);
        let (rev, creator, previous) = match (write.expect, current) {
            (Expect::Absent, Some(current)) => {
                return Err(CommitError::Exists {
                    current: Box::new(current.clone()),
                })
            }
            (Expect::Absent, None) => (1_u64, ctx.actor.clone(), None),
            (Expect::Rev(_), None) => {
                return Err(CommitError::Missing {
                    kind: write.kind,
                    id: write.id,
                })
            }
            (Expect::Rev(expected), Some(current)) if current.rev != expected => {
                return Err(CommitError::Stale {
                    expected,
                    current: Box::new(current.clone()),
                })
            }
            (Expect::Rev(_), Some(current)) => {
                let op = if write.deleted && !current.deleted {
                    "delete"
                } else {
                    "update"
                };
                (
                    current.rev + 1,
                    current.index.creator.clone(),
                    Some((body_hash(&current.body), op)),
                )
            }
        };
        for key in unique_keys(&write) {
            let held_by = holders
                .get(key)
                .or_else(|| before.holders.get(key))
                .and_then(|ids| ids.iter().find(|id| **id != write.id));
            if let Some(holder) = held_by {
                return Err(CommitError::Duplicate {
                    key: key.clone(),
                    holder: *holder,
                });
            }
        }

        seq += 1;
        let mut body = write.body;
        if let Some(object) = body.as_object_mut() {
            object.insert("rev".into(), serde_json::Value::from(rev));
        }
        let mut index = write.index;
        index.creator = creator;
        if write.deleted {
            // A deleted record holds no keys.
            index.keys.clear();
        }
        // Every unique key this group tracks now has this record among its holders or not.
        let tracked: Vec<String> = before
            .holders
            .keys()
            .chain(holders.keys())
            .cloned()
            .collect();
        for key in tracked {
            let mut ids = holders
                .get(&key)
                .or_else(|| before.holders.get(&key))
                .cloned()
                .unwrap_or_default();
            ids.retain(|id| *id != write.id);
            if index.keys.contains(&key) {
                ids.push(write.id);
            }
            holders.insert(key, ids);
        }
        let record = StoredRecord {
            kind: write.kind,
            id: write.id,
            rev,
            seq: seq as u64,
            index,
            deleted: write.deleted,
            body,
        };
        let (before_sha256, op) = match previous {
            Some((hash, op)) => (Some(hash), op),
            None => (None, "create"),
        };
        rows.push(Row {
            record: record.clone(),
            existed: before_sha256.is_some(),
            op,
            before_sha256,
            job,
            duplicate_check: write.duplicate_check,
            outbound: write.outbound,
        });
        records.insert(write.id, record);
    }

    // Every write passed: keep the job's view and plan its rows.
    plan.head = seq;
    before.records.extend(records);
    before.holders.extend(holders);
    let written: Vec<StoredRecord> = rows.iter().map(|row| row.record.clone()).collect();
    if let (Some(claim), Some(first)) = (&ctx.idempotency, written.first()) {
        let response = claim.response.clone().unwrap_or_else(|| first.body.clone());
        before.responses.insert(
            (claim.scope.clone(), claim.key.clone()),
            StoredResponse {
                fingerprint: claim.fingerprint.clone(),
                status: claim.status,
                body: response.clone(),
            },
        );
        plan.claims.push((job, claim.clone(), response));
    }
    plan.rows.extend(rows);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::RecordIndex;
    use doorstep_domain::RecordKind;
    use serde_json::json;

    fn write(id: Uuid, expect: Expect, keys: &[&str]) -> Write {
        Write {
            kind: RecordKind::Group,
            id,
            expect,
            body: json!({"id": id.to_string()}),
            index: RecordIndex {
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
                ..RecordIndex::default()
            },
            deleted: false,
            duplicate_check: None,
            outbound: Vec::new(),
        }
    }

    fn ctx() -> WriteContext {
        WriteContext::by("agent:a")
    }

    #[test]
    fn jobs_see_what_the_jobs_before_them_did() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ctx = ctx();
        let jobs = vec![
            (vec![write(a, Expect::Absent, &["u:head"])], &ctx),
            // Taken by the job before.
            (vec![write(b, Expect::Absent, &["u:head"])], &ctx),
            // A second edit of a, on the revision the first job made.
            (vec![write(a, Expect::Rev(1), &[])], &ctx),
            // Now a let go of the key: b may take it.
            (vec![write(b, Expect::Absent, &["u:head"])], &ctx),
            (vec![write(a, Expect::Rev(1), &[])], &ctx),
        ];
        let before = Before {
            holders: HashMap::from([("u:head".to_owned(), Vec::new())]),
            ..Before::default()
        };
        let plan = plan(jobs, before, 10);
        assert!(plan.outcomes[0].is_ok());
        assert!(
            matches!(plan.outcomes[1], Err(CommitError::Duplicate { holder, .. }) if holder == a)
        );
        assert_eq!(plan.outcomes[2].as_ref().unwrap()[0].rev, 2);
        assert!(plan.outcomes[3].is_ok());
        assert!(matches!(
            plan.outcomes[4],
            Err(CommitError::Stale { expected: 1, .. })
        ));
        let seqs: Vec<u64> = plan.rows.iter().map(|r| r.record.seq).collect();
        assert_eq!(seqs, [11, 12, 13], "gap-free, in job order");
        assert_eq!(plan.head, 13);
    }

    #[test]
    fn a_job_of_several_writes_is_all_or_nothing() {
        let (a, b, held) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let ctx = ctx();
        let jobs = vec![
            (
                vec![
                    write(a, Expect::Absent, &["u:x"]),
                    write(b, Expect::Absent, &["u:taken"]),
                ],
                &ctx,
            ),
            // u:x was never claimed after all.
            (vec![write(b, Expect::Absent, &["u:x"])], &ctx),
        ];
        let before = Before {
            holders: HashMap::from([
                ("u:x".to_owned(), Vec::new()),
                ("u:taken".to_owned(), vec![held]),
            ]),
            ..Before::default()
        };
        let plan = plan(jobs, before, 0);
        assert!(
            matches!(plan.outcomes[0], Err(CommitError::Duplicate { ref key, .. }) if key == "u:taken")
        );
        assert!(plan.outcomes[1].is_ok());
        assert_eq!(plan.rows.len(), 1);
        assert_eq!(plan.rows[0].record.seq, 1);
    }

    #[test]
    fn a_reused_idempotency_key_replays_within_the_group() {
        let mut ctx = ctx();
        ctx.idempotency = Some(IdempotencyClaim {
            scope: "agent:a".into(),
            key: "k1".into(),
            fingerprint: "f".into(),
            status: 201,
            response: None,
        });
        let jobs = vec![
            (vec![write(Uuid::now_v7(), Expect::Absent, &[])], &ctx),
            (vec![write(Uuid::now_v7(), Expect::Absent, &[])], &ctx),
        ];
        let plan = plan(jobs, Before::default(), 0);
        assert!(plan.outcomes[0].is_ok());
        assert!(matches!(plan.outcomes[1], Err(CommitError::Replay(ref r)) if r.status == 201));
        assert_eq!(plan.claims.len(), 1);
    }
}
