//! The sync endpoints over real HTTP on both backends: push with merge and conflicts, exactly
//! once, pull with cursors and visibility, and whole-batch refusal of bad batches.

mod common;

use common::sync::{create, push, record_of, update};
use common::{backends, individual, meta, with, Api};
use doorstep_domain::sync::{ChangeSet, Mutation, MutationOp, MutationResult};
use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn stale_edits_merge_by_field_and_clashes_come_back_as_conflicts() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let person = individual(Uuid::now_v7(), "Amina", "Odhiambo", None);
        let created = push(&api, &agent, &[create(RecordKind::Individual, &person)]).await;
        let v1 = record_of(&created[0]);
        assert_eq!(v1["rev"], 1);

        // Two devices edit revision 1 offline.
        let mut a = v1.clone();
        a["occupation"] = json!("farmer");
        let mut b = v1.clone();
        b["civil_status"] = json!("married");
        let mut c = v1.clone();
        c["occupation"] = json!("teacher");
        let ra = push(&api, &agent, &[update(RecordKind::Individual, &v1, &a)]).await;
        assert!(
            matches!(
                &ra[0],
                MutationResult::Applied {
                    rev: 2,
                    merged: false,
                    ..
                }
            ),
            "{ra:?}"
        );
        let other_agent = api.token("agent", "kamau", Some("KE.30"), None);
        let rb = push(
            &api,
            &other_agent,
            &[update(RecordKind::Individual, &v1, &b)],
        )
        .await;
        match &rb[0] {
            MutationResult::Applied {
                rev: 3,
                merged: true,
                record,
                ..
            } => {
                assert_eq!(record["occupation"], "farmer");
                assert_eq!(record["civil_status"], "married");
            }
            other => panic!("{}: disjoint fields should merge: {other:?}", api.backend),
        }
        let rc = push(&api, &agent, &[update(RecordKind::Individual, &v1, &c)]).await;
        match &rc[0] {
            MutationResult::Conflict {
                rev,
                conflicts,
                record,
                ..
            } => {
                assert_eq!(*rev, 3, "nothing applied");
                assert_eq!(conflicts.len(), 1);
                assert_eq!(conflicts[0].field, "occupation");
                assert_eq!(
                    (conflicts[0].mine.as_str(), conflicts[0].theirs.as_str()),
                    (Some("teacher"), Some("farmer"))
                );
                assert_eq!(record["occupation"], "farmer");
            }
            other => panic!("{}: same field should conflict: {other:?}", api.backend),
        }

        // The merged write is marked for review in the audit trail.
        let staff = api.token("staff", "s", None, None);
        let id = person["id"].as_str().unwrap();
        let history = api
            .get(&format!("/v1/individuals/{id}/history"), &staff)
            .await;
        let merged: Vec<bool> = history
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["merged"].as_bool().unwrap())
            .collect();
        assert_eq!(merged, [false, false, true], "{}", api.backend);

        // One device's own offline edits in sequence are not a merge with anyone.
        let mut d1 = record_of(&rb[0]);
        let v3 = d1.clone();
        d1["birth_place"] = json!("Kisumu");
        let mut d2 = d1.clone();
        d2["addl_name"] = json!("Achieng");
        let own = push(
            &api,
            &other_agent,
            &[
                update(RecordKind::Individual, &v3, &d1),
                update(RecordKind::Individual, &v3, &d2),
            ],
        )
        .await;
        assert!(
            own.iter()
                .all(|r| matches!(r, MutationResult::Applied { merged: false, .. })),
            "{own:?}"
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn a_replayed_mutation_is_answered_not_applied() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let person = individual(Uuid::now_v7(), "Amina", "Odhiambo", None);
        let m = create(RecordKind::Individual, &person);
        let first = push(&api, &agent, std::slice::from_ref(&m)).await;
        let again = push(&api, &agent, std::slice::from_ref(&m)).await;
        assert_eq!(first, again, "{}: the stored answer", api.backend);
        let mut edit = record_of(&first[0]);
        edit["occupation"] = json!("tailor");
        let u = update(RecordKind::Individual, &record_of(&first[0]), &edit);
        let applied = push(&api, &agent, std::slice::from_ref(&u)).await;
        assert_eq!(push(&api, &agent, std::slice::from_ref(&u)).await, applied);
        let staff = api.token("staff", "s", None, None);
        let history = api
            .get(
                &format!("/v1/individuals/{}/history", person["id"].as_str().unwrap()),
                &staff,
            )
            .await;
        assert_eq!(
            history.json.as_array().unwrap().len(),
            2,
            "each applied exactly once"
        );

        // The same id with a different change is refused, not applied.
        let mut forged = u.clone();
        forged
            .changes
            .set
            .insert("occupation".into(), json!("mayor"));
        let r = push(&api, &agent, &[forged]).await;
        assert!(
            matches!(&r[0], MutationResult::Rejected { problem, .. } if problem == "/problems/idempotency-key-reused"),
            "{r:?}"
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn deletes_against_edits_and_broken_rules_are_conflicts() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let person = individual(Uuid::now_v7(), "Amina", "Odhiambo", None);
        let v1 =
            record_of(&push(&api, &agent, &[create(RecordKind::Individual, &person)]).await[0]);
        let mut edited = v1.clone();
        edited["occupation"] = json!("farmer");
        push(
            &api,
            &agent,
            &[update(RecordKind::Individual, &v1, &edited)],
        )
        .await;
        let delete = Mutation {
            op: MutationOp::Delete,
            changes: ChangeSet::default(),
            ..update(RecordKind::Individual, &v1, &v1)
        };
        let r = push(&api, &agent, &[delete]).await;
        assert!(
            matches!(&r[0], MutationResult::Conflict { conflicts, .. } if conflicts[0].field == "*"),
            "{}: {r:?}",
            api.backend
        );

        // Two devices each make a different member head of the same household offline.
        let house = with(
            meta(Uuid::now_v7()),
            json!({"name": "Odhiambo", "kind": "household"}),
        );
        let spouse = individual(Uuid::now_v7(), "Juma", "Odhiambo", None);
        let member = |who: &Value, kind: &str| {
            with(
                meta(Uuid::now_v7()),
                json!({
            "group_id": house["id"], "individual_id": who["id"], "kind": kind, "start_date": "2020-01-01"}),
            )
        };
        let m_amina = member(&v1, "spouse");
        let m_juma = member(&spouse, "spouse");
        let results = push(
            &api,
            &agent,
            &[
                create(RecordKind::Group, &house),
                create(RecordKind::Individual, &spouse),
                create(RecordKind::Membership, &m_amina),
                create(RecordKind::Membership, &m_juma),
            ],
        )
        .await;
        assert!(
            results
                .iter()
                .all(|r| matches!(r, MutationResult::Applied { .. })),
            "{results:?}"
        );
        let (a1, j1) = (record_of(&results[2]), record_of(&results[3]));
        let mut a_head = a1.clone();
        a_head["kind"] = json!("head");
        let mut j_head = j1.clone();
        j_head["kind"] = json!("head");
        let first = push(
            &api,
            &agent,
            &[update(RecordKind::Membership, &a1, &a_head)],
        )
        .await;
        assert!(matches!(&first[0], MutationResult::Applied { .. }));
        // The second device's change would make two heads: a conflict for a person, not a fix.
        let second = push(
            &api,
            &agent,
            &[update(RecordKind::Membership, &j1, &j_head)],
        )
        .await;
        match &second[0] {
            MutationResult::Conflict {
                conflicts, record, ..
            } => {
                assert_eq!(conflicts[0].field, "kind");
                assert_eq!(record["kind"], "spouse", "nothing applied");
            }
            other => panic!("{}: {other:?}", api.backend),
        }
        api.stop().await;
    }
}

#[tokio::test]
async fn a_bad_batch_is_refused_whole() {
    let backend = &backends().await[0];
    let api = Api::start(backend).await;
    let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
    let good = create(
        RecordKind::Individual,
        &individual(Uuid::now_v7(), "A", "B", None),
    );
    let bad = api
        .post(
            "/v1/sync/push",
            &agent,
            &json!({"mutations": [good, {"id": "nope"}]}),
        )
        .await;
    assert_eq!((bad.status, bad.problem()), (400, "/problems/bad-request"));
    let many: Vec<Mutation> = (0..501)
        .map(|_| {
            create(
                RecordKind::Individual,
                &individual(Uuid::now_v7(), "A", "B", None),
            )
        })
        .collect();
    let big = api
        .post("/v1/sync/push", &agent, &json!({"mutations": many}))
        .await;
    assert_eq!((big.status, big.problem()), (413, "/problems/too-large"));
    let twice = api
        .post("/v1/sync/push", &agent, &json!({"mutations": [good, good]}))
        .await;
    assert_eq!(twice.status, 400);
    let staff = api.token("staff", "s", None, None);
    assert_eq!(
        api.get("/v1/individuals", &staff).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing applied"
    );
    // An invalid record is rejected alone; the others go through.
    let invalid = create(
        RecordKind::Individual,
        &with(individual(Uuid::now_v7(), "", "", None), json!({})),
    );
    let results = push(&api, &agent, &[invalid, good.clone()]).await;
    assert!(
        matches!(&results[0], MutationResult::Rejected { problem, errors, .. } if problem == "/problems/invalid" && !errors.is_empty())
    );
    assert!(matches!(&results[1], MutationResult::Applied { .. }));
    api.stop().await;
}

#[tokio::test]
async fn pull_pages_through_what_the_caller_may_see() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let a = api.token("agent", "a", Some("KE.30"), None);
        let b = api.token("agent", "b", Some("KE.31"), None);
        let mine: Vec<Mutation> = (0..7)
            .map(|i| {
                create(
                    RecordKind::Individual,
                    &individual(Uuid::now_v7(), &format!("P{i}"), "A", None),
                )
            })
            .collect();
        push(&api, &a, &mine).await;
        push(
            &api,
            &b,
            &[create(
                RecordKind::Individual,
                &individual(Uuid::now_v7(), "Other", "B", None),
            )],
        )
        .await;

        let mut cursor = String::new();
        let mut seen = Vec::new();
        for _ in 0..10 {
            let page = api
                .get(&format!("/v1/sync/pull?limit=3&cursor={cursor}"), &a)
                .await;
            assert_eq!(page.status, 200, "{:?}", page.json);
            seen.extend(
                page.json["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned()),
            );
            cursor = page.json["cursor"].as_str().unwrap().to_owned();
            if !page.json["more"].as_bool().unwrap() {
                break;
            }
        }
        let expected: Vec<String> = mine.iter().map(|m| m.record_id.to_string()).collect();
        assert_eq!(
            seen, expected,
            "{}: only agent a's area, in order, once",
            api.backend
        );
        let idle = api.get(&format!("/v1/sync/pull?cursor={cursor}"), &a).await;
        assert!(idle.json["records"].as_array().unwrap().is_empty());
        assert_eq!(idle.json["more"], false);

        let foreign = api
            .get(
                "/v1/sync/pull?cursor=0190b6a2-8a3e-7c1d-9f00-1234567890ab.5",
                &a,
            )
            .await;
        assert_eq!(
            (foreign.status, foreign.problem()),
            (409, "/problems/cursor-reset")
        );
        let garbage = api.get("/v1/sync/pull?cursor=garbage", &a).await;
        assert_eq!(garbage.status, 400);
        api.stop().await;
    }
}
