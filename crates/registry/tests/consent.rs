//! Issue 16: an agent acts for a person only once the person's consent is on record, where the
//! registry's configuration or the programme asks for it — on REST and sync push, on SQLite and
//! PostgreSQL. Nothing of a refused write is applied.

mod common;

use common::sync::{create, push};
use common::{backends, individual, meta, with, Api};
use doorstep_domain::sync::MutationResult;
use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use uuid::Uuid;

const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn consent_for(linked: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({
            "kind": "consent", "file_name": "signature.png", "mime_type": "image/png",
            "size_bytes": 2048, "sha256": SHA, "linked_record": linked,
            "captured_at": "2026-11-01T08:30:00Z",
            "consent": {"statement": "agent-consent-1", "language": "sw", "agreed": true,
                        "method": "signature_pad"}
        }),
    )
}

fn contact_for(owner: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"registrant_id": owner, "phones": [
            {"id": Uuid::now_v7().to_string(), "number_e164": "+254711000222"}]}),
    )
}

fn problem_of(result: &MutationResult) -> &str {
    match result {
        MutationResult::Rejected { problem, .. } => problem,
        _ => "",
    }
}

#[tokio::test]
async fn where_required_an_agent_writes_for_a_person_only_after_their_consent() {
    for backend in backends().await {
        let api = Api::start_with(&backend, |c| c.agents.require_consent = true).await;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let me = api.get("/v1/me", &agent).await;
        assert_eq!(me.json["consent_required"], true, "{}", api.backend);

        // Registering the person is allowed: it is what they consent to.
        let person = individual(Uuid::now_v7(), "Amina", "Odhiambo", None);
        let id = person["id"].as_str().unwrap().to_owned();
        assert_eq!(
            api.post("/v1/individuals", &agent, &person).await.status,
            201
        );

        // Anything else about them is refused, by REST and by push, and nothing is applied.
        let refused = api.post("/v1/contacts", &agent, &contact_for(&id)).await;
        assert_eq!(refused.status, 403, "{}: {:?}", api.backend, refused.json);
        assert_eq!(refused.problem(), "/problems/consent-required");
        assert!(refused.json["detail"].as_str().unwrap().contains("consent"));
        let pushed = push(
            &api,
            &agent,
            &[create(RecordKind::Contact, &contact_for(&id))],
        )
        .await;
        assert_eq!(
            problem_of(&pushed[0]),
            "/problems/consent-required",
            "{pushed:?}"
        );
        let staff = api.token("staff", "reviewer", None, None);
        let contacts = api.get(&format!("/v1/contacts?owner={id}"), &staff).await;
        assert!(
            contacts.json["items"].as_array().unwrap().is_empty(),
            "{}",
            api.backend
        );

        // Their consent, then the same change in the same push: accepted.
        let pushed = push(
            &api,
            &agent,
            &[
                create(RecordKind::Document, &consent_for(&id)),
                create(RecordKind::Contact, &contact_for(&id)),
            ],
        )
        .await;
        assert!(
            pushed
                .iter()
                .all(|r| matches!(r, MutationResult::Applied { .. })),
            "{}: {pushed:?}",
            api.backend
        );

        // A citizen needs no one's consent for their own records.
        let citizen = api.token("citizen", "amina", None, None);
        assert_eq!(
            api.get("/v1/me", &citizen).await.json["consent_required"],
            false
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn the_heads_consent_covers_the_household_registered_in_one_push() {
    for backend in backends().await {
        let api = Api::start_with(&backend, |c| c.agents.require_consent = true).await;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let household = with(
            meta(Uuid::now_v7()),
            json!({"name": "Achieng", "kind": "household"}),
        );
        let group = household["id"].as_str().unwrap().to_owned();
        let head = individual(Uuid::now_v7(), "Rose", "Achieng", None);
        let child = individual(Uuid::now_v7(), "Faith", "Achieng", None);
        let membership = |person: &Value, kind: &str| {
            with(
                meta(Uuid::now_v7()),
                json!({"group_id": group, "individual_id": person["id"], "kind": kind,
                       "start_date": "2026-01-01"}),
            )
        };
        // The order the app sends a registration in (registration.rs).
        let mutations = [
            create(RecordKind::Group, &household),
            create(RecordKind::Document, &consent_for(&group)),
            create(RecordKind::Individual, &head),
            create(RecordKind::Individual, &child),
            create(RecordKind::Membership, &membership(&head, "head")),
            create(RecordKind::Membership, &membership(&child, "child")),
            create(
                RecordKind::Contact,
                &contact_for(child["id"].as_str().unwrap()),
            ),
        ];
        let pushed = push(&api, &agent, &mutations).await;
        assert!(
            pushed
                .iter()
                .all(|r| matches!(r, MutationResult::Applied { .. })),
            "{}: {pushed:?}",
            api.backend
        );
        // Without the consent document, the same household is refused from its memberships on.
        let other = with(
            meta(Uuid::now_v7()),
            json!({"name": "Other", "kind": "household"}),
        );
        let alone = individual(Uuid::now_v7(), "Peter", "Were", None);
        let pushed = push(
            &api,
            &agent,
            &[
                create(RecordKind::Group, &other),
                create(RecordKind::Individual, &alone),
                create(
                    RecordKind::Membership,
                    &with(
                        meta(Uuid::now_v7()),
                        json!({"group_id": other["id"], "individual_id": alone["id"],
                               "kind": "head", "start_date": "2026-01-01"}),
                    ),
                ),
            ],
        )
        .await;
        assert!(matches!(pushed[1], MutationResult::Applied { .. }));
        assert_eq!(
            problem_of(&pushed[2]),
            "/problems/consent-required",
            "{}",
            api.backend
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn a_programme_can_require_consent_for_its_applications_alone() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "admin", None, None);
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        assert_eq!(
            api.get("/v1/me", &agent).await.json["consent_required"],
            false
        );
        let programme = with(
            meta(Uuid::now_v7()),
            json!({"code": "opct", "name": "Older Persons", "requires_consent": true}),
        );
        assert_eq!(
            api.post("/v1/programmes", &admin, &programme).await.status,
            201
        );
        common::publish_form(
            &api,
            &admin,
            programme["id"].as_str().unwrap(),
            1,
            common::empty_form(),
        )
        .await;
        let person = individual(Uuid::now_v7(), "Grace", "Achieng", None);
        let id = person["id"].as_str().unwrap().to_owned();
        assert_eq!(
            api.post("/v1/individuals", &agent, &person).await.status,
            201
        );
        // Other writes need no consent here...
        assert_eq!(
            api.post("/v1/contacts", &agent, &contact_for(&id))
                .await
                .status,
            201
        );
        // ...but an application to this programme does.
        let application = || {
            with(
                meta(Uuid::now_v7()),
                json!({"programme_id": programme["id"], "applicant_id": id, "form_version": 1,
                       "data": {}, "status": "draft"}),
            )
        };
        let refused = api.post("/v1/applications", &agent, &application()).await;
        assert_eq!(
            refused.problem(),
            "/problems/consent-required",
            "{:?}",
            refused.json
        );
        assert_eq!(
            api.post("/v1/documents", &agent, &consent_for(&id))
                .await
                .status,
            201
        );
        let accepted = api.post("/v1/applications", &agent, &application()).await;
        assert_eq!(accepted.status, 201, "{}: {:?}", api.backend, accepted.json);
        api.stop().await;
    }
}
