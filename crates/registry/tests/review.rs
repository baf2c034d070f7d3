//! The review desk (issue 17), over real HTTP on both backends: the queue (filters, order,
//! pages, what a row carries, areas), one application opened, decisions on documents and
//! payment accounts, the application moves with a note, the notifications each of them writes
//! in the applicant's language, and announcements. Who may use each route is in the
//! authorisation matrix of `tests/staff.rs`.

mod common;

use common::{backends, individual, meta, with, Answer, Api};
use doorstep_registry::api::review::announce::notice_id;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

struct World {
    api: Api,
    /// Programme one (nothing required) and two (an ID card required), each with a form v1.
    one: Value,
    two: Value,
    /// Amina (KE.30, reads French), Otieno (KE.31), Baraka (KE.30.2), Juma (KE.30).
    amina: Value,
    otieno: Value,
    baraka: Value,
    /// a1: Amina → one, submitted first; a2: Otieno → one, second; a3: Baraka → two, third;
    /// a4: Juma → two, a draft; a5: Amina → two, submitted fourth, then under review.
    apps: Vec<Value>,
    amina_docs: Vec<Value>,
    otieno_doc: Value,
    amina_account: Value,
    t: Tokens,
}

struct Tokens {
    amina: String,
    otieno: String,
    agent_a: String,
    staff: String,
    admin: String,
    /// Staff the directory limits to KE.30.
    ke30: String,
}

async fn created(api: &Api, path: &str, token: &str, body: Value) -> Value {
    let answer = api.post(path, token, &body).await;
    assert_eq!(
        answer.status, 201,
        "{} {path}: {:?}",
        api.backend, answer.json
    );
    answer.json
}

fn id(record: &Value) -> &str {
    record["id"].as_str().unwrap()
}

fn document(linked: &Value, kind: &str, seed: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"kind": kind, "file_name": "scan.pdf", "mime_type": "application/pdf",
               "size_bytes": 10, "sha256": hex::encode(Sha256::digest(seed.as_bytes())),
               "linked_record": linked["id"], "captured_at": "2026-11-01T08:30:00Z"}),
    )
}

fn application(programme: &Value, applicant: &Value) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"programme_id": programme["id"], "applicant_id": applicant["id"],
               "form_version": 1, "data": {"household_size": 4}, "status": "draft"}),
    )
}

async fn transition(api: &Api, token: &str, app: &Value, to: &str, note: Option<&str>) -> Answer {
    api.post(
        &format!("/v1/applications/{}/transitions", id(app)),
        token,
        &json!({"to": to, "note": note}),
    )
    .await
}

async fn world(backend: &common::Backend) -> World {
    let api = Api::start(backend).await;
    let admin = api.token("admin", "root", None, None);
    let agent_a = api.token("agent", "agent-a", Some("KE.30"), None);
    let agent_b = api.token("agent", "agent-b", Some("KE.31"), None);
    let agent_c = api.token("agent", "agent-c", Some("KE.30.2"), None);
    let mut programmes = Vec::new();
    for (code, required) in [("one", json!([])), ("two", json!(["id_card"]))] {
        let p = created(
            &api,
            "/v1/programmes",
            &admin,
            with(
                meta(Uuid::now_v7()),
                json!({"code": code, "name": format!("Programme {code}"), "required_documents": required}),
            ),
        )
        .await;
        created(
            &api,
            "/v1/forms",
            &admin,
            with(
                meta(Uuid::now_v7()),
                json!({"programme_id": p["id"], "version": 1,
                       "schema": {"components": [{"type": "number", "key": "household_size"}]}}),
            ),
        )
        .await;
        programmes.push(p);
    }
    let (one, two) = (programmes[0].clone(), programmes[1].clone());
    let mut amina = individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001"));
    amina["preferred_language"] = json!("fr-KE");
    let amina = created(&api, "/v1/individuals", &agent_a, amina).await;
    let otieno = created(
        &api,
        "/v1/individuals",
        &agent_b,
        individual(Uuid::now_v7(), "Otieno", "Were", Some("NID-3003")),
    )
    .await;
    let baraka = created(
        &api,
        "/v1/individuals",
        &agent_c,
        individual(Uuid::now_v7(), "Baraka", "Mutua", None),
    )
    .await;
    let juma = created(
        &api,
        "/v1/individuals",
        &agent_a,
        individual(Uuid::now_v7(), "Juma", "Odhiambo", None),
    )
    .await;
    let t = Tokens {
        amina: api.token("citizen", "amina", None, Some("NID-1001")),
        otieno: api.token("citizen", "otieno", None, Some("NID-3003")),
        agent_a: agent_a.clone(),
        staff: api.token("staff", "reviewer", None, None),
        admin: admin.clone(),
        ke30: api.token("staff", "ke30-reviewer", None, None),
    };
    // The KE.30 reviewer's limit comes from the staff directory.
    let grant = api
        .post(
            "/v1/staff",
            &admin,
            &json!({"issuer": "doorstep-dev-auth", "subject": "ke30-reviewer", "role": "staff", "areas": ["KE.30"]}),
        )
        .await;
    assert_eq!(grant.status, 201, "{:?}", grant.json);

    let mut amina_docs = Vec::new();
    for (kind, seed) in [
        ("id_card", "amina id"),
        ("proof_of_address", "amina bill"),
        ("photo", "amina photo"),
    ] {
        let mut doc = document(&amina, kind, seed);
        if kind == "photo" {
            doc["mime_type"] = json!("image/jpeg");
        }
        amina_docs.push(created(&api, "/v1/documents", &t.amina, doc).await);
    }
    let otieno_doc = created(
        &api,
        "/v1/documents",
        &t.otieno,
        document(&otieno, "id_card", "otieno id"),
    )
    .await;
    created(
        &api,
        "/v1/documents",
        &agent_c,
        document(&baraka, "id_card", "baraka id"),
    )
    .await;
    let amina_account = created(
        &api,
        "/v1/financial-accounts",
        &t.amina,
        with(
            meta(Uuid::now_v7()),
            json!({"registrant_id": amina["id"], "kind": "mobile_wallet", "provider_code": "mpesa",
                   "account_number": "+254712000001", "holder_name": "Amina Odhiambo"}),
        ),
    )
    .await;

    let a1 = created(
        &api,
        "/v1/applications",
        &t.amina,
        application(&one, &amina),
    )
    .await;
    let a2 = created(
        &api,
        "/v1/applications",
        &t.otieno,
        application(&one, &otieno),
    )
    .await;
    let a3 = created(
        &api,
        "/v1/applications",
        &agent_c,
        application(&two, &baraka),
    )
    .await;
    let a4 = created(&api, "/v1/applications", &agent_a, application(&two, &juma)).await;
    let a5 = created(
        &api,
        "/v1/applications",
        &t.amina,
        application(&two, &amina),
    )
    .await;
    for (app, token) in [
        (&a1, &t.amina),
        (&a2, &t.otieno),
        (&a3, &agent_c),
        (&a5, &t.amina),
    ] {
        let answer = transition(&api, token, app, "submitted", None).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
    }
    assert_eq!(
        transition(&api, &t.staff, &a5, "under_review", None)
            .await
            .status,
        200
    );
    World {
        api,
        one,
        two,
        amina,
        otieno,
        baraka,
        apps: vec![a1, a2, a3, a4, a5],
        amina_docs,
        otieno_doc,
        amina_account,
        t,
    }
}

impl World {
    async fn queue(&self, token: &str, query: &str) -> Answer {
        self.api
            .get(&format!("/v1/review/queue{query}"), token)
            .await
    }

    /// The application ids of a queue page (asserting it was answered).
    async fn queued(&self, token: &str, query: &str) -> Vec<String> {
        let answer = self.queue(token, query).await;
        assert_eq!(
            answer.status, 200,
            "{} {query}: {:?}",
            self.api.backend, answer.json
        );
        answer.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["application_id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn ids(&self, which: &[usize]) -> Vec<String> {
        which
            .iter()
            .map(|i| id(&self.apps[*i - 1]).to_owned())
            .collect()
    }

    /// A citizen's own notifications, oldest first.
    async fn notifications(&self, token: &str) -> Vec<Value> {
        let answer = self.api.get("/v1/notifications?limit=500", token).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        answer.json["items"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn the_queue_filters_orders_and_pages() {
    for backend in backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        let staff = &w.t.staff;
        // Waiting for the office, longest first; the draft is nobody's to review.
        assert_eq!(w.queued(staff, "").await, w.ids(&[1, 2, 3, 5]), "{name}");
        let page = w.queue(staff, "").await.json;
        let first = &page["items"][0];
        assert_eq!(first["programme_name"], "Programme one");
        assert_eq!(first["applicant_name"], "Amina Odhiambo");
        assert_eq!(first["applicant_id"], w.amina["id"]);
        assert_eq!(first["status"], "submitted");
        assert_eq!(first["area"], "KE.30");
        assert_eq!(first["form_version"], 1);
        assert_eq!(first["documents_pending"], 3, "{name}: {first:?}");
        assert_eq!(page["items"][1]["documents_pending"], 1);
        assert_eq!(page["next_after"], Value::Null);
        let rev = first["rev"].as_u64().unwrap();
        assert_eq!(
            w.api
                .get(&format!("/v1/applications/{}", id(&w.apps[0])), staff)
                .await
                .json["rev"],
            rev
        );
        // A verified document is no longer pending.
        let verified = w
            .api
            .post(
                &format!("/v1/review/documents/{}/verification", id(&w.amina_docs[2])),
                staff,
                &json!({"status": "verified"}),
            )
            .await;
        assert_eq!(verified.status, 200, "{:?}", verified.json);
        assert_eq!(
            w.queue(staff, "").await.json["items"][0]["documents_pending"],
            2
        );

        // Filters.
        let one = id(&w.one);
        let two = id(&w.two);
        assert_eq!(
            w.queued(staff, &format!("?programme={one}")).await,
            w.ids(&[1, 2])
        );
        assert_eq!(
            w.queued(staff, &format!("?programme={two}")).await,
            w.ids(&[3, 5])
        );
        assert_eq!(w.queued(staff, "?status=under_review").await, w.ids(&[5]));
        assert_eq!(
            w.queued(staff, "?status=submitted").await,
            w.ids(&[1, 2, 3])
        );
        assert!(w.queued(staff, "?status=approved").await.is_empty());
        assert_eq!(
            w.queued(staff, "?area=KE.30").await,
            w.ids(&[1, 3, 5]),
            "{name}"
        );
        assert_eq!(w.queued(staff, "?area=KE.30.2").await, w.ids(&[3]));
        assert!(
            w.queued(staff, "?area=KE.3").await.is_empty(),
            "codes, not text prefixes"
        );
        let since_a3 = page["items"][2]["waiting_since"].as_str().unwrap();
        let before = format!("?waiting_since_before={}", since_a3.replace('+', "%2B"));
        assert_eq!(w.queued(staff, &before).await, w.ids(&[1, 2]), "{name}");
        assert_eq!(
            w.queued(
                staff,
                &format!("?programme={one}&area=KE.31&status=submitted")
            )
            .await,
            w.ids(&[2])
        );

        // Pages, one at a time, in the same order.
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = match &after {
                Some(a) => format!("?limit=1&after={}", urlencode(a)),
                None => "?limit=1".into(),
            };
            let answer = w.queue(staff, &query).await;
            assert_eq!(answer.status, 200, "{:?}", answer.json);
            for item in answer.json["items"].as_array().unwrap() {
                seen.push(item["application_id"].as_str().unwrap().to_owned());
            }
            match answer.json["next_after"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
            assert!(seen.len() <= 4, "{seen:?}");
        }
        assert_eq!(seen, w.ids(&[1, 2, 3, 5]), "{name}");

        // Bad input is refused.
        for bad in [
            "?status=draft",
            "?limit=0",
            "?limit=101",
            "?after=yesterday",
            "?waiting_since_before=last%20week",
            "?area=",
            "?colour=red",
            "?programme=not-a-uuid",
        ] {
            assert_eq!(w.queue(staff, bad).await.status, 400, "{name} {bad}");
        }

        // Staff limited to KE.30 see KE.30 and below only, and may not ask for elsewhere.
        assert_eq!(w.queued(&w.t.ke30, "").await, w.ids(&[1, 3, 5]), "{name}");
        assert_eq!(w.queued(&w.t.ke30, "?area=KE.30.2").await, w.ids(&[3]));
        assert_eq!(w.queue(&w.t.ke30, "?area=KE.31").await.status, 403);
        assert_eq!(w.queue(&w.t.ke30, "?area=KE").await.status, 403);
        // Admins see the queue; citizens and agents do not.
        assert_eq!(w.queued(&w.t.admin, "").await.len(), 4);
        assert_eq!(w.queue(&w.t.amina, "").await.status, 403);
        assert_eq!(w.queue(&w.t.agent_a, "").await.status, 403);
        w.api.stop().await;
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn a_reviewer_opens_an_application_with_what_it_needs() {
    for backend in backends().await {
        let w = world(&backend).await;
        let a5 = &w.apps[4];
        let path = format!("/v1/review/applications/{}", id(a5));
        let answer = w.api.get(&path, &w.t.staff).await;
        assert_eq!(answer.status, 200, "{} {:?}", backend.name, answer.json);
        let case = &answer.json;
        assert_eq!(case["application"]["id"], a5["id"]);
        assert_eq!(case["application"]["status"], "under_review");
        assert_eq!(case["programme"]["code"], "two");
        assert_eq!(case["form"]["version"], 1);
        assert_eq!(case["form"]["programme_id"], w.two["id"]);
        assert_eq!(case["applicant"]["given_name"], "Amina");
        assert_eq!(case["documents"].as_array().unwrap().len(), 3);
        assert_eq!(case["accounts"][0]["id"], w.amina_account["id"]);
        assert_eq!(case["missing_documents"], json!([]));
        assert_eq!(
            case["next_statuses"],
            json!(["more_information_needed", "approved", "rejected"])
        );
        assert_eq!(answer.etag(), format!("\"{}\"", case["application"]["rev"]));
        // Opening changed nothing.
        let stored = w
            .api
            .get(&format!("/v1/applications/{}", id(a5)), &w.t.staff)
            .await;
        assert_eq!(stored.json, case["application"]);

        // A rejected ID card is missing again.
        let card = w
            .amina_docs
            .iter()
            .find(|d| d["kind"] == "id_card")
            .unwrap();
        let rejected = w
            .api
            .post(
                &format!("/v1/review/documents/{}/verification", id(card)),
                &w.t.staff,
                &json!({"status": "rejected", "reason": "Expired in 2019."}),
            )
            .await;
        assert_eq!(rejected.status, 200, "{:?}", rejected.json);
        let case = w.api.get(&path, &w.t.admin).await.json;
        assert_eq!(case["missing_documents"], json!(["id_card"]));

        // Elsewhere it does not exist; the desk is not for applicants or agents.
        let a2 = format!("/v1/review/applications/{}", id(&w.apps[1]));
        assert_eq!(w.api.get(&a2, &w.t.ke30).await.status, 404);
        assert_eq!(w.api.get(&a2, &w.t.staff).await.status, 200);
        assert_eq!(w.api.get(&path, &w.t.agent_a).await.status, 403);
        assert_eq!(w.api.get(&path, &w.t.amina).await.status, 403);
        let nobody = format!("/v1/review/applications/{}", Uuid::now_v7());
        assert_eq!(w.api.get(&nobody, &w.t.staff).await.status, 404);
        w.api.stop().await;
    }
}

#[tokio::test]
async fn decisions_on_documents_and_accounts_tell_the_person_in_their_language() {
    for backend in backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        let staff = &w.t.staff;
        let card = w.amina_docs[0].clone();
        let proof = w.amina_docs[1].clone();
        let verify = |doc: &Value| format!("/v1/review/documents/{}/verification", id(doc));
        let before = w.notifications(&w.t.amina).await.len();

        // Verified: the record says who and when, its history too, and Amina reads it in French.
        let answer = w
            .api
            .post(&verify(&card), staff, &json!({"status": "verified"}))
            .await;
        assert_eq!(answer.status, 200, "{name}: {:?}", answer.json);
        assert_eq!(answer.json["verification_status"], "verified");
        assert_eq!(answer.json["review"]["by"], "staff:reviewer");
        assert_eq!(answer.json["review"]["reason"], Value::Null);
        assert_eq!(answer.json["rev"], 2);
        assert_eq!(
            answer.json["sha256"], card["sha256"],
            "nothing else changed"
        );
        let history = w
            .api
            .get(&format!("/v1/documents/{}/history", id(&card)), staff)
            .await;
        let last = history.json.as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["actor"].as_str(), last["rev"].as_u64()),
            (Some("staff:reviewer"), Some(2))
        );
        let notes = w.notifications(&w.t.amina).await;
        assert_eq!(notes.len(), before + 1, "{name}");
        let note = notes
            .iter()
            .find(|n| n["related_record"] == card["id"])
            .unwrap();
        assert_eq!(note["kind"], "document_review");
        assert_eq!(note["title"], "Document accepté");
        assert!(
            note["body"].as_str().unwrap().contains("carte d'identité"),
            "{note:?}"
        );

        // Rejected: a reason is required; without one nothing changes.
        let answer = w
            .api
            .post(&verify(&proof), staff, &json!({"status": "rejected"}))
            .await;
        assert_eq!(answer.status, 422, "{:?}", answer.json);
        assert_eq!(answer.json["errors"][0]["field"], "reason");
        let answer = w
            .api
            .post(
                &verify(&proof),
                staff,
                &json!({"status": "rejected", "reason": "  "}),
            )
            .await;
        assert_eq!(answer.status, 422);
        assert_eq!(
            w.api
                .get(&format!("/v1/documents/{}", id(&proof)), staff)
                .await
                .json["rev"],
            1
        );
        assert_eq!(w.notifications(&w.t.amina).await.len(), before + 1);
        for bad in [
            json!({"status": "pending"}),
            json!({"status": "verified", "extra": 1}),
            json!([]),
        ] {
            assert_eq!(
                w.api.post(&verify(&proof), staff, &bad).await.status,
                400,
                "{bad}"
            );
        }
        let reject =
            json!({"status": "rejected", "reason": "The bill is older than three months."});
        let keyed = |token: &str| {
            let api = &w.api;
            let path = verify(&proof);
            let token = token.to_owned();
            let body = reject.clone();
            async move {
                api.send(
                    "POST",
                    &path,
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", "reject-proof-1")],
                )
                .await
            }
        };
        let first = keyed(staff).await;
        assert_eq!(first.status, 200, "{:?}", first.json);
        assert_eq!(
            first.json["review"]["reason"],
            "The bill is older than three months."
        );
        // The retry is answered the same and tells nobody twice.
        let again = keyed(staff).await;
        assert_eq!((again.status, &again.json), (200, &first.json));
        assert_eq!(again.headers["idempotent-replayed"], "true");
        let notes = w.notifications(&w.t.amina).await;
        assert_eq!(notes.len(), before + 2, "{name}");
        let note = notes
            .iter()
            .find(|n| n["related_record"] == proof["id"])
            .unwrap();
        assert_eq!(note["kind"], "document_requested");
        assert_eq!(note["title"], "Veuillez renvoyer votre document");
        assert!(
            note["body"]
                .as_str()
                .unwrap()
                .ends_with("Motif : The bill is older than three months."),
            "{note:?}"
        );
        // A decision on a stale revision is refused.
        let stale = w
            .api
            .send(
                "POST",
                &verify(&proof),
                Some(staff),
                Some(&json!({"status": "verified"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(stale.status, 412, "{:?}", stale.json);

        // Otieno reads English; staff of KE.30 cannot see his document, agents verify nothing.
        assert_eq!(
            w.api
                .post(
                    &verify(&w.otieno_doc),
                    &w.t.ke30,
                    &json!({"status": "verified"})
                )
                .await
                .status,
            404
        );
        assert_eq!(
            w.api
                .post(
                    &verify(&w.otieno_doc),
                    &w.t.agent_a,
                    &json!({"status": "verified"})
                )
                .await
                .status,
            403
        );
        assert_eq!(
            w.api
                .post(
                    &verify(&w.otieno_doc),
                    &w.t.otieno,
                    &json!({"status": "verified"})
                )
                .await
                .status,
            403
        );
        let answer = w
            .api
            .post(
                &verify(&w.otieno_doc),
                &w.t.admin,
                &json!({"status": "verified"}),
            )
            .await;
        assert_eq!(answer.status, 200, "admins verify too: {:?}", answer.json);
        assert_eq!(answer.json["review"]["by"], "admin:root");
        let his = w.notifications(&w.t.otieno).await;
        assert!(
            his.iter().any(|n| n["title"] == "Document accepted"),
            "{his:?}"
        );

        // The payment account: failed needs a reason, and says it in French.
        let account = format!(
            "/v1/review/financial-accounts/{}/verification",
            id(&w.amina_account)
        );
        assert_eq!(
            w.api
                .post(&account, staff, &json!({"status": "failed"}))
                .await
                .status,
            422
        );
        assert_eq!(
            w.api
                .post(&account, staff, &json!({"status": "pending"}))
                .await
                .status,
            400
        );
        assert_eq!(
            w.api
                .post(&account, &w.t.agent_a, &json!({"status": "verified"}))
                .await
                .status,
            403
        );
        let failed = w
            .api
            .post(
                &account,
                staff,
                &json!({"status": "failed", "reason": "M-Pesa knows no wallet with this number."}),
            )
            .await;
        assert_eq!(failed.status, 200, "{:?}", failed.json);
        assert_eq!(failed.json["verification_status"], "failed");
        let notes = w.notifications(&w.t.amina).await;
        let note = notes.last().unwrap();
        assert_eq!(
            (note["kind"].as_str(), note["title"].as_str()),
            (
                Some("account_review"),
                Some("Compte de paiement non vérifié")
            )
        );
        let verified = w
            .api
            .post(&account, &w.t.ke30, &json!({"status": "verified"}))
            .await;
        assert_eq!(verified.status, 200, "{:?}", verified.json);
        assert_eq!(verified.json["review"]["reason"], Value::Null);
        assert_eq!(w.notifications(&w.t.amina).await.len(), before + 4);

        // Her device gets the decisions and the notifications with its next pull.
        let pulled = w.api.get("/v1/sync/pull", &w.t.amina).await;
        assert_eq!(pulled.status, 200);
        let records = pulled.json["records"].as_array().unwrap();
        let body_of = |record_id: &Value| {
            records
                .iter()
                .find(|r| r["id"] == *record_id)
                .map(|r| r["body"].clone())
                .unwrap_or(Value::Null)
        };
        assert_eq!(body_of(&proof["id"])["verification_status"], "rejected");
        assert_eq!(body_of(&card["id"])["verification_status"], "verified");
        assert_eq!(
            body_of(&w.amina_account["id"])["verification_status"],
            "verified"
        );
        assert_eq!(
            records
                .iter()
                .filter(|r| r["kind"] == "notification")
                .count(),
            before + 4
        );
        w.api.stop().await;
    }
}

#[tokio::test]
async fn reviewers_ask_approve_and_reject_with_a_note_and_the_applicant_is_told() {
    for backend in backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        let (a1, a2, a3) = (&w.apps[0], &w.apps[1], &w.apps[2]);
        let amina_before = w.notifications(&w.t.amina).await.len();

        // Approving a submitted application takes it under review first, by the same reviewer,
        // and tells Amina once, in French.
        let approved = transition(
            &w.api,
            &w.t.staff,
            a1,
            "approved",
            Some("Welcome to the programme."),
        )
        .await;
        assert_eq!(approved.status, 200, "{name}: {:?}", approved.json);
        let moves: Vec<(&str, &str)> = approved.json["status_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["to"].as_str().unwrap(), c["by"]["id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            moves,
            [
                ("submitted", "citizen:amina"),
                ("under_review", "staff:reviewer"),
                ("approved", "staff:reviewer")
            ]
        );
        let notes = w.notifications(&w.t.amina).await;
        assert_eq!(notes.len(), amina_before + 1, "{name}");
        let note = notes.last().unwrap();
        assert_eq!(note["title"], "Demande approuvée");
        assert!(note["body"].as_str().unwrap().contains("Programme one"));
        assert!(note["body"]
            .as_str()
            .unwrap()
            .ends_with("Message du bureau : Welcome to the programme."));

        // Asking for more needs a note; Otieno reads English.
        let refused = transition(&w.api, &w.t.staff, a2, "more_information_needed", None).await;
        assert_eq!(refused.status, 409, "{:?}", refused.json);
        assert_eq!(
            w.api
                .get(&format!("/v1/applications/{}", id(a2)), &w.t.staff)
                .await
                .json["status"],
            "submitted"
        );
        let asked = transition(&w.api, &w.t.ke30, a2, "more_information_needed", Some("x")).await;
        assert_eq!(asked.status, 404, "staff of KE.30 do not see KE.31");
        let asked = transition(
            &w.api,
            &w.t.staff,
            a2,
            "more_information_needed",
            Some("Which school do the children attend?"),
        )
        .await;
        assert_eq!(asked.status, 200, "{:?}", asked.json);
        let his = w.notifications(&w.t.otieno).await;
        let note = his.last().unwrap();
        assert_eq!(
            (note["kind"].as_str(), note["title"].as_str()),
            (Some("application_status"), Some("More information needed"))
        );
        assert!(note["body"]
            .as_str()
            .unwrap()
            .ends_with("Note from the office: Which school do the children attend?"));
        // He answers; an admin rejects it with a note.
        let answered = transition(&w.api, &w.t.otieno, a2, "submitted", None).await;
        assert_eq!(answered.status, 200, "{:?}", answered.json);
        assert_eq!(
            w.notifications(&w.t.otieno).await.last().unwrap()["title"],
            "Your answers were sent"
        );
        let rejected = transition(
            &w.api,
            &w.t.admin,
            a2,
            "rejected",
            Some("The household's income is above the limit."),
        )
        .await;
        assert_eq!(rejected.status, 200, "{:?}", rejected.json);
        assert_eq!(
            w.notifications(&w.t.otieno).await.last().unwrap()["title"],
            "Application not approved"
        );

        // An agent does not decide for the office (agent A sees KE.30.2, below KE.30); nothing
        // changes.
        let by_agent = transition(&w.api, &w.t.agent_a, a3, "approved", None).await;
        assert_eq!(by_agent.status, 409, "{:?}", by_agent.json);
        assert_eq!(
            w.api
                .get(&format!("/v1/applications/{}", id(a3)), &w.t.staff)
                .await
                .json["rev"],
            2
        );
        // Decided ones leave the queue.
        assert_eq!(w.queued(&w.t.staff, "").await, w.ids(&[3, 5]), "{name}");
        assert_eq!(w.queued(&w.t.staff, "?status=approved").await, w.ids(&[1]));
        assert_eq!(w.queued(&w.t.staff, "?status=rejected").await, w.ids(&[2]));
        let _ = &w.baraka;
        w.api.stop().await;
    }
}

#[tokio::test]
async fn announcements_reach_each_applicant_once_in_their_language() {
    for backend in backends().await {
        let w = world(&backend).await;
        let name = backend.name;
        let announcement = |id: Uuid| {
            json!({"id": id, "programme_id": w.one["id"], "title": "Payment dates",
                   "body": "Payments are made on the 5th of each month from June.",
                   "translations": [{"language": "fr", "title": "Dates de paiement",
                                     "body": "Les paiements ont lieu le 5 de chaque mois dès juin."}]})
        };
        let send = |token: &str, body: Value, key: &str| {
            let api = &w.api;
            let token = token.to_owned();
            let key = key.to_owned();
            async move {
                api.send(
                    "POST",
                    "/v1/review/announcements",
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", &key)],
                )
                .await
            }
        };
        let first_id = Uuid::now_v7();
        let sent = send(&w.t.staff, announcement(first_id), "announce-1").await;
        assert_eq!(sent.status, 200, "{name}: {:?}", sent.json);
        assert_eq!(
            sent.json,
            json!({"id": first_id, "programme_id": w.one["id"], "notified": 2, "already_notified": 0})
        );
        // Each applicant's notification has the id the announcement and the person give.
        let told = |token: &str, announcement: Uuid, person: &Value| {
            let api = &w.api;
            let token = token.to_owned();
            let path = format!(
                "/v1/notifications/{}",
                notice_id(announcement, id(person).parse().unwrap())
            );
            async move { api.get(&path, &token).await }
        };
        let announcements = |notes: Vec<Value>| {
            notes
                .into_iter()
                .filter(|n| n["kind"] == "announcement" && n["related_record"] == w.one["id"])
                .count()
        };
        let hers = told(&w.t.amina, first_id, &w.amina).await;
        assert_eq!(hers.status, 200, "{name}: {:?}", hers.json);
        assert_eq!(hers.json["title"], "Dates de paiement");
        let his = told(&w.t.otieno, first_id, &w.otieno).await;
        assert_eq!(his.json["title"], "Payment dates");
        assert_eq!(
            his.json["body"],
            "Payments are made on the 5th of each month from June."
        );
        assert_eq!(announcements(w.notifications(&w.t.amina).await), 1);

        // The same key: the same answer, nobody told twice.
        let again = send(&w.t.staff, announcement(first_id), "announce-1").await;
        assert_eq!((again.status, &again.json), (200, &sent.json));
        assert_eq!(again.headers["idempotent-replayed"], "true");
        // The same announcement under another key: everyone had it already.
        let resent = send(&w.t.staff, announcement(first_id), "announce-1-bis").await;
        assert_eq!(resent.json["notified"], 0, "{:?}", resent.json);
        assert_eq!(resent.json["already_notified"], 2);
        // Two sendings of a new one at once: still one each.
        let second_id = Uuid::now_v7();
        let (a, b) = tokio::join!(
            send(&w.t.staff, announcement(second_id), "race-a"),
            send(&w.t.admin, announcement(second_id), "race-b")
        );
        assert_eq!(
            (a.status, b.status),
            (200, 200),
            "{:?} {:?}",
            a.json,
            b.json
        );
        assert_eq!(
            a.json["notified"].as_u64().unwrap() + b.json["notified"].as_u64().unwrap(),
            2,
            "{name}: {:?} {:?}",
            a.json,
            b.json
        );
        assert_eq!(told(&w.t.amina, second_id, &w.amina).await.status, 200);
        assert_eq!(told(&w.t.otieno, second_id, &w.otieno).await.status, 200);
        assert_eq!(
            announcements(w.notifications(&w.t.amina).await),
            2,
            "two announcements, one each"
        );
        assert_eq!(announcements(w.notifications(&w.t.otieno).await), 2);

        // Staff of KE.30 reach KE.30's applicants only, and no other area.
        let third = send(&w.t.ke30, announcement(Uuid::now_v7()), "ke30").await;
        assert_eq!(third.json["notified"], 1, "{name}: {:?}", third.json);
        let mut elsewhere = announcement(Uuid::now_v7());
        elsewhere["area"] = json!("KE.31");
        assert_eq!(send(&w.t.ke30, elsewhere.clone(), "ke31").await.status, 403);
        let only_there = send(&w.t.staff, elsewhere, "ke31-by-staff").await;
        assert_eq!(only_there.json["notified"], 1);
        let mut submitted_only = announcement(Uuid::now_v7());
        submitted_only["status"] = json!("approved");
        assert_eq!(
            send(&w.t.staff, submitted_only, "approved-only").await.json["notified"],
            0
        );

        // Refusals change nothing.
        let count = w.notifications(&w.t.amina).await.len();
        let mut untitled = announcement(Uuid::now_v7());
        untitled["title"] = json!(" ");
        let answer = send(&w.t.staff, untitled, "bad-1").await;
        assert_eq!(answer.status, 422, "{:?}", answer.json);
        assert_eq!(answer.json["errors"][0]["field"], "title");
        let mut twice = announcement(Uuid::now_v7());
        twice["translations"] = json!([
            {"language": "fr", "title": "A", "body": "B"}, {"language": "fr", "title": "C", "body": "D"}
        ]);
        assert_eq!(send(&w.t.staff, twice, "bad-2").await.status, 422);
        let mut nowhere = announcement(Uuid::now_v7());
        nowhere["programme_id"] = json!(Uuid::now_v7());
        assert_eq!(send(&w.t.staff, nowhere, "bad-3").await.status, 404);
        let mut unknown = announcement(Uuid::now_v7());
        unknown["colour"] = json!("red");
        assert_eq!(send(&w.t.staff, unknown, "bad-4").await.status, 400);
        for token in [&w.t.amina, &w.t.agent_a] {
            assert_eq!(
                send(token, announcement(Uuid::now_v7()), "bad-5")
                    .await
                    .status,
                403
            );
        }
        assert_eq!(w.notifications(&w.t.amina).await.len(), count);
        let _ = (&w.baraka, &w.otieno);
        w.api.stop().await;
    }
}
