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
