//! The `/v1` API over real HTTP, on SQLite and PostgreSQL: CRUD, pagination, conditional and
//! idempotent writes, the application workflow, and bad input.

mod common;

use common::{backends, individual, meta, with, Api};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn create_read_update_delete_with_revisions() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let id = Uuid::now_v7();
        let created = api
            .post(
                "/v1/individuals",
                &agent,
                &individual(id, "Amina", "Odhiambo", Some("12345678")),
            )
            .await;
        assert_eq!(created.status, 201, "{}: {:?}", api.backend, created.json);
        assert_eq!(created.etag(), "\"1\"");
        assert_eq!(
            created.headers["location"],
            format!("/v1/individuals/{id}").as_str()
        );
        assert_eq!(
            created.json["created_by"], "agent:wanjiru",
            "the server says who created it"
        );

        let read = api.get(&format!("/v1/individuals/{id}"), &agent).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.json["given_name"], "Amina");
        assert_eq!(read.json["rev"], 1);

        // Same id again: a conflict, not an overwrite.
        let again = api
            .post(
                "/v1/individuals",
                &agent,
                &individual(id, "Someone", "Else", None),
            )
            .await;
        assert_eq!((again.status, again.problem()), (409, "/problems/conflict"));

        let mut changed = read.json.clone();
        changed["occupation"] = json!("farmer");
        let path = format!("/v1/individuals/{id}");
        let no_if_match = api
            .send("PUT", &path, Some(&agent), Some(&changed), &[])
            .await;
        assert_eq!(
            (no_if_match.status, no_if_match.problem()),
            (428, "/problems/precondition-required")
        );
        let updated = api.put(&path, &agent, &changed, 1).await;
        assert_eq!(updated.status, 200, "{:?}", updated.json);
        assert_eq!(updated.etag(), "\"2\"");

        // A second device still on revision 1 is told, and gets the current record to merge.
        let mut stale = read.json.clone();
        stale["occupation"] = json!("teacher");
        let refused = api.put(&path, &agent, &stale, 1).await;
        assert_eq!(
            (refused.status, refused.problem()),
            (412, "/problems/stale-revision")
        );
        assert_eq!(refused.json["current"]["occupation"], "farmer");
        assert_eq!(refused.json["current"]["rev"], 2);

        let deleted = api
            .send(
                "DELETE",
                &path,
                Some(&agent),
                None,
                &[("if-match", "\"2\"")],
            )
            .await;
        assert_eq!(deleted.status, 200, "{:?}", deleted.json);
        assert!(deleted.json["deleted_at"].is_string());
        let list = api.get("/v1/individuals", &agent).await;
        assert_eq!(
            list.json["items"].as_array().unwrap().len(),
            0,
            "deleted records leave lists"
        );
        let with_deleted = api
            .get("/v1/individuals?include_deleted=true", &agent)
            .await;
        assert_eq!(with_deleted.json["items"].as_array().unwrap().len(), 1);

        let staff = api.token("staff", "odhiambo", None, None);
        let history = api.get(&format!("{path}/history"), &staff).await;
        let ops: Vec<&str> = history
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["op"].as_str().unwrap())
            .collect();
        assert_eq!(ops, ["create", "update", "delete"], "{}", api.backend);
        assert_eq!(history.json[0]["actor"], "agent:wanjiru");
        assert_eq!(
            history.json[0]["on_behalf_of"],
            id.to_string(),
            "agents act for the registrant"
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn lists_are_paginated_by_cursor_and_searchable() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let mut ids = Vec::new();
        for i in 0..7 {
            let id = Uuid::now_v7();
            let body = individual(
                id,
                &format!("Person{i}"),
                "Kamau",
                Some(&format!("9000000{i}")),
            );
            assert_eq!(api.post("/v1/individuals", &agent, &body).await.status, 201);
            ids.push(id.to_string());
        }
        let mut seen = Vec::new();
        let mut path = "/v1/individuals?limit=3".to_owned();
        for _ in 0..10 {
            let page = api.get(&path, &agent).await;
            assert_eq!(page.status, 200, "{:?}", page.json);
            seen.extend(
                page.json["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned()),
            );
            match page.json["next_after"].as_str() {
                Some(after) => path = format!("/v1/individuals?limit=3&after={after}"),
                None => break,
            }
        }
        assert_eq!(
            seen, ids,
            "{}: every record exactly once, in order",
            api.backend
        );

        let by_name = api.get("/v1/search?q=person3", &agent).await;
        assert_eq!(
            by_name.json["items"].as_array().unwrap().len(),
            1,
            "{:?}",
            by_name.json
        );
        let by_id = api.get("/v1/search?q=90000005", &agent).await;
        assert_eq!(by_id.json["items"][0]["given_name"], "Person5");

        let contact_id = Uuid::now_v7();
        let contact = with(
            meta(contact_id),
            json!({
                "registrant_id": ids[2], "phones": [{"id": Uuid::now_v7().to_string(), "number_e164": "+254712000002", "kind": "mobile"}]
            }),
        );
        let made = api.post("/v1/contacts", &agent, &contact).await;
        assert_eq!(made.status, 201, "{:?}", made.json);
        let by_phone = api.get("/v1/search?q=%2B254712000002", &agent).await;
        assert_eq!(
            by_phone.json["items"][0]["given_name"], "Person2",
            "{:?}",
            by_phone.json
        );

        for bad in [
            "/v1/individuals?limit=0",
            "/v1/individuals?limit=9999",
            "/v1/individuals?after=nope",
            "/v1/individuals?colour=red",
            "/v1/search?q=a",
        ] {
            let answer = api.get(bad, &agent).await;
            assert_eq!(
                (answer.status, answer.problem()),
                (400, "/problems/bad-request"),
                "{bad}"
            );
        }
        api.stop().await;
    }
}

#[tokio::test]
async fn idempotency_keys_replay_without_applying_twice() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let id = Uuid::now_v7();
        let body = individual(id, "Amina", "Odhiambo", None);
        let key = [("idempotency-key", "7f1c-first-try")];
        let first = api
            .send("POST", "/v1/individuals", Some(&agent), Some(&body), &key)
            .await;
        assert_eq!(first.status, 201);
        let retry = api
            .send("POST", "/v1/individuals", Some(&agent), Some(&body), &key)
            .await;
        assert_eq!(
            retry.status, 201,
            "{}: a retry gets the original answer, not a 409",
            api.backend
        );
        assert_eq!(retry.json, first.json);
        assert_eq!(retry.headers["idempotent-replayed"], "true");

        let other = individual(Uuid::now_v7(), "Other", "Person", None);
        let reused = api
            .send("POST", "/v1/individuals", Some(&agent), Some(&other), &key)
            .await;
        assert_eq!(
            (reused.status, reused.problem()),
            (422, "/problems/idempotency-key-reused")
        );

        let staff = api.token("staff", "s", None, None);
        let history = api
            .get(&format!("/v1/individuals/{id}/history"), &staff)
            .await;
        assert_eq!(history.json.as_array().unwrap().len(), 1, "applied once");
        assert_eq!(history.json[0]["request_id"], "7f1c-first-try");
        let list = api.get("/v1/individuals", &staff).await;
        assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
        api.stop().await;
    }
}

#[tokio::test]
async fn applications_move_through_the_workflow_and_notify_the_applicant() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let citizen = api.token("citizen", "amina", None, None);
        let me = Uuid::now_v7();
        assert_eq!(
            api.post(
                "/v1/individuals",
                &citizen,
                &individual(me, "Amina", "Odhiambo", None)
            )
            .await
            .status,
            201
        );
        let whoami = api.get("/v1/me", &citizen).await;
        assert_eq!(
            whoami.json["individual_id"],
            me.to_string(),
            "first record links the citizen"
        );

        let admin = api.token("admin", "root", None, None);
        let programme = Uuid::now_v7();
        let made = api
            .post(
                "/v1/programmes",
                &admin,
                &with(
                    meta(programme),
                    json!({"code": "old_age_pension", "name": "Old-Age Pension"}),
                ),
            )
            .await;
        assert_eq!(made.status, 201, "{:?}", made.json);
        let age = json!({"components": [{"type": "number", "key": "age", "label": "Age", "input": true}]});
        common::publish_form(&api, &admin, programme, 1, age).await;

        let app_id = Uuid::now_v7();
        let application = with(
            meta(app_id),
            json!({
                "programme_id": programme.to_string(), "applicant_id": me.to_string(), "form_version": 1,
                "data": {"age": 70}, "status": "draft", "status_history": []
            }),
        );
        let draft = api.post("/v1/applications", &citizen, &application).await;
        assert_eq!(draft.status, 201, "{:?}", draft.json);

        // The status is not the applicant's to set by editing.
        let mut approved = draft.json.clone();
        approved["status"] = json!("approved");
        let sneaky = api
            .put(
                &format!("/v1/applications/{app_id}"),
                &citizen,
                &approved,
                1,
            )
            .await;
        assert_eq!(
            sneaky.status, 422,
            "inconsistent with its history: {:?}",
            sneaky.json
        );
        let step = |from: &str, to: &str, role: &str| {
            json!({"from": from, "to": to, "at": "2026-11-29T10:00:00Z",
                   "by": {"id": "citizen:amina", "role": role}})
        };
        approved["status_history"] = json!([
            step("draft", "submitted", "applicant"),
            step("submitted", "under_review", "reviewer"),
            step("under_review", "approved", "reviewer")
        ]);
        let forged = api
            .put(
                &format!("/v1/applications/{app_id}"),
                &citizen,
                &approved,
                1,
            )
            .await;
        assert_eq!(forged.status, 403, "a forged history: {:?}", forged.json);
        let now = api
            .get(&format!("/v1/applications/{app_id}"), &citizen)
            .await;
        assert_eq!(now.json["status"], "draft");

        let path = format!("/v1/applications/{app_id}/transitions");
        let submit = api.post(&path, &citizen, &json!({"to": "submitted"})).await;
        assert_eq!(submit.status, 200, "{:?}", submit.json);
        assert_eq!(submit.json["status"], "submitted");

        let self_approve = api
            .post(&path, &citizen, &json!({"to": "under_review"}))
            .await;
        assert_eq!(self_approve.status, 409, "{:?}", self_approve.json);

        let staff = api.token("staff", "reviewer", None, None);
        assert_eq!(
            api.post(&path, &staff, &json!({"to": "under_review"}))
                .await
                .status,
            200
        );
        let no_reason = api
            .post(&path, &staff, &json!({"to": "more_information_needed"}))
            .await;
        assert_eq!(
            no_reason.status, 409,
            "a reason is required: {:?}",
            no_reason.json
        );
        let ask = api
            .post(
                &path,
                &staff,
                &json!({"to": "more_information_needed", "note": "Send your ID card."}),
            )
            .await;
        assert_eq!(ask.status, 200);
        assert_eq!(ask.json["status_history"].as_array().unwrap().len(), 3);

        let stale = api
            .send(
                "POST",
                &path,
                Some(&staff),
                Some(&json!({"to": "rejected", "note": "x"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(stale.status, 412);

        let inbox = api.get("/v1/notifications", &citizen).await;
        let titles: Vec<&str> = inbox.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            [
                "Application received",
                "Application under review",
                "More information needed"
            ],
            "{}",
            api.backend
        );
        let last = &inbox.json["items"][2];
        assert!(last["body"]
            .as_str()
            .unwrap()
            .contains("Send your ID card."));

        // Reading a notification is the only change a citizen may make to it.
        let mut read = last.clone();
        read["read_at"] = json!("2026-11-29T10:00:00Z");
        let path = format!("/v1/notifications/{}", last["id"].as_str().unwrap());
        assert_eq!(api.put(&path, &citizen, &read, 1).await.status, 200);
        let mut rewritten = read.clone();
        rewritten["title"] = json!("Application approved");
        assert_eq!(api.put(&path, &citizen, &rewritten, 2).await.status, 403);
        api.stop().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let id = Uuid::now_v7();
        let good = individual(id, "Amina", "Odhiambo", None);

        let raw = |body: &'static str| {
            api.http
                .post(format!("{}/v1/individuals", api.server.url()))
                .bearer_auth(&agent)
                .header("content-type", "application/json")
                .body(body)
        };
        let malformed = raw("{\"given_name\": ").send().await.unwrap();
        assert_eq!(malformed.status(), 400);
        assert_eq!(
            malformed.headers()["content-type"],
            "application/problem+json"
        );

        let cases = [
            (
                "wrong type",
                with(good.clone(), json!({"given_name": 42})),
                400,
                "/problems/bad-request",
            ),
            (
                "unknown field",
                with(good.clone(), json!({"favourite_colour": "blue"})),
                400,
                "/problems/bad-request",
            ),
            (
                "invalid uuid",
                with(good.clone(), json!({"id": "not-a-uuid"})),
                400,
                "/problems/bad-request",
            ),
            (
                "huge field",
                with(good.clone(), json!({"given_name": "A".repeat(20_000)})),
                422,
                "/problems/invalid",
            ),
            (
                "no name",
                with(good.clone(), json!({"given_name": "", "family_name": ""})),
                422,
                "/problems/invalid",
            ),
            ("array", json!([good.clone()]), 400, "/problems/bad-request"),
        ];
        for (what, body, status, problem) in cases {
            let answer = api.post("/v1/individuals", &agent, &body).await;
            assert_eq!(
                (answer.status, answer.problem()),
                (status, problem),
                "{what}: {:?}",
                answer.json
            );
            assert!(
                !answer.json["detail"].as_str().unwrap_or("").is_empty(),
                "{what}: no detail"
            );
        }
        let invalid = api
            .post(
                "/v1/individuals",
                &agent,
                &with(good.clone(), json!({"given_name": "", "family_name": ""})),
            )
            .await;
        assert!(
            invalid.json["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "per-field errors"
        );

        let too_big = api
            .http
            .post(format!("{}/v1/individuals", api.server.url()))
            .bearer_auth(&agent)
            .header("content-type", "application/json")
            .body(vec![b' '; 3 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(too_big.status(), 413);

        // A document whose file name tries to climb out of its folder.
        assert_eq!(api.post("/v1/individuals", &agent, &good).await.status, 201);
        let doc = with(
            meta(Uuid::now_v7()),
            json!({
                "kind": "id_card", "file_name": "../../etc/passwd", "mime_type": "application/pdf",
                "size_bytes": 10, "sha256": "0".repeat(64), "linked_record": id.to_string(),
                "captured_at": "2026-11-01T08:30:00Z"
            }),
        );
        let traversal = api.post("/v1/documents", &agent, &doc).await;
        assert_eq!(traversal.status, 422, "{:?}", traversal.json);

        for path in [
            "/v1/individuals/not-a-uuid",
            "/v1/individuals/..%2F..%2Fetc",
        ] {
            let answer = api.get(path, &agent).await;
            assert_eq!(answer.status, 400, "{path}: {:?}", answer.json);
        }
        assert_eq!(api.get("/v1/wizards", &agent).await.status, 404);

        let staff = api.token("staff", "s", None, None);
        let all = api.get("/v1/individuals", &staff).await;
        assert_eq!(
            all.json["items"].as_array().unwrap().len(),
            1,
            "{}: only the good record was stored",
            api.backend
        );
        assert_eq!(
            api.get("/v1/documents", &staff).await.json["items"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
        api.stop().await;
    }
}
