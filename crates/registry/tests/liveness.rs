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

// ---------------------------------------------------------------------------------------------
// eSignet's way: the registry redeems the code, and the person's ID number is only in the
// (encrypted, signed) userinfo, not in the ID token.

/// The provider's signing key (its JWKS serves the public half as `test-1`).
const PROVIDER_KEY: &str = include_str!("keys/rsa-1.pem");
/// Another key, for a userinfo JWT the provider did not sign.
const OTHER_KEY: &str = include_str!("keys/rsa-2.pem");
/// The registry's client at the provider (the code's client, and the ID token's audience).
const ESIGNET_CLIENT: &str = "doorstep-esignet";
const ACCESS_TOKEN: &str = "provider-access-token-for-the-registry";

fn key_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

/// A provider like eSignet on loopback: discovery, keys, a token endpoint answering the ID token
/// and access token set beforehand, and a userinfo endpoint answering a JWE (for the registry's
/// decryption key) of a JWT signed with `userinfo_key`.
#[derive(Clone)]
struct Esignet {
    issuer: String,
    id_token: std::sync::Arc<std::sync::Mutex<Value>>,
    userinfo: std::sync::Arc<std::sync::Mutex<Value>>,
    userinfo_key: std::sync::Arc<std::sync::Mutex<&'static str>>,
    userinfo_calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The registry's `use: enc` public key.
    encrypt_to: rsa::RsaPublicKey,
}

impl Esignet {
    async fn start(encrypt_to: rsa::RsaPublicKey) -> Esignet {
        use axum::routing::{get, post};
        use base64::Engine as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let provider = Esignet {
            issuer: issuer.clone(),
            id_token: Default::default(),
            userinfo: Default::default(),
            userinfo_key: std::sync::Arc::new(std::sync::Mutex::new(PROVIDER_KEY)),
            userinfo_calls: Default::default(),
            encrypt_to,
        };
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(PROVIDER_KEY).unwrap();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwks = json!({"keys": [{
            "kty": "RSA", "use": "sig", "kid": "test-1", "alg": "RS256",
            "n": b64.encode(key.n().to_bytes_be()), "e": b64.encode(key.e().to_bytes_be()),
        }]});
        let discovery = json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "jwks_uri": format!("{issuer}/jwks"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        });
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { axum::Json(discovery) }),
            )
            .route("/jwks", get(move || async move { axum::Json(jwks) }))
            .route("/token", post(esignet_token))
            .route("/userinfo", get(esignet_userinfo))
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    /// A JWT of `claims` (with `iss`, `iat`, `exp` added) signed with `pem` as `test-1`.
    fn sign(&self, claims: &Value, pem: &str) -> String {
        let now = now();
        let mut claims = claims.clone();
        claims["iss"] = json!(self.issuer);
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + 600);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("test-1".into());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

async fn esignet_token(
    axum::extract::State(p): axum::extract::State<Esignet>,
) -> axum::Json<Value> {
    let claims = p.id_token.lock().unwrap().clone();
    axum::Json(json!({
        "id_token": p.sign(&claims, PROVIDER_KEY),
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
    }))
}

async fn esignet_userinfo(
    axum::extract::State(p): axum::extract::State<Esignet>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    p.userinfo_calls
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if bearer != format!("Bearer {ACCESS_TOKEN}") {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let claims = p.userinfo.lock().unwrap().clone();
    let pem = *p.userinfo_key.lock().unwrap();
    let signed = p.sign(&claims, pem);
    (
        [(axum::http::header::CONTENT_TYPE, "application/jwt")],
        jwe(signed.as_bytes(), &p.encrypt_to),
    )
        .into_response()
}

/// A compact JWE (RSA-OAEP-256, A256GCM) of `plaintext` for `to`, as eSignet encrypts userinfo.
fn jwe(plaintext: &[u8], to: &rsa::RsaPublicKey) -> String {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let random = |n: usize| {
        let mut bytes = vec![0u8; n];
        getrandom::getrandom(&mut bytes).unwrap();
        bytes
    };
    let header = json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"});
    let protected = b64(header.to_string().as_bytes());
    let cek = random(32);
    let encrypted_key = to
        .encrypt(
            &mut rsa::rand_core::OsRng,
            rsa::Oaep::new::<sha2::Sha256>(),
            &cek,
        )
        .unwrap();
    let iv = random(12);
    let mut sealed = aes_gcm::Aes256Gcm::new_from_slice(&cek)
        .unwrap()
        .encrypt(
            aes_gcm::Nonce::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: protected.as_bytes(),
            },
        )
        .unwrap();
    let tag = sealed.split_off(sealed.len() - 16);
    [
        protected,
        b64(&encrypted_key),
        b64(&iv),
        b64(&sealed),
        b64(&tag),
    ]
    .join(".")
}

#[tokio::test]
async fn with_a_code_proof_the_persons_number_comes_from_the_providers_userinfo() {
    use rsa::pkcs8::DecodePrivateKey as _;
    for backend in backends().await {
        let decryption = key_path("rsa-2.pem");
        let public =
            rsa::RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&decryption).unwrap())
                .unwrap()
                .to_public_key();
        let provider = Esignet::start(public).await;
        let issuer: doorstep_registry::auth::IssuerConfig = toml::from_str(&format!(
            "issuer = {:?}\naudience = {:?}\njwks_url = \"{}/jwks\"\ngrants = [\"citizen\"]\n",
            provider.issuer,
            common::TEST_AUDIENCE,
            provider.issuer
        ))
        .unwrap();
        let mut signin = doorstep_registry::auth::ExchangeConfig::new(
            &provider.issuer,
            ESIGNET_CLIENT,
            key_path("ec-1.pem"),
        );
        signin.userinfo_decryption_key_path = Some(decryption);
        let liveness = LivenessConfig {
            auth_time_skew_seconds: 5,
            providers: vec![LivenessProvider {
                issuer: provider.issuer.clone(),
                client_id: ESIGNET_CLIENT.into(),
                code: "esignet".into(),
                acr_values: vec![ESIGNET_BIOMETRICS.into()],
                fresh_login_only: false,
                proof: ProofMode::Code,
            }],
            ..LivenessConfig::default()
        };
        let api = Api::start_with(&backend, move |config| {
            config.auth.issuers = vec![issuer];
            config.signin = Some(signin);
            config.liveness = liveness;
        })
        .await;
        let name = api.backend;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let amina = api
            .post(
                "/v1/individuals",
                &agent,
                &individual(Uuid::now_v7(), "Amina", "Odhiambo", Some("NID-1001")),
            )
            .await
            .json;
        // Amina applied to a programme that checks every 30 days with 3 days of grace: the
        // verified check is due by it.
        let admin = api.token("admin", "root", None, None);
        let programme = api
            .post(
                "/v1/programmes",
                &admin,
                &common::with(
                    common::meta(Uuid::now_v7()),
                    json!({"code": "monthly", "name": "Monthly",
                           "liveness_interval_days": 30, "liveness_grace_days": 3}),
                ),
            )
            .await
            .json;
        common::publish_form(
            &api,
            &admin,
            programme["id"].as_str().unwrap(),
            1,
            common::empty_form(),
        )
        .await;
        let application = api
            .post(
                "/v1/applications",
                &agent,
                &common::with(
                    common::meta(Uuid::now_v7()),
                    json!({"programme_id": programme["id"], "applicant_id": amina["id"],
                           "form_version": 1, "data": {}, "status": "draft"}),
                ),
            )
            .await
            .json;
        let submitted = api
            .post(
                &format!(
                    "/v1/applications/{}/transitions",
                    application["id"].as_str().unwrap()
                ),
                &agent,
                &json!({"to": "submitted"}),
            )
            .await;
        assert_eq!(submitted.status, 200, "{name}: {:?}", submitted.json);

        // Amina signed in to the registry with her number; the step-up's subject is eSignet's
        // own (not linked to her), so only the number can say who authenticated.
        let citizen = {
            let mut claims = json!({"aud": common::TEST_AUDIENCE, "sub": "amina",
                                    "individual_id": "NID-1001"});
            claims["iss"] = json!(provider.issuer);
            provider.sign(&claims, PROVIDER_KEY)
        };
        let subject = "esignet-psut-5f1c";
        let attempt = |userinfo: Value, userinfo_key: &'static str| {
            let api = &api;
            let provider = &provider;
            let citizen = &citizen;
            async move {
                let c = api
                    .post("/v1/liveness/challenges", citizen, &json!({}))
                    .await;
                assert_eq!(c.status, 201, "{:?}", c.json);
                assert_eq!(c.json["proof"], "code");
                *provider.id_token.lock().unwrap() = json!({
                    "sub": subject, "aud": ESIGNET_CLIENT, "nonce": c.json["nonce"],
                    "acr": ESIGNET_BIOMETRICS, "auth_time": now(),
                });
                *provider.userinfo.lock().unwrap() = userinfo;
                *provider.userinfo_key.lock().unwrap() = userinfo_key;
                api.post(
                    &format!(
                        "/v1/liveness/challenges/{}/proof",
                        c.json["id"].as_str().unwrap()
                    ),
                    citizen,
                    &json!({"code": "the-code", "redirect_uri": "http://127.0.0.1:4123/callback",
                            "code_verifier": "a".repeat(43)}),
                )
                .await
            }
        };
        let reason = |answer: &common::Answer| {
            assert_eq!(answer.status, 422, "{name}: {:?}", answer.json);
            answer.json["errors"][0]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        };

        // Another person's number in the userinfo: refused.
        let other = attempt(
            json!({"sub": subject, "individual_id": "NID-9999"}),
            PROVIDER_KEY,
        )
        .await;
        assert_eq!(reason(&other), "other_person");
        // Userinfo about another subject, or not signed by the provider: not believed.
        let elsewhere = attempt(
            json!({"sub": "someone-else", "individual_id": "NID-1001"}),
            PROVIDER_KEY,
        )
        .await;
        assert_eq!(reason(&elsewhere), "token_invalid");
        let forged = attempt(
            json!({"sub": subject, "individual_id": "NID-1001"}),
            OTHER_KEY,
        )
        .await;
        assert_eq!(reason(&forged), "token_invalid");
        // No number anywhere, and the subject is not linked to her: refused.
        let unknown = attempt(json!({"sub": subject}), PROVIDER_KEY).await;
        assert_eq!(reason(&unknown), "other_person");
        assert_eq!(
            provider
                .userinfo_calls
                .load(std::sync::atomic::Ordering::SeqCst),
            4
        );

        // Her number in the userinfo: passed, due by her programme.
        let passed = attempt(
            json!({"sub": subject, "individual_id": "NID-1001", "name": "Amina Odhiambo"}),
            PROVIDER_KEY,
        )
        .await;
        assert_eq!(passed.status, 201, "{name}: {:?}", passed.json);
        assert_eq!(passed.json["individual_id"], amina["id"]);
        let today = time::OffsetDateTime::now_utc().date();
        let day = |n: i64| doorstep_domain::date_format::format(today + time::Duration::days(n));
        assert_eq!(passed.json["next_due"], json!(day(30)), "{name}");
        assert_eq!(passed.json["overdue_after"], json!(day(33)), "{name}");
        assert_eq!(
            provider
                .userinfo_calls
                .load(std::sync::atomic::Ordering::SeqCst),
            5
        );
        api.stop().await;
    }
}
