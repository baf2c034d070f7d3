//! Who may do what, over real HTTP on both backends: every `/v1` route, each role, against own
//! and foreign records. A record the caller may not see answers 404 — the same as one that does
//! not exist — so ids cannot be probed.

mod common;

use common::{backends, individual, meta, with, Answer, Api};
use serde_json::{json, Value};
use uuid::Uuid;

/// The people and records every case below runs against.
struct World {
    /// Amina (citizen, linked through her national id) and her husband, in agent A's area.
    amina: Uuid,
    husband: Uuid,
    household: Uuid,
    amina_account: Uuid,
    husband_account: Uuid,
    /// Someone in agent B's area.
    stranger: Uuid,
    programme: Uuid,
    application: Uuid,
    tokens: Tokens,
}

struct Tokens {
    amina: String,
    bob: String,
    agent_a: String,
    agent_b: String,
    staff: String,
    admin: String,
}

async fn created(api: &Api, path: &str, token: &str, body: Value) -> Uuid {
    let answer = api.post(path, token, &body).await;
    assert_eq!(answer.status, 201, "{path}: {:?}", answer.json);
    answer.json["id"].as_str().unwrap().parse().unwrap()
}

async fn world(api: &Api) -> World {
    let tokens = Tokens {
        amina: api.token("citizen", "amina", None, Some("NID-1001")),
        bob: api.token("citizen", "bob", None, Some("NID-2002")),
        agent_a: api.token("agent", "agent-a", Some("KE.30"), None),
        agent_b: api.token("agent", "agent-b", Some("KE.31"), None),
        staff: api.token("staff", "reviewer", None, None),
        admin: api.token("admin", "root", None, None),
    };
    let a = &tokens.agent_a;
    let amina = created(
        api,
        "/v1/individuals",
        a,
        individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001")),
    )
    .await;
    let husband = created(
        api,
        "/v1/individuals",
        a,
        individual(Uuid::now_v7(), "Juma", "Odhiambo", None),
    )
    .await;
    let household = created(
        api,
        "/v1/groups",
        a,
        with(
            meta(Uuid::now_v7()),
            json!({"name": "Odhiambo", "kind": "household"}),
        ),
    )
    .await;
    for (person, kind) in [(amina, "head"), (husband, "spouse")] {
        created(api, "/v1/memberships", a, with(meta(Uuid::now_v7()), json!({
            "group_id": household.to_string(), "individual_id": person.to_string(), "kind": kind, "start_date": "2020-01-01"
        }))).await;
    }
    let account = |owner: Uuid, number: &str| {
        with(
            meta(Uuid::now_v7()),
            json!({
                "registrant_id": owner.to_string(), "kind": "mobile_wallet", "provider_code": "mpesa",
                "account_number": number, "holder_name": "Odhiambo"
            }),
        )
    };
    let amina_account = created(
        api,
        "/v1/financial-accounts",
        a,
        account(amina, "+254712000001"),
    )
    .await;
    let husband_account = created(
        api,
        "/v1/financial-accounts",
        a,
        account(husband, "+254712000002"),
    )
    .await;
    let stranger = created(
        api,
        "/v1/individuals",
        &tokens.agent_b,
        individual(Uuid::now_v7(), "Otieno", "Were", None),
    )
    .await;
    let programme = created(
        api,
        "/v1/programmes",
        &tokens.admin,
        with(
            meta(Uuid::now_v7()),
            json!({"code": "cash_transfer", "name": "Cash transfer"}),
        ),
    )
    .await;
    common::publish_form(api, &tokens.admin, programme, 1, common::empty_form()).await;
    let application = created(api, "/v1/applications", a, with(meta(Uuid::now_v7()), json!({
        "programme_id": programme.to_string(), "applicant_id": amina.to_string(), "form_version": 1, "data": {}, "status": "draft"
    }))).await;
    World {
        amina,
        husband,
        household,
        amina_account,
        husband_account,
        stranger,
        programme,
        application,
        tokens,
    }
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json["items"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_route_wants_a_valid_token() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let id = Uuid::now_v7();
        let routes = [
            ("GET", "/v1/me".to_owned()),
            ("GET", "/v1/search?q=amina".to_owned()),
            ("GET", "/v1/individuals".to_owned()),
            ("POST", "/v1/individuals".to_owned()),
            ("GET", format!("/v1/individuals/{id}")),
            ("PUT", format!("/v1/individuals/{id}")),
            ("DELETE", format!("/v1/individuals/{id}")),
            ("GET", format!("/v1/individuals/{id}/history")),
            ("POST", format!("/v1/applications/{id}/transitions")),
            ("GET", "/v1/review/queue".to_owned()),
            ("GET", format!("/v1/review/applications/{id}")),
            ("POST", format!("/v1/review/documents/{id}/verification")),
            (
                "POST",
                format!("/v1/review/financial-accounts/{id}/verification"),
            ),
            ("POST", "/v1/review/announcements".to_owned()),
        ];
        for (method, path) in &routes {
            for token in [None, Some("not.a.jwt"), Some("")] {
                let answer = api.send(method, path, token, Some(&json!({})), &[]).await;
                assert_eq!(
                    answer.status, 401,
                    "{} {method} {path} with {token:?}",
                    api.backend
                );
                assert_eq!(answer.problem(), "/problems/unauthenticated");
                assert!(answer.headers.contains_key("www-authenticate"));
            }
        }
        api.stop().await;
    }
}

#[tokio::test]
async fn each_role_sees_only_what_it_should() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let t = &w.tokens;
        let get = |token: &str, path: String| {
            let token = token.to_owned();
            let api = &api;
            async move { api.get(&path, &token).await.status }
        };
        // (who, record, expected status)
        let reads: Vec<(&str, &str, String, u16)> = vec![
            (
                "amina",
                &t.amina,
                format!("/v1/individuals/{}", w.amina),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/individuals/{}", w.husband),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/groups/{}", w.household),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/financial-accounts/{}", w.amina_account),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/financial-accounts/{}", w.husband_account),
                404,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/individuals/{}", w.stranger),
                404,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/applications/{}", w.application),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/programmes/{}", w.programme),
                200,
            ),
            ("bob", &t.bob, format!("/v1/individuals/{}", w.amina), 404),
            (
                "bob",
                &t.bob,
                format!("/v1/applications/{}", w.application),
                404,
            ),
            (
                "bob",
                &t.bob,
                format!("/v1/programmes/{}", w.programme),
                200,
            ),
            (
                "agent a",
                &t.agent_a,
                format!("/v1/individuals/{}", w.amina),
                200,
            ),
            (
                "agent a",
                &t.agent_a,
                format!("/v1/individuals/{}", w.stranger),
                404,
            ),
            (
                "agent b",
                &t.agent_b,
                format!("/v1/individuals/{}", w.amina),
                404,
            ),
            (
                "agent b",
                &t.agent_b,
                format!("/v1/applications/{}", w.application),
                404,
            ),
            (
                "agent b",
                &t.agent_b,
                format!("/v1/individuals/{}/history", w.amina),
                404,
            ),
            (
                "staff",
                &t.staff,
                format!("/v1/individuals/{}", w.stranger),
                200,
            ),
            (
                "staff",
                &t.staff,
                format!("/v1/financial-accounts/{}", w.husband_account),
                200,
            ),
            (
                "admin",
                &t.admin,
                format!("/v1/applications/{}", w.application),
                200,
            ),
            (
                "amina",
                &t.amina,
                format!("/v1/individuals/{}/history", w.amina),
                403,
            ),
            (
                "staff",
                &t.staff,
                format!("/v1/individuals/{}/history", w.amina),
                200,
            ),
        ];
        for (who, token, path, expected) in reads {
            assert_eq!(
                get(token, path.clone()).await,
                expected,
                "{}: {who} GET {path}",
                api.backend
            );
        }

        // Lists and search are filtered the same way.
        let amina_sees = ids(&api.get("/v1/individuals", &t.amina).await);
        assert_eq!(
            amina_sees,
            [w.amina.to_string(), w.husband.to_string()],
            "{}",
            api.backend
        );
        assert!(ids(&api.get("/v1/individuals", &t.bob).await).is_empty());
        assert_eq!(
            ids(&api.get("/v1/individuals", &t.agent_b).await),
            [w.stranger.to_string()]
        );
        assert_eq!(ids(&api.get("/v1/individuals", &t.staff).await).len(), 3);
        assert_eq!(
            ids(&api.get("/v1/financial-accounts", &t.amina).await),
            [w.amina_account.to_string()]
        );
        assert!(ids(&api.get("/v1/search?q=otieno", &t.amina).await).is_empty());
        assert!(ids(&api.get("/v1/search?q=odhiambo", &t.agent_b).await).is_empty());
        assert_eq!(
            ids(&api.get("/v1/search?q=odhiambo", &t.agent_a).await).len(),
            2
        );
        assert_eq!(
            api.get("/v1/me", &t.amina).await.json["individual_id"],
            w.amina.to_string()
        );
        // The same person through another client or provider (eSignet subjects are pairwise,
        // one per client) reaches the same record by the same vouched national id.
        let other_identity = api.token("citizen", "amina-on-the-web", None, Some("NID-1001"));
        assert_eq!(
            api.get("/v1/me", &other_identity).await.json["individual_id"],
            w.amina.to_string()
        );
        assert_eq!(
            get(&other_identity, format!("/v1/individuals/{}", w.amina)).await,
            200
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn each_role_changes_only_what_it_should() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let t = &w.tokens;
        let current = |id: Uuid, collection: &'static str| {
            let api = &api;
            let staff = t.staff.clone();
            async move {
                api.get(&format!("/v1/{collection}/{id}"), &staff)
                    .await
                    .json
            }
        };
        let renamed = |mut body: Value, name: &str| {
            body["occupation"] = json!(name);
            body
        };

        // Citizens edit themselves and their household, nobody else.
        let amina = current(w.amina, "individuals").await;
        assert_eq!(
            api.put(
                &format!("/v1/individuals/{}", w.amina),
                &t.amina,
                &renamed(amina, "tailor"),
                1
            )
            .await
            .status,
            200
        );
        let husband = current(w.husband, "individuals").await;
        assert_eq!(
            api.put(
                &format!("/v1/individuals/{}", w.husband),
                &t.amina,
                &renamed(husband, "fisher"),
                1
            )
            .await
            .status,
            200
        );
        let stranger = current(w.stranger, "individuals").await;
        for (who, token, expected) in [
            ("amina", &t.amina, 404),
            ("bob", &t.bob, 404),
            ("agent a", &t.agent_a, 404),
            ("staff", &t.staff, 403),
            ("admin", &t.admin, 403),
        ] {
            let answer = api
                .put(
                    &format!("/v1/individuals/{}", w.stranger),
                    token,
                    &renamed(stranger.clone(), "x"),
                    1,
                )
                .await;
            assert_eq!(
                answer.status, expected,
                "{}: {who} PUT stranger: {:?}",
                api.backend, answer.json
            );
        }
        assert_eq!(
            api.put(
                &format!("/v1/individuals/{}", w.stranger),
                &t.agent_b,
                &renamed(stranger, "mason"),
                1
            )
            .await
            .status,
            200
        );

        // Nobody files records against people they cannot see.
        let contact_for = |owner: Uuid| {
            with(
                meta(Uuid::now_v7()),
                json!({"registrant_id": owner.to_string(), "emails": ["x@example.org"]}),
            )
        };
        let answer = api
            .post("/v1/contacts", &t.bob, &contact_for(w.amina))
            .await;
        assert_eq!(answer.status, 422, "{:?}", answer.json);
        assert_eq!(answer.json["errors"][0]["field"], "registrant_id");
        assert_eq!(
            api.post("/v1/contacts", &t.agent_b, &contact_for(w.amina))
                .await
                .status,
            422
        );
        assert_eq!(
            api.post("/v1/contacts", &t.amina, &contact_for(w.husband))
                .await
                .status,
            201
        );

        // Configuration belongs to admins; registrant data does not.
        let programme = with(
            meta(Uuid::now_v7()),
            json!({"code": "school_meals", "name": "School meals"}),
        );
        for (who, token, expected) in [
            ("amina", &t.amina, 403),
            ("agent a", &t.agent_a, 403),
            ("staff", &t.staff, 403),
            ("admin", &t.admin, 201),
        ] {
            assert_eq!(
                api.post("/v1/programmes", token, &programme).await.status,
                expected,
                "{who} POST programme"
            );
        }
        assert_eq!(
            api.post(
                "/v1/individuals",
                &t.admin,
                &individual(Uuid::now_v7(), "A", "B", None)
            )
            .await
            .status,
            403
        );
        assert_eq!(
            api.post(
                "/v1/individuals",
                &t.staff,
                &individual(Uuid::now_v7(), "A", "B", None)
            )
            .await
            .status,
            403
        );

        // Server-owned fields: a reviewer verifies an account, only from the review desk, and
        // the decision changes nothing else on it.
        let mut account = current(w.amina_account, "financial-accounts").await;
        account["verification_status"] = json!("verified");
        let path = format!("/v1/financial-accounts/{}", w.amina_account);
        assert_eq!(api.put(&path, &t.amina, &account, 1).await.status, 403);
        assert_eq!(api.put(&path, &t.agent_a, &account, 1).await.status, 403);
        assert_eq!(api.put(&path, &t.staff, &account, 1).await.status, 403);
        let verify = format!(
            "/v1/review/financial-accounts/{}/verification",
            w.amina_account
        );
        let decision = json!({"status": "verified"});
        assert_eq!(api.post(&verify, &t.amina, &decision).await.status, 403);
        assert_eq!(api.post(&verify, &t.agent_a, &decision).await.status, 403);
        let verified = api.post(&verify, &t.staff, &decision).await;
        assert_eq!(verified.status, 200, "{:?}", verified.json);
        assert_eq!(verified.json["verification_status"], "verified");
        assert_eq!(verified.json["account_number"], "+254712000001");

        // Business rules hold: one head per household, one preferred account.
        let second_head = with(
            meta(Uuid::now_v7()),
            json!({
                "group_id": w.household.to_string(), "individual_id": w.husband.to_string(), "kind": "head", "start_date": "2021-01-01"
            }),
        );
        let answer = api.post("/v1/memberships", &t.agent_a, &second_head).await;
        assert_eq!(
            (answer.status, answer.problem()),
            (409, "/problems/conflict"),
            "{:?}",
            answer.json
        );

        // Staff and admins review; applicants (and their agents) do not.
        let path = format!("/v1/applications/{}/transitions", w.application);
        assert_eq!(
            api.post(&path, &t.agent_a, &json!({"to": "submitted"}))
                .await
                .status,
            200,
            "an agent submits for the applicant"
        );
        assert_eq!(
            api.post(&path, &t.agent_a, &json!({"to": "under_review"}))
                .await
                .status,
            409,
            "an applicant's agent does not review"
        );
        assert_eq!(
            api.post(&path, &t.bob, &json!({"to": "under_review"}))
                .await
                .status,
            404
        );
        assert_eq!(
            api.post(&path, &t.agent_b, &json!({"to": "under_review"}))
                .await
                .status,
            404
        );
        assert_eq!(
            api.post(&path, &t.admin, &json!({"to": "under_review"}))
                .await
                .status,
            200,
            "an admin reviews as staff do"
        );
        assert_eq!(
            api.post(&path, &t.staff, &json!({"to": "approved"}))
                .await
                .status,
            200
        );

        // Deleting someone else's record is as impossible as reading it.
        let del = api
            .send(
                "DELETE",
                &format!("/v1/individuals/{}", w.amina),
                Some(&t.bob),
                None,
                &[("if-match", "\"2\"")],
            )
            .await;
        assert_eq!(del.status, 404);
        api.stop().await;
    }
}

#[tokio::test]
async fn one_caller_is_rate_limited_without_slowing_others() {
    let backend = &backends().await[0];
    let api = Api::start_with(backend, |config| {
        config.limits.requests_per_minute = 1;
        config.limits.burst = 3;
    })
    .await;
    let busy = api.token("agent", "script", Some("KE.30"), None);
    let other = api.token("agent", "person", Some("KE.30"), None);
    for _ in 0..3 {
        assert_eq!(api.get("/v1/me", &busy).await.status, 200);
    }
    let limited = api.get("/v1/me", &busy).await;
    assert_eq!(
        (limited.status, limited.problem()),
        (429, "/problems/rate-limited")
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(
        api.get("/v1/me", &other).await.status,
        200,
        "others are not held up"
    );
    api.stop().await;
}
