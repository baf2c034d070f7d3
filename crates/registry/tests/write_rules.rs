//! What an outside security probe of the registry found (issue 14), each as a test on every path
//! that reaches the same data — REST and sync push — and on both backends. Every test here failed
//! before its fix.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::sync::{create, push, record_of, update};
use common::{backends, individual, meta, with, Answer, Api};
use doorstep_domain::sync::{ChangeSet, Mutation, MutationOp, MutationResult};
use doorstep_domain::RecordKind;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// An update of `record` on `base_rev` whose change set is `set`, exactly as given.
fn raw_update(kind: RecordKind, record: Uuid, base_rev: u64, set: Value) -> Mutation {
    let set: Map<String, Value> = set.as_object().unwrap().clone();
    Mutation {
        id: Uuid::now_v7(),
        kind,
        record_id: record,
        op: MutationOp::Update,
        base_rev: Some(base_rev),
        changes: ChangeSet {
            set,
            ..ChangeSet::default()
        },
    }
}

async fn push_one(api: &Api, token: &str, mutation: Mutation) -> MutationResult {
    push(api, token, &[mutation]).await.remove(0)
}

/// The problem type of a rejected mutation ("" if it was not rejected).
fn rejection(result: &MutationResult) -> (&str, &str) {
    match result {
        MutationResult::Rejected {
            problem, message, ..
        } => (problem.as_str(), message.as_str()),
        _ => ("", ""),
    }
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

fn id_of(record: &Value) -> Uuid {
    record["id"].as_str().unwrap().parse().unwrap()
}

fn account(owner: Uuid, number: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({
            "registrant_id": owner.to_string(), "kind": "mobile_wallet", "provider_code": "mpesa",
            "account_number": number, "holder_name": "Odhiambo"
        }),
    )
}

/// Amina (a citizen linked through her national id, registered by agent A in KE.30), her
/// husband in the same household, and Otieno, registered by agent B in KE.31.
struct World {
    amina: Value,
    husband: Value,
    stranger: Value,
    citizen: String,
    agent_a: String,
    agent_b: String,
    staff: String,
}

async fn world(api: &Api) -> World {
    let agent_a = api.token("agent", "agent-a", Some("KE.30"), None);
    let agent_b = api.token("agent", "agent-b", Some("KE.31"), None);
    let amina = created(
        api,
        "/v1/individuals",
        &agent_a,
        individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001")),
    )
    .await;
    let husband = created(
        api,
        "/v1/individuals",
        &agent_a,
        individual(Uuid::now_v7(), "Juma", "Odhiambo", None),
    )
    .await;
    let household = created(
        api,
        "/v1/groups",
        &agent_a,
        with(
            meta(Uuid::now_v7()),
            json!({"name": "Odhiambo", "kind": "household"}),
        ),
    )
    .await;
    for (person, kind) in [(&amina, "head"), (&husband, "spouse")] {
        created(api, "/v1/memberships", &agent_a, with(meta(Uuid::now_v7()), json!({
            "group_id": household["id"], "individual_id": person["id"], "kind": kind, "start_date": "2020-01-01"
        }))).await;
    }
    let stranger = created(
        api,
        "/v1/individuals",
        &agent_b,
        individual(Uuid::now_v7(), "Otieno", "Were", None),
    )
    .await;
    let citizen = api.token("citizen", "amina", None, Some("NID-1001"));
    let me = api.get("/v1/me", &citizen).await;
    assert_eq!(me.json["individual_id"], amina["id"], "Amina is linked");
    World {
        amina,
        husband,
        stranger,
        citizen,
        agent_a,
        agent_b,
        staff: api.token("staff", "reviewer", None, None),
    }
}

/// Item 1: a mutation names its record once, in `record_id`; a change set naming another id (or
/// any field the registry owns) is refused, and the other record is untouched.
#[tokio::test]
async fn a_push_cannot_aim_at_another_record_or_set_what_the_registry_owns() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let stranger = id_of(&w.stranger);
        let amina = id_of(&w.amina);

        // A citizen's update of her own record carrying someone else's id.
        let hijack = raw_update(
            RecordKind::Individual,
            amina,
            1,
            json!({"id": stranger.to_string(), "given_name": "Hijacked"}),
        );
        let r = push_one(&api, &w.citizen, hijack).await;
        assert_eq!(
            rejection(&r).0,
            "/problems/invalid",
            "{}: {r:?}",
            api.backend
        );
        // An agent's, on an application of another area: same.
        let r = push_one(
            &api,
            &w.agent_a,
            raw_update(
                RecordKind::Individual,
                amina,
                1,
                json!({"id": stranger.to_string(), "family_name": "Hijacked"}),
            ),
        )
        .await;
        assert_eq!(
            rejection(&r).0,
            "/problems/invalid",
            "{}: {r:?}",
            api.backend
        );
        let other = api
            .get(&format!("/v1/individuals/{stranger}"), &w.agent_b)
            .await;
        assert_eq!(other.json["given_name"], "Otieno", "{}", api.backend);
        assert_eq!(other.json["family_name"], "Were");
        assert_eq!(other.json["rev"], 1);
        let own = api
            .get(&format!("/v1/individuals/{amina}"), &w.agent_a)
            .await;
        assert_eq!(
            own.json["rev"], 1,
            "nothing applied to her own record either"
        );

        // Every server-owned field, set or unset.
        for set in [
            json!({"rev": 9}),
            json!({"created_by": "agent:someone-else"}),
            json!({"created_at": "2001-01-01T00:00:00Z"}),
            json!({"deleted_at": "2026-01-01T00:00:00Z"}),
        ] {
            let r = push_one(
                &api,
                &w.agent_a,
                raw_update(RecordKind::Individual, amina, 1, set.clone()),
            )
            .await;
            assert_eq!(rejection(&r).0, "/problems/invalid", "{set}: {r:?}");
        }
        let mut unset = raw_update(RecordKind::Individual, amina, 1, json!({}));
        unset.changes.unset = vec!["created_by".into()];
        let r = push_one(&api, &w.agent_a, unset).await;
        assert_eq!(rejection(&r).0, "/problems/invalid", "{r:?}");

        // A create whose body id is not its record id.
        let mut body = individual(Uuid::now_v7(), "Forged", "Create", None);
        let mut forged = create(RecordKind::Individual, &body);
        body["id"] = json!(stranger.to_string());
        forged.changes.set = body.as_object().unwrap().clone();
        let r = push_one(&api, &w.agent_a, forged.clone()).await;
        assert_ne!(rejection(&r).0, "", "{r:?}");
        assert_eq!(
            api.get(&format!("/v1/individuals/{}", forged.record_id), &w.agent_a)
                .await
                .status,
            404
        );

        // REST: the body's id must be the URL's.
        let mut put = w.amina.clone();
        put["id"] = json!(stranger.to_string());
        let answer = api
            .put(&format!("/v1/individuals/{amina}"), &w.agent_a, &put, 1)
            .await;
        assert_eq!(answer.status, 400, "{:?}", answer.json);

        // A record the caller cannot see answers the same whatever the revision, and the same
        // as a record that does not exist.
        let probe = |record, rev| {
            raw_update(
                RecordKind::Individual,
                record,
                rev,
                json!({"occupation": "x"}),
            )
        };
        let answers: Vec<(String, String)> = [
            probe(stranger, 1),
            probe(stranger, 7),
            probe(Uuid::now_v7(), 1),
        ]
        .into_iter()
        .map(|m| async {
            let r = push_one(&api, &w.agent_a, m).await;
            let (p, msg) = rejection(&r);
            (p.to_owned(), msg.to_owned())
        })
        .collect::<futures_util::future::JoinAll<_>>()
        .await;
        assert_eq!(answers[0].0, "/problems/not-found", "{answers:?}");
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
        api.stop().await;
    }
}

/// Item 2: what staff verified cannot be swapped while keeping the verification, and a
/// verification comes only from a reviewer's decision at the review desk.
#[tokio::test]
async fn changing_a_verified_account_resets_its_verification() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let amina = id_of(&w.amina);
        let acc = created(
            &api,
            "/v1/financial-accounts",
            &w.citizen,
            account(amina, "+254712000001"),
        )
        .await;
        let id = acc["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/financial-accounts/{id}");
        let verify = || {
            let api = &api;
            let staff = w.staff.clone();
            let path = format!("/v1/review/financial-accounts/{id}/verification");
            async move {
                let answer = api
                    .post(&path, &staff, &json!({"status": "verified"}))
                    .await;
                assert_eq!(answer.status, 200, "{:?}", answer.json);
                answer.json
            }
        };
        let verified = verify().await;
        assert_eq!(verified["review"]["by"], "staff:reviewer", "{verified:?}");

        // REST: a new number and holder, the old status carried along.
        let mut changed = verified.clone();
        changed["account_number"] = json!("+254799999999");
        changed["holder_name"] = json!("Somebody Else");
        let answer = api.put(&path, &w.citizen, &changed, 2).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        assert_eq!(
            answer.json["verification_status"], "unverified",
            "{}",
            api.backend
        );
        assert_eq!(answer.json["review"], Value::Null);
        // Claiming verification herself is refused, on both paths, and staff cannot set it by
        // an edit either.
        let mut claimed = answer.json.clone();
        claimed["verification_status"] = json!("verified");
        assert_eq!(api.put(&path, &w.citizen, &claimed, 3).await.status, 403);
        assert_eq!(api.put(&path, &w.staff, &claimed, 3).await.status, 403);
        let r = push_one(
            &api,
            &w.citizen,
            update(RecordKind::FinancialAccount, &answer.json, &claimed),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");

        // Push: the same reset.
        let verified = verify().await;
        let mut changed = verified.clone();
        changed["account_number"] = json!("+254711111111");
        let r = push_one(
            &api,
            &w.citizen,
            update(RecordKind::FinancialAccount, &verified, &changed),
        )
        .await;
        assert_eq!(record_of(&r)["verification_status"], "unverified", "{r:?}");
        // An edit that leaves the verified facts alone keeps the verification.
        verify().await;
        let now = api.get(&path, &w.staff).await.json;
        let mut renamed = now.clone();
        renamed["preferred_for_payments"] = json!(true);
        let rev = now["rev"].as_u64().unwrap();
        let answer = api.put(&path, &w.citizen, &renamed, rev).await;
        assert_eq!(answer.json["verification_status"], "verified");
        assert_eq!(answer.json["review"], now["review"]);
        api.stop().await;
    }
}

/// Item 2, documents: a document staff checked becomes pending again when it is made evidence
/// of something else (its kind or record), on REST and push; its verification is the
/// reviewer's alone.
#[tokio::test]
async fn changing_what_a_verified_document_is_resets_its_verification() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let sha = hex::encode(Sha256::digest(b"an id card"));
        let doc = created(
            &api,
            "/v1/documents",
            &w.citizen,
            document(&w.amina, &sha, 10),
        )
        .await;
        let id = doc["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/documents/{id}");
        let verify = || {
            let api = &api;
            let staff = w.staff.clone();
            let path = format!("/v1/review/documents/{id}/verification");
            async move {
                let answer = api
                    .post(&path, &staff, &json!({"status": "verified"}))
                    .await;
                assert_eq!(answer.status, 200, "{:?}", answer.json);
                answer.json
            }
        };
        let verified = verify().await;
        assert_eq!(verified["verification_status"], "verified");
        // A new document cannot arrive verified, on either path.
        let mut forged = document(&w.amina, &sha, 10);
        forged["verification_status"] = json!("verified");
        assert_eq!(
            api.post("/v1/documents", &w.citizen, &forged).await.status,
            403
        );
        let r = push_one(&api, &w.citizen, create(RecordKind::Document, &forged)).await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        // A renamed file keeps it; another kind does not (REST).
        let mut renamed = verified.clone();
        renamed["file_name"] = json!("my-id.pdf");
        let answer = api.put(&path, &w.citizen, &renamed, 2).await;
        assert_eq!(
            answer.json["verification_status"], "verified",
            "{:?}",
            answer.json
        );
        let mut other_kind = answer.json.clone();
        other_kind["kind"] = json!("proof_of_address");
        let answer = api.put(&path, &w.citizen, &other_kind, 3).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        assert_eq!(
            answer.json["verification_status"], "pending",
            "{}",
            api.backend
        );
        assert_eq!(answer.json["review"], Value::Null);
        // Push: the same.
        let verified = verify().await;
        let mut other_kind = verified.clone();
        other_kind["kind"] = json!("id_card");
        let r = push_one(
            &api,
            &w.citizen,
            update(RecordKind::Document, &verified, &other_kind),
        )
        .await;
        assert_eq!(record_of(&r)["verification_status"], "pending", "{r:?}");
        // Nobody marks it by an edit: not its owner, not staff (on either path).
        let now = api.get(&path, &w.staff).await.json;
        let mut claimed = now.clone();
        claimed["verification_status"] = json!("verified");
        let rev = now["rev"].as_u64().unwrap();
        assert_eq!(api.put(&path, &w.citizen, &claimed, rev).await.status, 403);
        assert_eq!(api.put(&path, &w.staff, &claimed, rev).await.status, 403);
        assert_eq!(api.put(&path, &w.agent_a, &claimed, rev).await.status, 403);
        let r = push_one(
            &api,
            &w.agent_a,
            update(RecordKind::Document, &now, &claimed),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        assert_eq!(api.get(&path, &w.staff).await.json["rev"], now["rev"]);
        api.stop().await;
    }
}

/// Item 3: a sign-in links only to a record an agent or the office registered, or one the
/// provider vouched for, found by ID type and number together.
#[tokio::test]
async fn a_sign_in_links_only_to_a_record_someone_stands_behind() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let mallory = api.token("citizen", "mallory", None, Some("NID-6666"));
        created(
            &api,
            "/v1/individuals",
            &mallory,
            individual(Uuid::now_v7(), "Mallory", "M", Some("NID-6666")),
        )
        .await;
        // Mallory registers "the victim" with the victim's number.
        let decoy = created(
            &api,
            "/v1/individuals",
            &mallory,
            individual(Uuid::now_v7(), "Victim", "V", Some("NID-7777")),
        )
        .await;
        let victim = api.token("citizen", "victim", None, Some("NID-7777"));
        let me = api.get("/v1/me", &victim).await;
        assert_eq!(me.json["individual_id"], Value::Null, "{}", api.backend);
        let read = api
            .get(
                &format!("/v1/individuals/{}", decoy["id"].as_str().unwrap()),
                &victim,
            )
            .await;
        assert_eq!(read.status, 404);

        // The same number under another ID type does not block the real record.
        let real = created(
            &api,
            "/v1/individuals",
            &agent,
            individual(Uuid::now_v7(), "Wanjiru", "K", Some("NID-8888")),
        )
        .await;
        let mut passport = individual(Uuid::now_v7(), "Decoy", "D", None);
        passport["reg_ids"] = json!([{"id_type": "passport", "value": "NID-8888"}]);
        created(&api, "/v1/individuals", &mallory, passport).await;
        let wanjiru = api.token("citizen", "wanjiru", None, Some("NID-8888"));
        let me = api.get("/v1/me", &wanjiru).await;
        assert_eq!(me.json["individual_id"], real["id"], "{}", api.backend);

        // Vouched: Carol registered herself with the number her provider vouches for; her other
        // sign-in identity (another pairwise subject) finds the same record.
        let carol = api.token("citizen", "carol-app", None, Some("NID-9999"));
        let own = created(
            &api,
            "/v1/individuals",
            &carol,
            individual(Uuid::now_v7(), "Carol", "C", Some("NID-9999")),
        )
        .await;
        let carol_web = api.token("citizen", "carol-portal", None, Some("NID-9999"));
        let me = api.get("/v1/me", &carol_web).await;
        assert_eq!(me.json["individual_id"], own["id"], "{}", api.backend);
        // The vouch survives her editing the record.
        let mut edited = own.clone();
        edited["occupation"] = json!("teacher");
        let path = format!("/v1/individuals/{}", own["id"].as_str().unwrap());
        assert_eq!(api.put(&path, &carol, &edited, 1).await.status, 200);
        let carol_kiosk = api.token("citizen", "carol-kiosk", None, Some("NID-9999"));
        assert_eq!(
            api.get("/v1/me", &carol_kiosk).await.json["individual_id"],
            own["id"]
        );
        api.stop().await;
    }
}

/// Item 4: a mutation id is remembered per caller; another caller's id is unknown here.
#[tokio::test]
async fn sync_results_are_kept_per_caller() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let person = individual(Uuid::now_v7(), "Achieng", "Private", Some("NID-4242"));
        let theirs = create(RecordKind::Individual, &person);
        let first = push_one(&api, &w.agent_a, theirs.clone()).await;
        assert!(matches!(first, MutationResult::Applied { .. }), "{first:?}");

        // The same mutation from someone else: their own answer, without the record.
        let replay = push_one(&api, &w.agent_b, theirs.clone()).await;
        let (problem, message) = rejection(&replay);
        assert_eq!(problem, "/problems/conflict", "{}: {replay:?}", api.backend);
        assert!(
            !serde_json::to_string(&replay).unwrap().contains("Private"),
            "{replay:?}"
        );
        assert!(!message.contains("Private"));

        // The same id with another body: treated as any new id would be, not "reused".
        let mut other = create(
            RecordKind::Individual,
            &individual(Uuid::now_v7(), "Otieno", "Mine", None),
        );
        other.id = theirs.id;
        let r = push_one(&api, &w.agent_b, other).await;
        assert!(
            matches!(r, MutationResult::Applied { .. }),
            "{}: {r:?}",
            api.backend
        );
        // And the owner still gets their own result back.
        assert_eq!(push_one(&api, &w.agent_a, theirs).await, first);
        api.stop().await;
    }
}

/// Upload `bytes` over tus as whoever `token` is; returns the SHA-256.
async fn upload(api: &Api, token: &str, bytes: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(bytes));
    let url = format!("{}/v1/uploads", api.server.url());
    let created = api
        .http
        .post(&url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!(
                "filename {},sha256 {}",
                STANDARD.encode("id.pdf"),
                STANDARD.encode(&sha)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let patched = api
        .http
        .patch(format!("{}{location}", api.server.url()))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 204, "{:?}", patched.text().await);
    sha
}

fn document(linked: &Value, sha: &str, size: usize) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"kind": "id_card", "file_name": "id.pdf", "mime_type": "application/pdf",
               "size_bytes": size, "sha256": sha, "linked_record": linked["id"],
               "captured_at": "2026-11-01T08:30:00Z"}),
    )
}

/// Item 5: knowing a file's hash is not owning the file.
#[tokio::test]
async fn a_document_serves_only_content_its_creator_uploaded() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let mut file = b"%PDF-1.7\n".to_vec();
        file.extend(format!("Amina's ID card {}", Uuid::now_v7()).as_bytes());
        let sha = upload(&api, &w.citizen, &file).await;
        let own = created(
            &api,
            "/v1/documents",
            &w.citizen,
            document(&w.amina, &sha, file.len()),
        )
        .await;
        let content = |id: &Value, token: &str| {
            let path = format!("/v1/documents/{}/content", id.as_str().unwrap());
            let token = token.to_owned();
            let api = &api;
            async move { api.get(&path, &token).await }
        };
        assert_eq!(content(&own["id"], &w.citizen).await.status, 200);

        // Bob registers himself and points a document of his at Amina's file.
        let bob = api.token("citizen", "bob", None, None);
        let bob_person = created(
            &api,
            "/v1/individuals",
            &bob,
            individual(Uuid::now_v7(), "Bob", "B", None),
        )
        .await;
        let stolen = created(
            &api,
            "/v1/documents",
            &bob,
            document(&bob_person, &sha, file.len()),
        )
        .await;
        let unknown_sha = hex::encode(Sha256::digest(b"nobody uploaded this"));
        let unknown = created(
            &api,
            "/v1/documents",
            &bob,
            document(&bob_person, &unknown_sha, 10),
        )
        .await;
        let a: Answer = content(&stolen["id"], &bob).await;
        let b: Answer = content(&unknown["id"], &bob).await;
        assert_eq!(a.status, 409, "{}: {:?}", api.backend, a.json);
        assert_eq!((a.status, a.json.clone()), (b.status, b.json.clone()));

        // Once Bob uploads the same bytes himself, his record serves them.
        upload(&api, &bob, &file).await;
        assert_eq!(content(&stolen["id"], &bob).await.status, 200);

        // A document's file cannot be swapped on update, on either path.
        let mut swapped = own.clone();
        swapped["sha256"] = json!(unknown_sha);
        let path = format!("/v1/documents/{}", own["id"].as_str().unwrap());
        assert_eq!(api.put(&path, &w.citizen, &swapped, 1).await.status, 403);
        let r = push_one(
            &api,
            &w.citizen,
            update(RecordKind::Document, &own, &swapped),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        api.stop().await;
    }
}

/// Item 6: an ID's status and the last liveness check are the office's and the provider's.
#[tokio::test]
async fn citizens_cannot_set_what_the_office_or_the_provider_sets() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let path = format!("/v1/individuals/{}", w.amina["id"].as_str().unwrap());
        // A passport nobody has seen, marked valid by its holder.
        let forgeries = [
            (
                "reg_ids",
                json!([{"id_type": "national_id", "value": "NID-1001"},
                       {"id_type": "passport", "value": "AK123456", "status": "valid"}]),
            ),
            ("last_liveness_check", json!("2026-11-30T10:00:00Z")),
        ];
        for (field, value) in &forgeries {
            let mut forged = w.amina.clone();
            forged[*field] = value.clone();
            let answer = api.put(&path, &w.citizen, &forged, 1).await;
            assert_eq!(
                answer.status, 403,
                "{} {field}: {:?}",
                api.backend, answer.json
            );
            let r = push_one(
                &api,
                &w.citizen,
                update(RecordKind::Individual, &w.amina, &forged),
            )
            .await;
            assert_eq!(rejection(&r).0, "/problems/forbidden", "{field}: {r:?}");
            // A citizen registering someone cannot either.
            let mut new = individual(Uuid::now_v7(), "Baby", "Odhiambo", Some("NID-5005"));
            new[*field] = value.clone();
            let answer = api.post("/v1/individuals", &w.citizen, &new).await;
            assert_eq!(answer.status, 403, "{field}: {:?}", answer.json);
        }
        // The number her identity provider vouched for at sign-in she may record as valid (the
        // app does, at registration).
        let mut vouched = w.amina.clone();
        vouched["reg_ids"] =
            json!([{"id_type": "national_id", "value": "NID-1001", "status": "valid"}]);
        let answer = api.put(&path, &w.citizen, &vouched, 1).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        // The agent who saw the passport may mark it valid; the citizen who then changes its
        // number gets it back unverified.
        let mut seen = answer.json.clone();
        seen["reg_ids"] = json!([{"id_type": "national_id", "value": "NID-1001", "status": "valid"},
                                 {"id_type": "passport", "value": "AK123456", "status": "valid"}]);
        let seen = api.put(&path, &w.agent_a, &seen, 2).await;
        assert_eq!(seen.status, 200, "{:?}", seen.json);
        let mut renumbered = seen.json.clone();
        renumbered["reg_ids"][1]["value"] = json!("AK654321");
        let answer = api.put(&path, &w.citizen, &renumbered, 3).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        assert_eq!(answer.json["reg_ids"][1]["status"], "unverified");
        assert_eq!(answer.json["reg_ids"][0]["status"], "valid");
        api.stop().await;
    }
}

/// Item 7: a known ID number is refused without saying whose record holds it.
#[tokio::test]
async fn a_taken_id_number_does_not_reveal_its_holder() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let holder = w.amina["id"].as_str().unwrap().to_owned();
        let again = individual(Uuid::now_v7(), "Someone", "Else", Some("NID-1001"));
        let answer = api.post("/v1/individuals", &w.agent_b, &again).await;
        assert_eq!(answer.status, 409, "{:?}", answer.json);
        assert!(
            !answer.json.to_string().contains(&holder),
            "{}: {:?}",
            api.backend,
            answer.json
        );
        let r = push_one(&api, &w.agent_b, create(RecordKind::Individual, &again)).await;
        assert_eq!(rejection(&r).0, "/problems/conflict", "{r:?}");
        assert!(
            !serde_json::to_string(&r).unwrap().contains(&holder),
            "{r:?}"
        );
        api.stop().await;
    }
}

/// Item 9: names that display as something else, and bodies that say two things.
#[tokio::test]
async fn hidden_characters_and_repeated_keys_are_refused() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        for name in ["Amina\u{202E}ognihdO", "\u{FEFF}Amina", "Ami\u{200B}na"] {
            let body = individual(Uuid::now_v7(), name, "Odhiambo", None);
            let answer = api.post("/v1/individuals", &w.agent_a, &body).await;
            assert_eq!(
                answer.status, 422,
                "{} {name:?}: {:?}",
                api.backend, answer.json
            );
            assert_eq!(answer.json["errors"][0]["code"], "control_characters");
            let r = push_one(&api, &w.agent_a, create(RecordKind::Individual, &body)).await;
            assert_eq!(rejection(&r).0, "/problems/invalid", "{name:?}: {r:?}");
        }

        let send_raw = |path: &'static str, body: String| {
            let request = api
                .http
                .post(format!("{}{path}", api.server.url()))
                .bearer_auth(&w.agent_a)
                .header("content-type", "application/json")
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let json: Value = response.json().await.unwrap_or(Value::Null);
                (status, json)
            }
        };
        let id = Uuid::now_v7();
        let twice = format!(
            r#"{{"id": "{id}", "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
                "created_by": "app", "given_name": "Amina", "given_name": "Mallory", "family_name": "O"}}"#
        );
        let (status, json) = send_raw("/v1/individuals", twice.clone()).await;
        assert_eq!(status, 400, "{json:?}");
        assert!(
            json["detail"].as_str().unwrap().contains("given_name"),
            "{json:?}"
        );
        let batch = format!(
            r#"{{"mutations": [{{"id": "{}", "kind": "individual", "record_id": "{id}", "op": "create",
                 "changes": {{"set": {twice}}}}}]}}"#,
            Uuid::now_v7()
        );
        let (status, json) = send_raw("/v1/sync/push", batch).await;
        assert_eq!(status, 400, "{json:?}");
        assert_eq!(
            api.get(&format!("/v1/individuals/{id}"), &w.agent_a)
                .await
                .status,
            404
        );
        api.stop().await;
    }
}

/// Item 10: a household member cannot aim another member's payments anywhere.
#[tokio::test]
async fn only_the_person_or_their_agent_sets_where_their_payments_go() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let husband = id_of(&w.husband);
        let redirect = account(husband, "+254700666666");
        let answer = api
            .post("/v1/financial-accounts", &w.citizen, &redirect)
            .await;
        assert_eq!(answer.status, 403, "{}: {:?}", api.backend, answer.json);
        let r = push_one(
            &api,
            &w.citizen,
            create(RecordKind::FinancialAccount, &redirect),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        // His agent may, and Amina may for herself.
        let mut preferred = account(husband, "+254700000777");
        preferred["preferred_for_payments"] = json!(true);
        created(&api, "/v1/financial-accounts", &w.agent_a, preferred).await;
        created(
            &api,
            "/v1/financial-accounts",
            &w.citizen,
            account(id_of(&w.amina), "+254700000778"),
        )
        .await;
        api.stop().await;
    }
}

/// Item 11: only a draft application may be deleted, on REST and on sync.
#[tokio::test]
async fn a_submitted_application_cannot_be_deleted_on_any_path() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let admin = api.token("admin", "root", None, None);
        let programme = created(
            &api,
            "/v1/programmes",
            &admin,
            with(
                meta(Uuid::now_v7()),
                json!({"code": "cash_transfer", "name": "Cash transfer"}),
            ),
        )
        .await;
        common::publish_form(
            &api,
            &admin,
            programme["id"].as_str().unwrap(),
            1,
            common::empty_form(),
        )
        .await;
        let app = created(&api, "/v1/applications", &w.citizen, with(meta(Uuid::now_v7()), json!({
            "programme_id": programme["id"], "applicant_id": w.amina["id"], "form_version": 1, "data": {}, "status": "draft"
        }))).await;
        let id = app["id"].as_str().unwrap();
        let submit = api
            .post(
                &format!("/v1/applications/{id}/transitions"),
                &w.citizen,
                &json!({"to": "submitted"}),
            )
            .await;
        assert_eq!(submit.status, 200, "{:?}", submit.json);
        let rev = submit.json["rev"].as_u64().unwrap();
        let delete = Mutation {
            id: Uuid::now_v7(),
            kind: RecordKind::Application,
            record_id: id.parse().unwrap(),
            op: MutationOp::Delete,
            base_rev: Some(rev),
            changes: ChangeSet::default(),
        };
        let r = push_one(&api, &w.citizen, delete).await;
        assert_eq!(
            rejection(&r).0,
            "/problems/conflict",
            "{}: {r:?}",
            api.backend
        );
        let answer = api
            .send(
                "DELETE",
                &format!("/v1/applications/{id}"),
                Some(&w.citizen),
                None,
                &[("if-match", &format!("\"{rev}\""))],
            )
            .await;
        assert_eq!(answer.status, 409, "{:?}", answer.json);
        let now = api.get(&format!("/v1/applications/{id}"), &w.citizen).await;
        assert_eq!(now.json["deleted_at"], Value::Null);
        assert_eq!(now.json["status"], "submitted");
        api.stop().await;
    }
}

/// Issue 16: a sync push crafted by an agent of KE.31 cannot file anything into KE.30 — not a
/// member into a KE.30 household, not details under a KE.30 person, not an edit of one — and a
/// household whose address names KE.30's areas is still filed under the pushing agent's own area
/// (the area comes from who writes, never from the body). Nothing of the refused ones is applied.
#[tokio::test]
async fn a_sync_push_cannot_claim_another_agents_area() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let amina = id_of(&w.amina);
        let households = api
            .get(&format!("/v1/memberships?owner={amina}"), &w.staff)
            .await;
        let household = households.json["items"][0]["group_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{:?}", households.json))
            .to_owned();
        let intruder = individual(Uuid::now_v7(), "Intruder", "B", None);
        let claimed = with(
            meta(Uuid::now_v7()),
            json!({"name": "Claimed", "kind": "household", "address": {
                "country": "KE", "locality": "Kisumu",
                "admin_areas": [{"level": 1, "code": "KE.30", "name": "Kisumu"}]
            }}),
        );
        let results = push(
            &api,
            &w.agent_b,
            &[
                create(RecordKind::Individual, &intruder),
                create(
                    RecordKind::Membership,
                    &with(
                        meta(Uuid::now_v7()),
                        json!({"group_id": household, "individual_id": intruder["id"],
                               "kind": "child", "start_date": "2024-01-01"}),
                    ),
                ),
                create(
                    RecordKind::Contact,
                    &with(
                        meta(Uuid::now_v7()),
                        json!({"registrant_id": amina.to_string(), "emails": ["x@example.org"]}),
                    ),
                ),
                raw_update(
                    RecordKind::Individual,
                    amina,
                    1,
                    json!({"given_name": "Taken"}),
                ),
                create(RecordKind::Group, &claimed),
            ],
        )
        .await;
        assert!(
            matches!(results[0], MutationResult::Applied { .. }),
            "{:?}",
            results[0]
        );
        for (what, result) in ["membership", "contact", "edit"].iter().zip(&results[1..4]) {
            assert_ne!(
                rejection(result).0,
                "",
                "{}: {what} into KE.30: {result:?}",
                api.backend
            );
        }
        assert!(
            matches!(results[4], MutationResult::Applied { .. }),
            "{:?}",
            results[4]
        );
        // Agent A (KE.30) does not see the "claimed" household; agent B (KE.31) does.
        let claimed_path = format!("/v1/groups/{}", claimed["id"].as_str().unwrap());
        assert_eq!(api.get(&claimed_path, &w.agent_a).await.status, 404);
        assert_eq!(api.get(&claimed_path, &w.agent_b).await.status, 200);
        // Amina is as she was, in a household of two.
        let now = api.get(&format!("/v1/individuals/{amina}"), &w.staff).await;
        assert_eq!(now.json["given_name"], "Amina", "{}", api.backend);
        let members = api
            .get(&format!("/v1/memberships?group={household}"), &w.staff)
            .await;
        assert_eq!(
            members.json["items"].as_array().unwrap().len(),
            2,
            "{:?}",
            members.json
        );
        api.stop().await;
    }
}

/// A programme (with its first form version) made by an admin.
async fn programme(api: &Api, code: &str, extra: Value) -> Value {
    let admin = api.token("admin", "root", None, None);
    let mut body = with(
        meta(Uuid::now_v7()),
        json!({"code": code, "name": format!("Programme {code}")}),
    );
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let programme = created(api, "/v1/programmes", &admin, body).await;
    created(api, "/v1/forms", &admin, form(&programme, 1)).await;
    programme
}

fn form(programme: &Value, version: u32) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"programme_id": programme["id"], "version": version,
               "schema": {"display": "form", "components": [{"type": "textfield", "key": "v"}]}}),
    )
}

fn application(programme: &Value, applicant: &Value) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"programme_id": programme["id"], "applicant_id": applicant["id"],
               "form_version": 1, "data": {}, "status": "draft"}),
    )
}

async fn applications_of(api: &Api, staff: &str, person: &Value) -> usize {
    let answer = api
        .get(
            &format!("/v1/applications?owner={}", person["id"].as_str().unwrap()),
            staff,
        )
        .await;
    answer.json["items"].as_array().unwrap().len()
}

async fn transition(api: &Api, token: &str, app: &Value, to: &str, note: Option<&str>) -> Answer {
    api.post(
        &format!(
            "/v1/applications/{}/transitions",
            app["id"].as_str().unwrap()
        ),
        token,
        &json!({"to": to, "note": note}),
    )
    .await
}

/// Issue 17: one application per person per programme unless the programme allows several —
/// on REST and push, for agents and citizens alike, held by a unique key so two devices pushing
/// at once cannot both get one in; a rejected or deleted one lets another start.
#[tokio::test]
async fn one_application_per_programme_on_every_path() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let single = programme(&api, "single", json!({})).await;
        let several = programme(
            &api,
            "several",
            json!({"allow_multiple_applications": true}),
        )
        .await;

        let first = created(
            &api,
            "/v1/applications",
            &w.citizen,
            application(&single, &w.amina),
        )
        .await;
        for token in [&w.citizen, &w.agent_a] {
            let second = api
                .post("/v1/applications", token, &application(&single, &w.amina))
                .await;
            assert_eq!(
                (second.status, second.problem()),
                (409, "/problems/conflict"),
                "{}: {:?}",
                api.backend,
                second.json
            );
            assert!(second.json["detail"]
                .as_str()
                .unwrap()
                .contains("already has an application"));
            let r = push_one(
                &api,
                token,
                create(RecordKind::Application, &application(&single, &w.amina)),
            )
            .await;
            assert_eq!(rejection(&r).0, "/problems/conflict", "{r:?}");
        }
        assert_eq!(applications_of(&api, &w.staff, &w.amina).await, 1);
        // A programme that takes several takes several.
        for path in ["rest", "push"] {
            let app = application(&several, &w.amina);
            match path {
                "rest" => {
                    created(&api, "/v1/applications", &w.citizen, app).await;
                }
                _ => {
                    let r = push_one(&api, &w.citizen, create(RecordKind::Application, &app)).await;
                    assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");
                }
            }
        }

        // Two devices of the husband's agent push his application at once: one gets it.
        let pushes = (0..3).map(|_| {
            let m = create(RecordKind::Application, &application(&single, &w.husband));
            let api = &api;
            let token = w.agent_a.clone();
            async move { push_one(api, &token, m).await }
        });
        let results = futures_util::future::join_all(pushes).await;
        let applied = results
            .iter()
            .filter(|r| matches!(r, MutationResult::Applied { .. }))
            .count();
        assert_eq!(applied, 1, "{}: {results:?}", api.backend);
        assert!(results
            .iter()
            .filter(|r| !matches!(r, MutationResult::Applied { .. }))
            .all(|r| rejection(r).0 == "/problems/conflict"));
        assert_eq!(applications_of(&api, &w.staff, &w.husband).await, 1);

        // Rejected, it lets another start (REST); a deleted draft too (push).
        assert_eq!(
            transition(&api, &w.citizen, &first, "submitted", None)
                .await
                .status,
            200
        );
        let rejected = transition(
            &api,
            &w.staff,
            &first,
            "rejected",
            Some("Over the income limit."),
        )
        .await;
        assert_eq!(rejected.status, 200, "{:?}", rejected.json);
        let again = created(
            &api,
            "/v1/applications",
            &w.citizen,
            application(&single, &w.amina),
        )
        .await;
        let delete = Mutation {
            id: Uuid::now_v7(),
            kind: RecordKind::Application,
            record_id: id_of(&again),
            op: MutationOp::Delete,
            base_rev: Some(1),
            changes: ChangeSet::default(),
        };
        let r = push_one(&api, &w.citizen, delete).await;
        assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");
        let r = push_one(
            &api,
            &w.citizen,
            create(RecordKind::Application, &application(&single, &w.amina)),
        )
        .await;
        assert!(
            matches!(r, MutationResult::Applied { .. }),
            "{}: {r:?}",
            api.backend
        );
        // The rejected one holds no place: editing it does not clash with the new one.
        let rev = rejected.json["rev"].as_u64().unwrap();
        let answer = api
            .put(
                &format!("/v1/applications/{}", id_of(&first)),
                &w.citizen,
                &rejected.json,
                rev,
            )
            .await;
        assert_eq!(
            answer.status, 200,
            "an edit of a rejected one holds no place: {:?}",
            answer.json
        );
        api.stop().await;
    }
}

/// Issue 17: only a draft may be deleted — and a draft may, on REST and on push (the refusal
/// for a submitted one is above, item 11).
#[tokio::test]
async fn a_draft_application_can_be_deleted_on_every_path() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let several = programme(
            &api,
            "several",
            json!({"allow_multiple_applications": true}),
        )
        .await;
        let by_rest = created(
            &api,
            "/v1/applications",
            &w.citizen,
            application(&several, &w.amina),
        )
        .await;
        let answer = api
            .send(
                "DELETE",
                &format!("/v1/applications/{}", id_of(&by_rest)),
                Some(&w.citizen),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(answer.status, 200, "{}: {:?}", api.backend, answer.json);
        assert_ne!(answer.json["deleted_at"], Value::Null);
        let by_push = created(
            &api,
            "/v1/applications",
            &w.agent_a,
            application(&several, &w.amina),
        )
        .await;
        let r = push_one(
            &api,
            &w.agent_a,
            Mutation {
                id: Uuid::now_v7(),
                kind: RecordKind::Application,
                record_id: id_of(&by_push),
                op: MutationOp::Delete,
                base_rev: Some(1),
                changes: ChangeSet::default(),
            },
        )
        .await;
        assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");
        // A deleted draft is not submitted afterwards.
        let answer = transition(&api, &w.citizen, &by_rest, "submitted", None).await;
        assert_eq!(answer.status, 409, "{:?}", answer.json);
        api.stop().await;
    }
}

/// Issue 17: an application moves to submitted — from a draft, and again after the office asked
/// for more — only while the applicant has a live, not rejected document of each kind the
/// programme requires; the refusal names the missing kinds and changes nothing.
#[tokio::test]
async fn submitting_needs_the_programmes_documents() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let needs = programme(
            &api,
            "needs_papers",
            json!({"required_documents": ["id_card", "proof_of_address"]}),
        )
        .await;
        let app = created(
            &api,
            "/v1/applications",
            &w.citizen,
            application(&needs, &w.amina),
        )
        .await;
        let refused = transition(&api, &w.citizen, &app, "submitted", None).await;
        assert_eq!(
            (refused.status, refused.problem()),
            (409, "/problems/documents-missing"),
            "{}: {:?}",
            api.backend,
            refused.json
        );
        let fields: Vec<&str> = refused.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "required_documents.id_card",
                "required_documents.proof_of_address"
            ]
        );
        let path = format!("/v1/applications/{}", id_of(&app));
        let now = api.get(&path, &w.citizen).await.json;
        assert_eq!(
            (now["status"].as_str(), now["rev"].as_u64()),
            (Some("draft"), Some(1))
        );

        // An ID card linked to her (REST), a proof of address linked to the application (push).
        let id_card = created(
            &api,
            "/v1/documents",
            &w.citizen,
            document(&w.amina, &hex::encode(Sha256::digest(b"id")), 10),
        )
        .await;
        let mut proof = document(&app, &hex::encode(Sha256::digest(b"bill")), 10);
        proof["kind"] = json!("proof_of_address");
        let r = push_one(&api, &w.citizen, create(RecordKind::Document, &proof)).await;
        assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");
        // A rejected proof does not count.
        let rejected = api
            .post(
                &format!("/v1/review/documents/{}/verification", id_of(&proof)),
                &w.staff,
                &json!({"status": "rejected", "reason": "The bill is older than three months."}),
            )
            .await;
        assert_eq!(rejected.status, 200, "{:?}", rejected.json);
        let refused = transition(&api, &w.agent_a, &app, "submitted", None).await;
        assert_eq!(
            refused.problem(),
            "/problems/documents-missing",
            "{:?}",
            refused.json
        );
        assert_eq!(refused.json["errors"].as_array().unwrap().len(), 1);
        assert_eq!(
            refused.json["errors"][0]["field"],
            "required_documents.proof_of_address"
        );
        let mut newer = document(&w.amina, &hex::encode(Sha256::digest(b"new bill")), 10);
        newer["kind"] = json!("proof_of_address");
        created(&api, "/v1/documents", &w.citizen, newer).await;
        let submitted = transition(&api, &w.citizen, &app, "submitted", None).await;
        assert_eq!(submitted.status, 200, "{:?}", submitted.json);

        // Asked for more, she deletes her ID card: answering is refused until she adds one.
        let asked = transition(
            &api,
            &w.staff,
            &app,
            "more_information_needed",
            Some("Add a clearer photo of the ID."),
        )
        .await;
        assert_eq!(asked.status, 200, "{:?}", asked.json);
        let deleted = api
            .send(
                "DELETE",
                &format!("/v1/documents/{}", id_of(&id_card)),
                Some(&w.citizen),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(deleted.status, 200, "{:?}", deleted.json);
        let refused = transition(&api, &w.citizen, &app, "submitted", None).await;
        assert_eq!(
            refused.json["errors"][0]["field"], "required_documents.id_card",
            "{:?}",
            refused.json
        );
        let card = document(&w.amina, &hex::encode(Sha256::digest(b"clear id")), 10);
        let r = push_one(&api, &w.citizen, create(RecordKind::Document, &card)).await;
        assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");
        let answered = transition(&api, &w.citizen, &app, "submitted", None).await;
        assert_eq!(answered.status, 200, "{}: {:?}", api.backend, answered.json);
        api.stop().await;
    }
}

/// Issue 17: a form version, once published, never changes (REST replace and delete, sync
/// update and delete), a new one is exactly the latest + 1 (two published at once: one wins,
/// the other is told plainly), only admins publish, and a draft filled in on version N is
/// still submitted after N+1 is published.
#[tokio::test]
async fn form_versions_are_immutable_and_follow_one_another() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let admin = api.token("admin", "root", None, None);
        let prog = programme(&api, "forms", json!({})).await;
        let v1 = api
            .get(&format!("/v1/forms?parent={}", id_of(&prog)), &admin)
            .await
            .json["items"][0]
            .clone();
        let draft = created(
            &api,
            "/v1/applications",
            &w.citizen,
            application(&prog, &w.amina),
        )
        .await;

        // Not replaced, changed or deleted, on either path.
        let mut changed = v1.clone();
        changed["schema"]["components"] = json!([]);
        let path = format!("/v1/forms/{}", id_of(&v1));
        let answer = api.put(&path, &admin, &changed, 1).await;
        assert_eq!(answer.status, 409, "{}: {:?}", api.backend, answer.json);
        assert!(
            answer.json["detail"]
                .as_str()
                .unwrap()
                .contains("new version (2)"),
            "{:?}",
            answer.json
        );
        let answer = api
            .send(
                "DELETE",
                &path,
                Some(&admin),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(answer.status, 409, "{:?}", answer.json);
        let r = push_one(
            &api,
            &admin,
            update(RecordKind::FormDefinition, &v1, &changed),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/conflict", "{r:?}");
        let r = push_one(
            &api,
            &admin,
            Mutation {
                id: Uuid::now_v7(),
                kind: RecordKind::FormDefinition,
                record_id: id_of(&v1),
                op: MutationOp::Delete,
                base_rev: Some(1),
                changes: ChangeSet::default(),
            },
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/conflict", "{r:?}");
        assert_eq!(api.get(&path, &admin).await.json, v1, "unchanged");

        // The next version is 2: not 1 again, not 3 (REST and push).
        for version in [1, 3] {
            let answer = api.post("/v1/forms", &admin, &form(&prog, version)).await;
            assert_eq!(answer.status, 409, "v{version}: {:?}", answer.json);
            assert_eq!(answer.json["errors"][0]["field"], "version");
            let r = push_one(
                &api,
                &admin,
                create(RecordKind::FormDefinition, &form(&prog, version)),
            )
            .await;
            assert_eq!(rejection(&r).0, "/problems/conflict", "v{version}: {r:?}");
        }
        // Only admins publish.
        for token in [&w.citizen, &w.agent_a, &w.staff] {
            assert_eq!(
                api.post("/v1/forms", token, &form(&prog, 2)).await.status,
                403
            );
            let r = push_one(
                &api,
                token,
                create(RecordKind::FormDefinition, &form(&prog, 2)),
            )
            .await;
            assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        }
        let r = push_one(
            &api,
            &admin,
            create(RecordKind::FormDefinition, &form(&prog, 2)),
        )
        .await;
        assert!(matches!(r, MutationResult::Applied { .. }), "{r:?}");

        // Two admins publish version 3 at once: one is published, the other told why not.
        let other = api.token("admin", "other-admin", None, None);
        let (mine, theirs) = (form(&prog, 3), form(&prog, 3));
        let (a, b) = tokio::join!(
            api.post("/v1/forms", &admin, &mine),
            api.post("/v1/forms", &other, &theirs)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 409],
            "{}: {:?} {:?}",
            api.backend,
            a.json,
            b.json
        );
        let loser = if a.status == 409 { &a } else { &b };
        assert!(
            loser.json["detail"].as_str().unwrap().contains("publish"),
            "{:?}",
            loser.json
        );
        let versions = api
            .get(&format!("/v1/forms?parent={}", id_of(&prog)), &admin)
            .await;
        assert_eq!(versions.json["items"].as_array().unwrap().len(), 3);

        // The draft started on version 1 is submitted on version 1.
        let submitted = transition(&api, &w.citizen, &draft, "submitted", None).await;
        assert_eq!(submitted.status, 200, "{:?}", submitted.json);
        assert_eq!(submitted.json["form_version"], 1);
        api.stop().await;
    }
}

/// Issue 18: what the identity provider vouched for in a liveness step-up (`acr`, `auth_time`)
/// and the agent who assisted it are written only by the registry after verifying the step-up
/// (POST /v1/liveness/challenges/{id}/proof): never by REST or a sync push, on create or update.
#[tokio::test]
async fn only_the_registry_writes_what_a_verified_liveness_check_proves() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let check = |extra: Value| {
            let mut body = with(
                meta(Uuid::now_v7()),
                json!({"individual_id": w.amina["id"], "performed_at": "2026-11-30T10:00:00Z",
                       "provider": "office", "outcome": "passed"}),
            );
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let forged = [
            json!({"acr": "mosip:idp:acr:biometrics"}),
            json!({"auth_time": "2026-11-30T10:00:00Z"}),
            json!({"assisted_by": "agent:agent-a"}),
        ];
        for extra in &forged {
            let body = check(extra.clone());
            let answer = api.post("/v1/liveness-checks", &w.staff, &body).await;
            assert_eq!(
                answer.status, 403,
                "{} {extra}: {:?}",
                api.backend, answer.json
            );
            let r = push_one(&api, &w.agent_a, create(RecordKind::LivenessCheck, &body)).await;
            assert_eq!(rejection(&r).0, "/problems/forbidden", "{extra}: {r:?}");
        }
        // A check done otherwise (at the office) is recorded as before, and stays without them.
        let plain = created(&api, "/v1/liveness-checks", &w.staff, check(json!({}))).await;
        let mut changed = plain.clone();
        changed["acr"] = json!("mosip:idp:acr:biometrics");
        let path = format!("/v1/liveness-checks/{}", plain["id"].as_str().unwrap());
        let answer = api.put(&path, &w.staff, &changed, 1).await;
        assert_eq!(answer.status, 403, "{:?}", answer.json);
        let r = push_one(
            &api,
            &w.agent_a,
            update(RecordKind::LivenessCheck, &plain, &changed),
        )
        .await;
        assert_eq!(rejection(&r).0, "/problems/forbidden", "{r:?}");
        // Citizens never write a check themselves: the step-up is their way.
        let answer = api
            .post("/v1/liveness-checks", &w.citizen, &check(json!({})))
            .await;
        assert_eq!(answer.status, 403, "{:?}", answer.json);
        api.stop().await;
    }
}
