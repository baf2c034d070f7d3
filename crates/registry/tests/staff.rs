//! The staff directory and trusted issuers (issue 17), on every backend: a citizens' provider
//! (eSignet-like: citizens only, role claim ignored) and a staff provider (roles from the
//! directory only) trusted at once; the first admin made with `doorstep-registry admin grant`
//! (the library behind it, on the same database); then the API's authorisation matrix, grants,
//! changes and revocations taking effect on the next request, e-mail matching, bad input.

mod common;

use common::{Api, Backend, TestIssuer};
use doorstep_domain::api::{paths, StaffGrant, StaffRole};
use doorstep_registry::staff_cli::{self, AdminAction, RevokeTarget};
use serde_json::{json, Value};

struct World {
    api: Api,
    citizens: TestIssuer,
    staff: TestIssuer,
    config: doorstep_registry::config::Config,
}

async fn world(backend: &Backend) -> World {
    let citizens = TestIssuer::start().await;
    let staff = TestIssuer::start().await;
    let issuers = vec![
        citizens.config(false, &["citizen"]),
        staff.config(false, &["agent", "staff", "admin"]),
    ];
    let for_server = issuers.clone();
    let api = Api::start_with(backend, move |config| {
        config.auth.issuers = for_server;
        // Only the two providers: no development tokens in these tests.
        config.dev_auth = false;
    })
    .await;
    let mut config = backend.config(api.data.path());
    config.auth.issuers = issuers;
    World {
        api,
        citizens,
        staff,
        config,
    }
}

impl World {
    /// `doorstep-registry admin grant` for a staff-provider subject.
    async fn cli_grant(&self, subject: &str, role: StaffRole, areas: &[&str]) -> String {
        staff_cli::run(
            &self.config,
            AdminAction::Grant(StaffGrant {
                issuer: self.staff.issuer.clone(),
                subject: Some(subject.into()),
                email: None,
                role,
                areas: areas.iter().map(|a| a.to_string()).collect(),
            }),
        )
        .await
        .unwrap()
    }

    fn staff_token(&self, subject: &str) -> String {
        self.staff.token(subject, json!({}))
    }

    async fn grant(&self, admin: &str, body: Value) -> common::Answer {
        self.api.post(paths::STAFF, admin, &body).await
    }

    /// `PUT /v1/staff/{id}`.
    async fn change(&self, token: &str, id: &str, body: Value) -> common::Answer {
        let path = format!("/v1/staff/{id}");
        self.api
            .send("PUT", &path, Some(token), Some(&body), &[])
            .await
    }

    /// `DELETE /v1/staff/{id}`.
    async fn revoke(&self, token: &str, id: &str) -> common::Answer {
        let path = format!("/v1/staff/{id}");
        self.api.send("DELETE", &path, Some(token), None, &[]).await
    }

    async fn me(&self, token: &str) -> common::Answer {
        self.api.get(paths::ME, token).await
    }
}

fn id_of(answer: &common::Answer) -> String {
    answer.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn roles_come_from_the_directory_or_nowhere() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;

        // A citizen of the citizens' provider, with a forged admin claim: still a citizen,
        // and the directory routes are closed to them.
        let forged = w
            .citizens
            .token("amina", json!({"roles": ["admin"], "area": "KE"}));
        let me = w.me(&forged).await;
        assert_eq!(
            (me.status, me.json["role"].as_str()),
            (200, Some("citizen")),
            "{name}"
        );
        assert_eq!(w.api.get(paths::STAFF, &forged).await.status, 403, "{name}");
        let grant = json!({"issuer": w.citizens.issuer, "subject": "amina", "role": "admin"});
        assert_eq!(w.grant(&forged, grant).await.status, 403, "{name}");

        // Someone from the staff provider with no entry is refused, forged claim or not; the
        // staff provider grants no citizens, so they cannot act as one either.
        for token in [
            w.staff_token("root"),
            w.staff.token("root", json!({"roles": "admin"})),
        ] {
            let me = w.me(&token).await;
            assert_eq!(
                (me.status, me.problem()),
                (403, "/problems/forbidden"),
                "{name}"
            );
            assert!(
                me.json["detail"]
                    .as_str()
                    .unwrap()
                    .contains("staff directory"),
                "{name}"
            );
        }

        // A token from an issuer nobody trusts: 401, as before.
        let stranger = TestIssuer::start().await;
        assert_eq!(
            w.me(&stranger.token("x", json!({}))).await.status,
            401,
            "{name}"
        );

        // The first administrator, from the server's command line; it counts at once.
        let line = w.cli_grant("root", StaffRole::Admin, &[]).await;
        assert!(
            line.contains("admin") && line.contains("cli:"),
            "{name}: {line}"
        );
        let root = w.staff_token("root");
        let me = w.me(&root).await;
        assert_eq!(
            (me.status, me.json["role"].as_str()),
            (200, Some("admin")),
            "{name}"
        );
        assert_eq!(me.json["actor"], "admin:root", "{name}");

        w.api.stop().await;
    }
}

#[tokio::test]
async fn grants_changes_and_revocations_count_from_the_next_request() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        w.cli_grant("root", StaffRole::Admin, &[]).await;
        let root = w.staff_token("root");
        // One token for the whole test: what it may do changes with the directory, not the token.
        let sam = w.staff_token("sam");
        assert_eq!(w.me(&sam).await.status, 403, "{name}");

        let granted = w
            .grant(&root, json!({"issuer": w.staff.issuer, "subject": "sam", "role": "staff", "areas": ["KE.30"]}))
            .await;
        assert_eq!(granted.status, 201, "{name}: {:?}", granted.json);
        assert_eq!(granted.json["granted_by"], "admin:root", "{name}");
        let sam_id = id_of(&granted);
        let me = w.me(&sam).await;
        assert_eq!(
            (me.json["role"].as_str(), me.json["areas"].clone()),
            (Some("staff"), json!(["KE.30"])),
            "{name}"
        );

        // Same identity again: change the entry instead.
        let again = w
            .grant(
                &root,
                json!({"issuer": w.staff.issuer, "subject": "sam", "role": "admin"}),
            )
            .await;
        assert_eq!(
            (again.status, again.problem()),
            (409, "/problems/conflict"),
            "{name}"
        );

        let changed = w.change(&root, &sam_id, json!({"role": "admin"})).await;
        assert_eq!(changed.status, 200, "{name}: {:?}", changed.json);
        assert_eq!(changed.json["changed_by"], "admin:root", "{name}");
        assert_eq!(w.me(&sam).await.json["role"], "admin", "{name}");

        let revoked = w.revoke(&root, &sam_id).await;
        assert_eq!(revoked.status, 200, "{name}: {:?}", revoked.json);
        assert_eq!(revoked.json["revoked_by"], "admin:root", "{name}");
        assert_eq!(
            w.me(&sam).await.status,
            403,
            "{name}: revoked, and no citizen fallback"
        );
        // Kept as the trail, hidden from the default list.
        let live = w.api.get(paths::STAFF, &root).await;
        assert_eq!(live.json["items"].as_array().unwrap().len(), 1, "{name}");
        let all = w.api.get("/v1/staff?include_revoked=true", &root).await;
        assert_eq!(all.json["items"].as_array().unwrap().len(), 2, "{name}");
        // Revoking twice, changing a revoked entry: 409.
        let twice = w.revoke(&root, &sam_id).await;
        assert_eq!(twice.status, 409, "{name}");

        // The last admin can neither revoke nor demote themself.
        let root_id = live.json["items"][0]["id"].as_str().unwrap().to_owned();
        let demote = w.change(&root, &root_id, json!({"role": "staff"})).await;
        assert_eq!(demote.status, 409, "{name}");
        assert!(
            demote.json["detail"]
                .as_str()
                .unwrap()
                .contains("no administrator"),
            "{name}"
        );
        let leave = w.revoke(&root, &root_id).await;
        assert_eq!(leave.status, 409, "{name}");
        assert_eq!(
            w.me(&root).await.json["role"],
            "admin",
            "{name}: nothing changed"
        );

        // The command line revokes by identity, with the same rule.
        let refused = staff_cli::run(
            &w.config,
            AdminAction::Revoke(RevokeTarget::Identity {
                issuer: w.staff.issuer.clone(),
                subject: Some("root".into()),
                email: None,
            }),
        )
        .await
        .unwrap_err();
        assert!(refused.contains("no administrator"), "{name}: {refused}");
        let listed = staff_cli::run(
            &w.config,
            AdminAction::List {
                include_revoked: true,
            },
        )
        .await
        .unwrap();
        assert_eq!(listed.lines().count(), 2, "{name}: {listed}");
        w.api.stop().await;
    }
}

#[tokio::test]
async fn an_email_matches_only_when_the_provider_verified_it() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        w.cli_grant("root", StaffRole::Admin, &[]).await;
        let root = w.staff_token("root");
        let granted = w
            .grant(&root, json!({"issuer": w.staff.issuer, "email": "Ana@Example.org", "role": "agent", "areas": ["KE.1"]}))
            .await;
        assert_eq!(granted.status, 201, "{name}: {:?}", granted.json);
        assert_eq!(granted.json["email"], "ana@example.org", "{name}");

        let with = |verified: Value| {
            w.staff.token(
                "ana-sub",
                json!({"email": "ANA@example.org", "email_verified": verified}),
            )
        };
        assert_eq!(
            w.me(&w
                .staff
                .token("ana-sub", json!({"email": "ana@example.org"})))
                .await
                .status,
            403,
            "{name}"
        );
        assert_eq!(w.me(&with(json!(false))).await.status, 403, "{name}");
        assert_eq!(w.me(&with(json!("true"))).await.status, 403, "{name}");
        let me = w.me(&with(json!(true))).await;
        assert_eq!(
            (
                me.status,
                me.json["role"].as_str(),
                me.json["area"].as_str()
            ),
            (200, Some("agent"), Some("KE.1")),
            "{name}"
        );
        // The same address at the citizens' provider is someone else entirely.
        let elsewhere = w.citizens.token(
            "ana-sub",
            json!({"email": "ana@example.org", "email_verified": true}),
        );
        assert_eq!(w.me(&elsewhere).await.json["role"], "citizen", "{name}");
        w.api.stop().await;
    }
}

/// Every directory route × every role, and staff limited to a foreign area.
#[tokio::test]
async fn authorisation_matrix() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        w.cli_grant("root", StaffRole::Admin, &[]).await;
        w.cli_grant("agent", StaffRole::Agent, &["KE.1"]).await;
        w.cli_grant("staff", StaffRole::Staff, &[]).await;
        w.cli_grant("foreign", StaffRole::Staff, &["ZZ.9"]).await;
        let callers = [
            ("citizen", w.citizens.token("c", json!({}))),
            ("agent", w.staff_token("agent")),
            ("staff", w.staff_token("staff")),
            ("staff of a foreign area", w.staff_token("foreign")),
            ("admin", w.staff_token("root")),
        ];
        for (who, token) in &callers {
            let admin = *who == "admin";
            let reads = matches!(*who, "staff" | "staff of a foreign area" | "admin");
            // A fresh entry each round, so each write has something to act on.
            let target = w
                .grant(&callers[4].1, json!({"issuer": w.staff.issuer, "subject": format!("t-{who}"), "role": "staff"}))
                .await;
            assert_eq!(target.status, 201, "{name}");
            let entry = id_of(&target);
            let list = w.api.get(paths::STAFF, token).await.status;
            assert_eq!(list, if reads { 200 } else { 403 }, "{name} {who} GET");
            let post = w
                .grant(token, json!({"issuer": w.staff.issuer, "subject": format!("new-{who}"), "role": "staff"}))
                .await
                .status;
            assert_eq!(post, if admin { 201 } else { 403 }, "{name} {who} POST");
            let put = w
                .change(token, &entry, json!({"role": "staff", "areas": ["KE.2"]}))
                .await
                .status;
            assert_eq!(put, if admin { 200 } else { 403 }, "{name} {who} PUT");
            let delete = w.revoke(token, &entry).await.status;
            assert_eq!(delete, if admin { 200 } else { 403 }, "{name} {who} DELETE");
        }
        review_desk_matrix(&w, &callers).await;
        // Staff limited to a foreign area get no cross-area duplicate flags.
        let foreign = &callers[3].1;
        assert_eq!(
            w.api.get(paths::DUPLICATES, foreign).await.status,
            403,
            "{name}"
        );
        assert_eq!(
            w.api.get(paths::DUPLICATES, &callers[2].1).await.status,
            200,
            "{name}"
        );
        w.api.stop().await;
    }
}

/// The review desk (issue 17): every route × every role, and staff of a foreign area. A KE.1
/// applicant's case is made fresh for each caller, so each write has something to act on.
async fn review_desk_matrix(w: &World, callers: &[(&str, String); 5]) {
    let api = &w.api;
    let agent = &callers[1].1;
    let admin = &callers[4].1;
    let created = |path: &'static str, token: String, body: Value| async move {
        let answer = api.post(path, &token, &body).await;
        assert_eq!(
            answer.status, 201,
            "{} {path}: {:?}",
            api.backend, answer.json
        );
        answer.json
    };
    let programme = created(
        "/v1/programmes",
        admin.clone(),
        common::with(
            common::meta(uuid::Uuid::now_v7()),
            json!({"code": "matrix", "name": "Matrix", "allow_multiple_applications": true}),
        ),
    )
    .await;
    // Its form, version 1: the applications below are filled in on it.
    created(
        "/v1/forms",
        admin.clone(),
        common::with(
            common::meta(uuid::Uuid::now_v7()),
            json!({"programme_id": programme["id"], "version": 1,
                   "schema": {"components": [{"type": "textfield", "key": "note", "label": "Note", "input": true}]}}),
        ),
    )
    .await;
    for (who, token) in callers {
        let reviews = matches!(*who, "staff" | "admin");
        let foreign = *who == "staff of a foreign area";
        let person = created(
            "/v1/individuals",
            agent.clone(),
            common::individual(uuid::Uuid::now_v7(), "Case", who, None),
        )
        .await;
        let document = created(
            "/v1/documents",
            agent.clone(),
            common::with(
                common::meta(uuid::Uuid::now_v7()),
                json!({"kind": "id_card", "file_name": "id.pdf", "mime_type": "application/pdf",
                       "size_bytes": 1, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       "linked_record": person["id"], "captured_at": "2026-11-01T08:30:00Z"}),
            ),
        )
        .await;
        let account = created(
            "/v1/financial-accounts",
            agent.clone(),
            common::with(
                common::meta(uuid::Uuid::now_v7()),
                json!({"registrant_id": person["id"], "kind": "mobile_wallet", "provider_code": "mpesa",
                       "account_number": "+254712000009", "holder_name": "Case"}),
            ),
        )
        .await;
        let application = created(
            "/v1/applications",
            agent.clone(),
            common::with(
                common::meta(uuid::Uuid::now_v7()),
                json!({"programme_id": programme["id"], "applicant_id": person["id"],
                       "form_version": 1, "data": {}, "status": "draft"}),
            ),
        )
        .await;
        let app_id = application["id"].as_str().unwrap().parse().unwrap();
        let submitted = api
            .post(
                &paths::transitions(app_id),
                agent,
                &json!({"to": "submitted"}),
            )
            .await;
        assert_eq!(submitted.status, 200, "{:?}", submitted.json);

        let seen = |allowed: u16| match (reviews, foreign) {
            (true, _) => allowed,
            (false, true) => 404,
            (false, false) => 403,
        };
        let name = api.backend;
        let queue = api.get(paths::REVIEW_QUEUE, token).await;
        assert_eq!(
            queue.status,
            if reviews || foreign { 200 } else { 403 },
            "{name} {who} queue"
        );
        if foreign {
            assert_eq!(queue.json["items"], json!([]), "{name}: nothing of KE.1");
        }
        let in_area = api
            .get(&format!("{}?area=KE.1", paths::REVIEW_QUEUE), token)
            .await;
        assert_eq!(
            in_area.status,
            if reviews { 200 } else { 403 },
            "{name} {who} queue KE.1"
        );
        let case = api.get(&paths::review_application(app_id), token).await;
        assert_eq!(case.status, seen(200), "{name} {who} case");
        let doc_id = document["id"].as_str().unwrap().parse().unwrap();
        let verified = api
            .post(
                &paths::review_document(doc_id),
                token,
                &json!({"status": "verified"}),
            )
            .await;
        assert_eq!(
            verified.status,
            seen(200),
            "{name} {who} verify document: {:?}",
            verified.json
        );
        let account_id = account["id"].as_str().unwrap().parse().unwrap();
        let failed = api
            .post(
                &paths::review_account(account_id),
                token,
                &json!({"status": "failed", "reason": "Unknown wallet."}),
            )
            .await;
        assert_eq!(failed.status, seen(200), "{name} {who} verify account");
        // Deciding on the application: a reviewer's move (the agent is the applicant's side).
        let moved = api
            .post(
                &paths::transitions(app_id),
                token,
                &json!({"to": "more_information_needed", "note": "Add a photo."}),
            )
            .await;
        let expected = match *who {
            "agent" => 409,
            "citizen" => 404,
            _ => seen(200),
        };
        assert_eq!(
            moved.status, expected,
            "{name} {who} transition: {:?}",
            moved.json
        );
        let announcement = api
            .post(
                paths::ANNOUNCEMENTS,
                token,
                &json!({"id": uuid::Uuid::now_v7(), "programme_id": programme["id"],
                        "title": "Office closed", "body": "The office is closed on Friday."}),
            )
            .await;
        assert_eq!(
            announcement.status,
            if reviews || foreign { 200 } else { 403 },
            "{name} {who} announce: {:?}",
            announcement.json
        );
        if foreign {
            assert_eq!(announcement.json["notified"], 0, "{name}: nobody of KE.1");
        }
        if reviews {
            assert!(announcement.json["notified"].as_u64().unwrap() >= 1);
        }
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        w.cli_grant("root", StaffRole::Admin, &[]).await;
        let root = w.staff_token("root");
        let staff_iss = w.staff.issuer.clone();
        let cases = [
            (
                json!({"issuer": staff_iss, "subject": "a", "email": "a@example.org", "role": "staff"}),
                "exactly one",
            ),
            (json!({"issuer": staff_iss, "role": "staff"}), "exactly one"),
            (
                json!({"issuer": staff_iss, "subject": "a", "role": "agent"}),
                "exactly one area",
            ),
            (
                json!({"issuer": staff_iss, "subject": "a", "role": "agent", "areas": ["KE.1", "KE.2"]}),
                "exactly one area",
            ),
            (
                json!({"issuer": staff_iss, "subject": "a", "role": "admin", "areas": ["KE.1"]}),
                "every area",
            ),
            (
                json!({"issuer": staff_iss, "subject": "a", "role": "staff", "areas": ["KE.1", "KE.1"]}),
                "twice",
            ),
            (
                json!({"issuer": staff_iss, "subject": "a", "role": "staff", "areas": [" KE.1"]}),
                "area code",
            ),
            (
                json!({"issuer": staff_iss, "email": "not an address", "role": "staff"}),
                "e-mail",
            ),
            (
                json!({"issuer": "https://unknown.example", "subject": "a", "role": "staff"}),
                "not an issuer this registry trusts",
            ),
            (
                json!({"issuer": w.citizens.issuer, "subject": "a", "role": "admin"}),
                "may not grant",
            ),
        ];
        for (body, says) in cases {
            let answer = w.grant(&root, body.clone()).await;
            assert_eq!(answer.status, 400, "{name} {body}");
            let detail = answer.json["detail"].as_str().unwrap_or("");
            assert!(detail.contains(says), "{name} {body}: {detail}");
        }
        for body in [
            json!({"issuer": staff_iss, "subject": "a", "role": "citizen"}),
            json!({"issuer": staff_iss, "subject": "a", "role": "staff", "extra": 1}),
        ] {
            assert_eq!(w.grant(&root, body).await.status, 400, "{name}");
        }
        let unknown = uuid::Uuid::now_v7().to_string();
        let put = w.change(&root, &unknown, json!({"role": "staff"})).await;
        assert_eq!(put.status, 404, "{name}");
        assert_eq!(w.revoke(&root, &unknown).await.status, 404, "{name}");
        assert_eq!(w.revoke(&root, "not-a-uuid").await.status, 400, "{name}");
        assert_eq!(
            w.api.get("/v1/staff?limit=0", &root).await.status,
            400,
            "{name}"
        );
        let page = w.api.get(paths::STAFF, &root).await;
        assert_eq!(
            page.json["items"].as_array().unwrap().len(),
            1,
            "{name}: only the bootstrap admin"
        );
        w.api.stop().await;
    }
}

#[tokio::test]
async fn pages_follow_one_another() {
    for backend in common::backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        w.cli_grant("root", StaffRole::Admin, &[]).await;
        for i in 0..4 {
            w.cli_grant(&format!("s{i}"), StaffRole::Staff, &[]).await;
        }
        let root = w.staff_token("root");
        let mut seen = Vec::new();
        let mut path = "/v1/staff?limit=2".to_owned();
        loop {
            let page = w.api.get(&path, &root).await;
            assert_eq!(page.status, 200, "{name}");
            seen.extend(
                page.json["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["subject"].clone()),
            );
            match page.json["next_after"].as_str() {
                Some(after) => path = format!("/v1/staff?limit=2&after={after}"),
                None => break,
            }
        }
        assert_eq!(
            seen,
            vec![
                json!("root"),
                json!("s0"),
                json!("s1"),
                json!("s2"),
                json!("s3")
            ],
            "{name}"
        );
        w.api.stop().await;
    }
}
