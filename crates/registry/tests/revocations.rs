//! Issue 16: an admin revokes a lost device or an agent who left; from the next request the
//! registry takes only what the device still holds (push, uploads) and refuses the rest with the
//! reason — on SQLite and PostgreSQL. Only admins revoke; the list is the audit trail.

mod common;

use common::sync::{create, push};
use common::{backends, individual, Api};
use doorstep_domain::sync::MutationResult;
use doorstep_domain::RecordKind;
use serde_json::json;
use uuid::Uuid;

const DEVICE: &str = doorstep_domain::api::headers::DEVICE;

#[tokio::test]
async fn a_revoked_device_may_send_what_it_holds_and_nothing_else() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "root", None, None);
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let (lost, other) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
        let as_device = |device: &str, method: &str, path: &str| {
            let (api, agent, device) = (&api, agent.clone(), device.to_owned());
            let (method, path) = (method.to_owned(), path.to_owned());
            async move {
                api.send(&method, &path, Some(&agent), None, &[(DEVICE, &device)])
                    .await
            }
        };
        assert_eq!(as_device(&lost, "GET", "/v1/individuals").await.status, 200);

        let revoked = api
            .post(
                "/v1/revocations",
                &admin,
                &json!({"device": lost, "reason": "Laptop reported stolen in Kisumu"}),
            )
            .await;
        assert_eq!(revoked.status, 201, "{}: {:?}", api.backend, revoked.json);
        assert_eq!(revoked.json["target"], format!("device:{lost}"));
        assert_eq!(revoked.json["revoked_by"], "admin:root");

        // Everything but sending is refused, with the reason.
        let refused = as_device(&lost, "GET", "/v1/sync/pull").await;
        assert_eq!(refused.status, 403, "{}", api.backend);
        assert_eq!(refused.problem(), "/problems/revoked");
        assert!(refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("reported stolen"));
        assert_eq!(as_device(&lost, "GET", "/v1/me").await.status, 403);
        // Its queued changes still go through.
        let person = individual(Uuid::now_v7(), "Typed", "Offline", None);
        let answer = api
            .send(
                "POST",
                "/v1/sync/push",
                Some(&agent),
                Some(&json!({"mutations": [create(RecordKind::Individual, &person)]})),
                &[(DEVICE, &lost)],
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        assert_eq!(answer.json["results"][0]["outcome"], "applied");
        // The same agent on another laptop is served; so is a citizen who sends that id.
        assert_eq!(as_device(&other, "GET", "/v1/sync/pull").await.status, 200);
        let citizen = api.token("citizen", "amina", None, None);
        let citizen_answer = api
            .send("GET", "/v1/me", Some(&citizen), None, &[(DEVICE, &lost)])
            .await;
        assert_eq!(citizen_answer.status, 200);
        api.stop().await;
    }
}

#[tokio::test]
async fn a_revoked_agent_is_refused_on_every_device_and_only_admins_revoke() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "root", None, None);
        let staff = api.token("staff", "reviewer", None, None);
        let agent = api.token("agent", "otieno", Some("KE.30"), None);

        for (who, token) in [("staff", &staff), ("agent", &agent)] {
            let answer = api
                .post(
                    "/v1/revocations",
                    token,
                    &json!({"agent": "agent:otieno", "reason": "x"}),
                )
                .await;
            assert_eq!(answer.status, 403, "{}: {who}", api.backend);
        }
        for bad in [
            json!({"reason": "neither"}),
            json!({"device": Uuid::now_v7(), "agent": "agent:otieno", "reason": "both"}),
            json!({"agent": "otieno", "reason": "not an actor id"}),
            json!({"agent": "agent:otieno", "reason": ""}),
            json!({"agent": "agent:otieno", "reason": "two\nlines"}),
            json!({"agent": "agent:otieno", "reason": "r", "extra": 1}),
        ] {
            let answer = api.post("/v1/revocations", &admin, &bad).await;
            assert_eq!(
                answer.status, 400,
                "{}: {bad}: {:?}",
                api.backend, answer.json
            );
        }
        assert!(api.get("/v1/revocations", &admin).await.json["items"]
            .as_array()
            .unwrap()
            .is_empty());
        // Refused nothing yet; then revoked everywhere.
        assert_eq!(api.get("/v1/individuals", &agent).await.status, 200);
        let answer = api
            .post(
                "/v1/revocations",
                &admin,
                &json!({"agent": "agent:otieno", "reason": "Left the service"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.json);
        assert_eq!(
            api.get("/v1/individuals", &agent).await.problem(),
            "/problems/revoked"
        );
        let pushed = push(
            &api,
            &agent,
            &[create(
                RecordKind::Individual,
                &individual(Uuid::now_v7(), "Last", "Work", None),
            )],
        )
        .await;
        assert!(matches!(pushed[0], MutationResult::Applied { .. }));
        // Another agent is unaffected; staff read the audit trail.
        let colleague = api.token("agent", "achieng", Some("KE.30"), None);
        assert_eq!(api.get("/v1/individuals", &colleague).await.status, 200);
        let list = api.get("/v1/revocations", &staff).await;
        assert_eq!(
            list.json["items"][0]["target"], "agent:otieno",
            "{:?}",
            list.json
        );
        assert_eq!(list.json["items"][0]["reason"], "Left the service");
        assert_eq!(api.get("/v1/revocations", &agent).await.status, 403);
        api.stop().await;
    }
}
