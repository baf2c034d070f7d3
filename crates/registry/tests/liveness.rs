//! Liveness step-ups verified by the registry (issue 18), on both backends, with ID tokens
//! minted by a test provider on loopback (`TestIssuer`): each rule refuses with its own reason
//! and records nothing; who may start a check for whom; a challenge counts once.
//! The same flow against the real test provider is in crates/system-tests/tests/liveness.rs.

mod common;

use common::{backends, individual, Api, TestIssuer};
use doorstep_registry::liveness::{
    LivenessConfig, LivenessProvider, ProofMode, ESIGNET_BIOMETRICS,
};
use serde_json::{json, Value};
use uuid::Uuid;

/// The app's client id at the provider: the ID tokens' audience.
const APP: &str = "doorstep-app";

struct World {
    api: Api,
    provider: TestIssuer,
    amina: Value,
    citizen: String,
}

async fn world(backend: &common::Backend) -> World {
    let provider = TestIssuer::start().await;
    let issuer = provider.config(false, &["citizen"]);
    let liveness = LivenessConfig {
        auth_time_skew_seconds: 5,
        providers: vec![LivenessProvider {
            issuer: provider.issuer.clone(),
            client_id: APP.into(),
            code: "esignet".into(),
            acr_values: vec![ESIGNET_BIOMETRICS.into()],
            fresh_login_only: false,
            proof: ProofMode::IdToken,
        }],
        ..LivenessConfig::default()
    };
    let api = Api::start_with(backend, move |config| {
        config.auth.issuers = vec![issuer];
        config.liveness = liveness;
    })
    .await;
    let agent = api.token("agent", "agent-a", Some("KE.30"), None);
    let amina = api
        .post(
            "/v1/individuals",
            &agent,
            &individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001")),
        )
        .await;
    assert_eq!(amina.status, 201, "{:?}", amina.json);
    let citizen = provider.token("amina", json!({"individual_id": "NID-1001"}));
    World {
        api,
        provider,
        amina: amina.json,
        citizen,
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl World {
    async fn challenge(&self, token: &str, body: Value) -> common::Answer {
        self.api.post("/v1/liveness/challenges", token, &body).await
    }

    /// An ID token for `subject` answering `challenge`, with `extra` claims over a passing set.
    fn id_token(&self, subject: &str, challenge: &Value, extra: Value) -> String {
        let mut claims = json!({
            "aud": APP, "nonce": challenge["nonce"], "acr": ESIGNET_BIOMETRICS,
            "auth_time": now(), "individual_id": "NID-1001",
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.provider.token(subject, claims)
    }

    async fn prove(&self, token: &str, challenge: &Value, id_token: &str) -> common::Answer {
        let path = format!(
            "/v1/liveness/challenges/{}/proof",
            challenge["id"].as_str().unwrap()
        );
        self.api
            .post(&path, token, &json!({ "id_token": id_token }))
            .await
    }

    /// The refusal's reason code, after checking it is a liveness refusal.
    async fn refused(&self, extra: Value) -> String {
        let c = self.challenge(&self.citizen, json!({})).await.json;
        let answer = self
            .prove(&self.citizen, &c, &self.id_token("amina", &c, extra))
            .await;
        assert_eq!(answer.status, 422, "{:?}", answer.json);
        assert_eq!(answer.json["type"], "/problems/liveness-refused");
        answer.json["errors"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn checks(&self) -> usize {
        let staff = self.api.token("staff", "auditor", None, None);
        let page = self.api.get("/v1/liveness-checks", &staff).await;
        page.json["items"].as_array().unwrap().len()
    }
}

#[tokio::test]
async fn each_rule_of_a_step_up_refuses_with_its_reason_and_records_nothing() {
    for backend in backends().await {
        let w = world(&backend).await;
        let name = w.api.backend;

        // Who may start a check for whom.
        let c = w.challenge(&w.citizen, json!({})).await;
        assert_eq!(c.status, 201, "{name}: {:?}", c.json);
        assert_eq!(c.json["individual_id"], w.amina["id"]);
        assert_eq!(c.json["acr_values"], json!([ESIGNET_BIOMETRICS]));
        assert_eq!(c.json["max_age"], 0);
        assert_eq!(c.json["proof"], "id_token");
        let admin = w.api.token("admin", "root", None, None);
        assert_eq!(
            w.challenge(&admin, json!({"individual_id": w.amina["id"]}))
                .await
                .status,
            403
        );
        let stranger = w.provider.token("nobody", json!({}));
        assert_eq!(
            w.challenge(&stranger, json!({})).await.status,
            403,
            "not linked"
        );
        let agent_b = w.api.token("agent", "agent-b", Some("KE.31"), None);
        assert_eq!(
            w.challenge(&agent_b, json!({"individual_id": w.amina["id"]}))
                .await
                .status,
            404
        );
        assert_eq!(w.challenge(&agent_b, json!({})).await.status, 400);
        assert_eq!(
            w.challenge(&w.citizen, json!({"individual": 1}))
                .await
                .status,
            400
        );

        // Each rule.
        let stale = now() - 3600;
        for (extra, code) in [
            (json!({"nonce": "another-attempt"}), "nonce_mismatch"),
            (json!({"acr": "mosip:idp:acr:password"}), "acr_too_weak"),
            (
                json!({"acr": "mosip:idp:acr:password mosip:idp:acr:generated-code"}),
                "acr_too_weak",
            ),
            (json!({"auth_time": stale}), "auth_time_stale"),
            (json!({"auth_time": null}), "auth_time_missing"),
            (json!({"individual_id": "NID-9999"}), "other_person"),
            (json!({"aud": "another-app"}), "token_invalid"),
            (json!({"exp": now() - 3600}), "token_invalid"),
        ] {
            assert_eq!(w.refused(extra.clone()).await, code, "{name} {extra}");
        }
        // A proof is only its challenge's starter's to send.
        let c = w.challenge(&w.citizen, json!({})).await.json;
        let agent_a = w.api.token("agent", "agent-a", Some("KE.30"), None);
        assert_eq!(
            w.prove(&agent_a, &c, &w.id_token("amina", &c, json!({})))
                .await
                .status,
            404
        );
        // Not a mix of both proofs.
        let path = format!(
            "/v1/liveness/challenges/{}/proof",
            c["id"].as_str().unwrap()
        );
        let mixed = json!({"id_token": "x", "code": "y"});
        assert_eq!(w.api.post(&path, &w.citizen, &mixed).await.status, 400);
        assert_eq!(w.checks().await, 0, "{name}: a refusal records nothing");

        // A passing proof, once.
        let token = w.id_token(
            "amina",
            &c,
            json!({"acr": format!("mosip:idp:acr:password {ESIGNET_BIOMETRICS}")}),
        );
        let passed = w.prove(&w.citizen, &c, &token).await;
        assert_eq!(passed.status, 201, "{name}: {:?}", passed.json);
        assert_eq!(passed.json["outcome"], "passed");
        assert_eq!(passed.json["acr"], ESIGNET_BIOMETRICS);
        assert!(passed.json["next_due"].is_string(), "{:?}", passed.json);
        let again = w.prove(&w.citizen, &c, &token).await;
        assert_eq!(
            again.json["errors"][0]["code"], "replayed",
            "{:?}",
            again.json
        );
        let next = w.challenge(&w.citizen, json!({})).await.json;
        let replayed = w.prove(&w.citizen, &next, &token).await;
        assert_eq!(replayed.json["errors"][0]["code"], "nonce_mismatch");
        assert_eq!(w.checks().await, 1);

        // An agent assists Amina: recorded as the agent's, on her behalf.
        let c = w
            .challenge(&agent_a, json!({"individual_id": w.amina["id"]}))
            .await
            .json;
        let assisted = w
            .prove(&agent_a, &c, &w.id_token("amina", &c, json!({})))
            .await;
        assert_eq!(assisted.status, 201, "{name}: {:?}", assisted.json);
        assert_eq!(assisted.json["assisted_by"], "agent:agent-a");
        let staff = w.api.token("staff", "auditor", None, None);
        let trail = w
            .api
            .get(
                &format!(
                    "/v1/liveness-checks/{}/history",
                    assisted.json["id"].as_str().unwrap()
                ),
                &staff,
            )
            .await;
        assert_eq!(trail.json[0]["actor"], "agent:agent-a", "{:?}", trail.json);
        assert_eq!(
            trail.json[0]["on_behalf_of"], w.amina["id"],
            "{:?}",
            trail.json
        );
        w.api.stop().await;
    }
}

#[tokio::test]
async fn without_a_liveness_provider_no_check_starts() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let amina = api
            .post(
                "/v1/individuals",
                &agent,
                &individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001")),
            )
            .await;
        let answer = api
            .post(
                "/v1/liveness/challenges",
                &agent,
                &json!({"individual_id": amina.json["id"]}),
            )
            .await;
        assert_eq!(answer.status, 503, "{:?}", answer.json);
        let proof = api
            .post(
                &format!("/v1/liveness/challenges/{}/proof", Uuid::now_v7()),
                &agent,
                &json!({"id_token": "a.b.c"}),
            )
            .await;
        assert_eq!(proof.status, 404, "{:?}", proof.json);
        api.stop().await;
    }
}
