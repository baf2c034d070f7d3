//! Bearer-token authentication against a fake identity provider on loopback: real keys, real
//! HTTP, real signatures. The provider serves OpenID discovery and a JWKS whose keys the tests
//! rotate, and counts how often the keys are fetched.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use doorstep_registry::auth::{
    dev_token, AuthConfig, AuthError, Authenticator, Principal, Role, DEV_ISSUER,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

const AUDIENCE: &str = "doorstep-registry-test";

const RSA_1: &str = include_str!("keys/rsa-1.pem");
const RSA_1_PUBLIC: &str = include_str!("keys/rsa-1.pub.pem");
const RSA_2: &str = include_str!("keys/rsa-2.pem");
const EC_1: &str = include_str!("keys/ec-1.pem");

fn rsa_jwk(pem: &str, kid: &str) -> Value {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

fn ec_jwk(pem: &str, kid: &str) -> Value {
    let key = p256::SecretKey::from_pkcs8_pem(pem).unwrap();
    let point = key.public_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    })
}

/// A minimal OpenID provider: discovery document and JWKS.
#[derive(Clone)]
struct FakeProvider {
    issuer: String,
    keys: Arc<Mutex<Vec<Value>>>,
    jwks_fetches: Arc<AtomicU64>,
}

impl FakeProvider {
    async fn start(keys: Vec<Value>) -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider = FakeProvider {
            issuer: format!("http://{}", listener.local_addr().unwrap()),
            keys: Arc::new(Mutex::new(keys)),
            jwks_fetches: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(p): State<FakeProvider>| async move {
                    Json(json!({"issuer": p.issuer, "jwks_uri": format!("{}/jwks", p.issuer)}))
                }),
            )
            .route(
                "/jwks",
                get(|State(p): State<FakeProvider>| async move {
                    p.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                    Json(json!({"keys": *p.keys.lock().unwrap()}))
                }),
            )
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    fn fetches(&self) -> u64 {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    fn config(&self) -> AuthConfig {
        AuthConfig {
            issuer: Some(self.issuer.clone()),
            audience: Some(AUDIENCE.into()),
            ..AuthConfig::default()
        }
    }

    fn authenticator(&self) -> Authenticator {
        Authenticator::new(&self.config(), None).unwrap()
    }

    /// Standard claims from this provider for `sub`, valid for five minutes, plus `extra`.
    fn claims(&self, extra: Value) -> Value {
        let now = now();
        let mut claims = json!({
            "iss": self.issuer, "aud": AUDIENCE, "sub": "user-1",
            "iat": now, "exp": now + 300,
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    }
}

/// A provider with rsa-1 and ec-1 published.
async fn provider() -> FakeProvider {
    FakeProvider::start(vec![rsa_jwk(RSA_1, "rsa-1"), ec_jwk(EC_1, "ec-1")]).await
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(alg: Algorithm, kid: &str, pem: &str, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn check(auth: &Authenticator, token: &str) -> Result<Principal, AuthError> {
    auth.authenticate(Some(&bearer(token))).await
}

#[tokio::test]
async fn valid_tokens_with_each_default_algorithm_are_accepted() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let claims = idp.claims(json!({"roles": ["staff"], "name": "Wanjiru"}));
    for (alg, kid, pem) in [
        (Algorithm::RS256, "rsa-1", RSA_1),
        (Algorithm::PS256, "rsa-1", RSA_1),
        (Algorithm::ES256, "ec-1", EC_1),
    ] {
        let principal = check(&auth, &sign(alg, kid, pem, &claims))
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(principal.issuer, idp.issuer);
        assert_eq!(principal.subject, "user-1");
        assert_eq!(principal.role, Role::Staff);
        assert_eq!(principal.name.as_deref(), Some("Wanjiru"));
        assert_eq!(principal.actor_id(), "staff:user-1");
    }
    assert_eq!(idp.fetches(), 1, "keys are cached between tokens");
}

#[tokio::test]
async fn explicit_jwks_url_skips_discovery() {
    let idp = provider().await;
    let config = AuthConfig {
        jwks_url: Some(format!("{}/jwks", idp.issuer)),
        ..idp.config()
    };
    let auth = Authenticator::new(&config, None).unwrap();
    let token = sign(Algorithm::RS256, "rsa-1", RSA_1, &idp.claims(json!({})));
    assert_eq!(check(&auth, &token).await.unwrap().role, Role::Citizen);
}

#[tokio::test]
async fn time_issuer_and_audience_are_enforced() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let rs = |claims: Value| sign(Algorithm::RS256, "rsa-1", RSA_1, &claims);
    let n = now();

    let expired = rs(idp.claims(json!({"iat": n - 3600, "exp": n - 600})));
    assert_eq!(check(&auth, &expired).await, Err(AuthError::Expired));

    let within_leeway = rs(idp.claims(json!({"exp": n - 10})));
    assert!(check(&auth, &within_leeway).await.is_ok(), "60 s leeway");

    let early = rs(idp.claims(json!({"nbf": n + 600})));
    assert_eq!(check(&auth, &early).await, Err(AuthError::NotYetValid));

    let future_iat = rs(idp.claims(json!({"iat": n + 600})));
    assert_eq!(check(&auth, &future_iat).await, Err(AuthError::NotYetValid));

    let no_exp = {
        let mut c = idp.claims(json!({}));
        c.as_object_mut().unwrap().remove("exp");
        rs(c)
    };
    assert!(matches!(
        check(&auth, &no_exp).await,
        Err(AuthError::Malformed(m)) if m.contains("exp")
    ));

    let other_iss = rs(idp.claims(json!({"iss": "https://evil.example.org"})));
    let err = check(&auth, &other_iss).await.unwrap_err();
    assert_eq!(
        err,
        AuthError::WrongIssuer {
            expected: idp.issuer.clone()
        }
    );

    let other_aud = rs(idp.claims(json!({"aud": "some-other-client"})));
    assert!(matches!(
        check(&auth, &other_aud).await,
        Err(AuthError::WrongAudience { .. })
    ));
    let aud_list = rs(idp.claims(json!({"aud": ["some-other-client", AUDIENCE]})));
    assert!(check(&auth, &aud_list).await.is_ok(), "aud may be a list");
}

#[tokio::test]
async fn tampered_unsigned_and_hmac_tokens_are_refused() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let claims = idp.claims(json!({}));
    let good = sign(Algorithm::RS256, "rsa-1", RSA_1, &claims);

    // Swap the payload for one granting admin, keep the original signature.
    let parts: Vec<&str> = good.split('.').collect();
    let admin = URL_SAFE_NO_PAD.encode(idp.claims(json!({"roles": "admin"})).to_string());
    let forged = format!("{}.{}.{}", parts[0], admin, parts[2]);
    assert_eq!(check(&auth, &forged).await, Err(AuthError::BadSignature));

    // Flip one signature character.
    let mut sig = parts[2].to_owned().into_bytes();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    assert_eq!(check(&auth, &flipped).await, Err(AuthError::BadSignature));

    // `alg: none`, crafted by hand.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"rsa-1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let err = check(&auth, &none).await.unwrap_err();
    assert!(
        matches!(&err, AuthError::DisallowedAlg { alg, .. } if alg == "none"),
        "{err:?}"
    );

    // HS256 with the provider's RSA public key (which anyone can download) as the secret.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let hs = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(RSA_1_PUBLIC.as_bytes()),
    )
    .unwrap();
    let err = check(&auth, &hs).await.unwrap_err();
    assert!(
        matches!(&err, AuthError::DisallowedAlg { alg, .. } if alg == "HS256"),
        "{err:?}"
    );
    assert!(err.to_string().contains("never accepted"), "{err}");

    // An algorithm outside the allow-list, and one that does not fit the key type.
    let ec_as_rsa = sign(Algorithm::RS256, "ec-1", RSA_1, &claims);
    assert!(matches!(
        check(&auth, &ec_as_rsa).await,
        Err(AuthError::DisallowedAlg { .. })
    ));
    let rs512 = sign(Algorithm::RS512, "rsa-1", RSA_1, &claims);
    let err = check(&auth, &rs512).await.unwrap_err();
    assert!(
        err.to_string().contains("accepted: RS256, PS256, ES256"),
        "{err}"
    );

    assert_eq!(
        idp.fetches(),
        1,
        "only the tampered-signature checks needed the keys; none/HS/RS512 were refused before any fetch"
    );
}

#[tokio::test]
async fn rotated_key_is_picked_up_once_and_random_kids_do_not_cause_a_fetch_storm() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let claims = idp.claims(json!({}));
    check(&auth, &sign(Algorithm::RS256, "rsa-1", RSA_1, &claims))
        .await
        .unwrap();
    assert_eq!(idp.fetches(), 1);

    // The provider rotates: rsa-2 replaces rsa-1.
    *idp.keys.lock().unwrap() = vec![rsa_jwk(RSA_2, "rsa-2"), ec_jwk(EC_1, "ec-1")];
    let rotated = sign(Algorithm::RS256, "rsa-2", RSA_2, &claims);
    check(&auth, &rotated)
        .await
        .expect("unknown kid triggers a refetch that finds the new key");
    assert_eq!(idp.fetches(), 2);

    // A flood of made-up kids right after: no further fetch.
    for i in 0..20 {
        let token = sign(Algorithm::RS256, &format!("random-{i}"), RSA_2, &claims);
        assert_eq!(
            check(&auth, &token).await,
            Err(AuthError::UnknownKid {
                kid: format!("random-{i}")
            })
        );
    }
    assert_eq!(
        idp.fetches(),
        2,
        "refetches on unknown kids are rate-limited"
    );
    assert_eq!(auth.jwks_fetch_count().await, 2);

    // Known keys keep working meanwhile; the rotated-out key does not.
    check(&auth, &rotated).await.unwrap();
    assert!(matches!(
        check(&auth, &sign(Algorithm::RS256, "rsa-1", RSA_1, &claims)).await,
        Err(AuthError::UnknownKid { .. })
    ));
}

#[tokio::test]
async fn unreachable_provider_is_unavailable_not_unauthenticated() {
    // A port that was free a moment ago: connections are refused.
    let addr: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let issuer = format!("http://{addr}");
    let auth = Authenticator::new(
        &AuthConfig {
            issuer: Some(issuer.clone()),
            audience: Some(AUDIENCE.into()),
            ..AuthConfig::default()
        },
        None,
    )
    .expect("construction makes no network request");
    let now = now();
    let token = sign(
        Algorithm::RS256,
        "rsa-1",
        RSA_1,
        &json!({"iss": issuer, "aud": AUDIENCE, "sub": "u", "exp": now + 60}),
    );
    let err = check(&auth, &token).await.unwrap_err();
    assert!(
        matches!(&err, AuthError::ProviderUnreachable { url, .. } if url.contains("openid-configuration")),
        "{err:?}"
    );
    let problem = doorstep_registry::problem::Problem::from(err.clone());
    assert_eq!(problem.status, 503);
    let response = doorstep_registry::auth::unauthenticated_response(&err);
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn header_and_token_shape_errors() {
    let idp = provider().await;
    let auth = idp.authenticator();
    assert_eq!(auth.authenticate(None).await, Err(AuthError::MissingHeader));
    assert_eq!(
        auth.authenticate(Some("Basic dXNlcjpwdw==")).await,
        Err(AuthError::NotBearer)
    );
    for garbled in [
        "Bearer ",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer !!.??.##",
    ] {
        assert!(
            matches!(
                auth.authenticate(Some(garbled)).await,
                Err(AuthError::Malformed(_))
            ),
            "{garbled}"
        );
    }
    let no_kid = {
        let key = EncodingKey::from_rsa_pem(RSA_1.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &idp.claims(json!({})), &key).unwrap()
    };
    assert!(matches!(
        check(&auth, &no_kid).await,
        Err(AuthError::Malformed(m)) if m.contains("kid")
    ));
    assert_eq!(idp.fetches(), 0, "nothing here needed the keys");
}

#[tokio::test]
async fn roles_and_areas_from_provider_claims() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let rs = |extra: Value| sign(Algorithm::RS256, "rsa-1", RSA_1, &idp.claims(extra));

    let p = check(&auth, &rs(json!({"roles": "Admin"}))).await.unwrap();
    assert_eq!(p.role, Role::Admin);
    let p = check(
        &auth,
        &rs(json!({"roles": ["offline_access", "agent"], "area": "KE-047"})),
    )
    .await
    .unwrap();
    assert_eq!((p.role, p.area.as_deref()), (Role::Agent, Some("KE-047")));
    let p = check(&auth, &rs(json!({"individual_id": "1234567890"})))
        .await
        .unwrap();
    assert_eq!(p.role, Role::Citizen, "no role claim: eSignet citizen");
    assert_eq!(p.individual_id.as_deref(), Some("1234567890"));

    assert_eq!(
        check(&auth, &rs(json!({"roles": ["agent"]}))).await,
        Err(AuthError::AgentWithoutArea {
            claim: "area".into()
        })
    );
    assert!(matches!(
        check(&auth, &rs(json!({"roles": ["wizard"]}))).await,
        Err(AuthError::NoRole { .. })
    ));

    // Configured claim names.
    let custom = Authenticator::new(
        &AuthConfig {
            role_claim: "realm_access.roles".into(),
            area_claim: "district".into(),
            individual_id_claim: "nin".into(),
            ..idp.config()
        },
        None,
    )
    .unwrap();
    let p = check(
        &custom,
        &rs(json!({"realm_access": {"roles": ["agent"]}, "district": "D9", "nin": "N1"})),
    )
    .await
    .unwrap();
    assert_eq!(p.role, Role::Agent);
    assert_eq!(p.area.as_deref(), Some("D9"));
    assert_eq!(p.individual_id.as_deref(), Some("N1"));
}

#[tokio::test]
async fn discovery_for_another_issuer_is_refused() {
    let idp = provider().await;
    let auth = Authenticator::new(
        &AuthConfig {
            issuer: Some(format!("{}/", idp.issuer)),
            audience: Some(AUDIENCE.into()),
            ..AuthConfig::default()
        },
        None,
    )
    .unwrap();
    let mut claims = idp.claims(json!({}));
    claims["iss"] = format!("{}/", idp.issuer).into();
    let err = check(&auth, &sign(Algorithm::RS256, "rsa-1", RSA_1, &claims))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::ProviderUnreachable { reason, .. } if reason.contains("discovery document is for issuer")),
        "{err:?}"
    );
}

// --- development sign-in ---

fn dev_auth(dir: &Path) -> Authenticator {
    Authenticator::new(&AuthConfig::default(), Some(dir)).unwrap()
}

#[tokio::test]
async fn dev_tokens_round_trip_and_other_data_dirs_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let token = dev_token(
        dir.path(),
        Role::Agent,
        "agent-7",
        Some("KE-047"),
        Some("ID-9"),
        Duration::from_secs(600),
    )
    .unwrap();
    let auth = dev_auth(dir.path());
    let p = check(&auth, &token).await.unwrap();
    assert_eq!(p.issuer, DEV_ISSUER);
    assert_eq!(p.subject, "agent-7");
    assert_eq!(p.role, Role::Agent);
    assert_eq!(p.area.as_deref(), Some("KE-047"));
    assert_eq!(p.individual_id.as_deref(), Some("ID-9"));

    let other = tempfile::tempdir().unwrap();
    let foreign = dev_token(
        other.path(),
        Role::Admin,
        "mallory",
        None,
        None,
        Duration::from_secs(600),
    )
    .unwrap();
    assert_eq!(check(&auth, &foreign).await, Err(AuthError::BadSignature));

    // Without --dev-auth, development tokens mean nothing.
    let strict = Authenticator::new(&AuthConfig::default(), None).unwrap();
    assert_eq!(check(&strict, &token).await, Err(AuthError::NotConfigured));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = doorstep_registry::auth::dev::dev_key_path(dir.path());
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
        let dir_mode = std::fs::metadata(key.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
}

#[tokio::test]
async fn dev_auth_works_alongside_a_provider_and_from_config() {
    let idp = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = doorstep_registry::config::Config::ephemeral(dir.path());
    config.auth = idp.config();
    config.dev_auth = true;
    let auth = Authenticator::from_config(&config).await.unwrap();

    let dev = dev_token(
        dir.path(),
        Role::Staff,
        "alice",
        None,
        None,
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(check(&auth, &dev).await.unwrap().actor_id(), "staff:alice");
    let real = sign(Algorithm::ES256, "ec-1", EC_1, &idp.claims(json!({})));
    assert_eq!(check(&auth, &real).await.unwrap().issuer, idp.issuer);

    let old = {
        let n = now();
        let claims = json!({"iss": DEV_ISSUER, "aud": "doorstep-registry", "sub": "alice",
            "roles": ["staff"], "iat": n - 7200, "exp": n - 3600});
        // Signed with the data directory's real development key, but long expired.
        let pem = std::fs::read_to_string(doorstep_registry::auth::dev::dev_key_path(dir.path()))
            .unwrap();
        sign(Algorithm::ES256, "doorstep-dev-auth", &pem, &claims)
    };
    assert_eq!(check(&auth, &old).await, Err(AuthError::Expired));
}

// --- HTTP: the extractor and the 401 answer ---

#[derive(Clone)]
struct AppState {
    auth: Authenticator,
}

impl FromRef<AppState> for Authenticator {
    fn from_ref(state: &AppState) -> Authenticator {
        state.auth.clone()
    }
}

async fn whoami(principal: Principal) -> String {
    principal.actor_id()
}

async fn serve(auth: Authenticator) -> String {
    let app = Router::new()
        .route("/whoami", get(whoami))
        .with_state(AppState { auth });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn handlers_taking_a_principal_answer_401_with_a_bearer_challenge() {
    let idp = provider().await;
    let url = serve(idp.authenticator()).await;
    let http = reqwest::Client::new();

    let token = sign(
        Algorithm::RS256,
        "rsa-1",
        RSA_1,
        &idp.claims(json!({"roles": "staff"})),
    );
    let ok = http
        .get(format!("{url}/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "staff:user-1");

    let missing = http.get(format!("{url}/whoami")).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"doorstep-registry\""
    );

    let expired = sign(
        Algorithm::RS256,
        "rsa-1",
        RSA_1,
        &idp.claims(json!({"iat": now() - 7200, "exp": now() - 3600})),
    );
    let response = http
        .get(format!("{url}/whoami"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with(
            "Bearer realm=\"doorstep-registry\", error=\"invalid_token\", error_description=\""
        ),
        "{challenge}"
    );
    assert!(challenge.contains("expired"), "{challenge}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unauthenticated");
    assert_eq!(body["status"], 401);
    assert!(body["detail"].as_str().unwrap().contains("sign in again"));
}

#[tokio::test]
async fn a_registry_without_identity_provider_says_so() {
    let url = serve(Authenticator::new(&AuthConfig::default(), None).unwrap()).await;
    let response = reqwest::get(format!("{url}/whoami")).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("no identity provider configured") && detail.contains("--dev-auth"),
        "{detail}"
    );
}

// --- verified tokens are remembered ---

#[tokio::test]
async fn a_token_seen_before_is_not_checked_again_but_a_tampered_one_is() {
    let idp = provider().await;
    let auth = idp.authenticator();
    let claims = idp.claims(json!({"roles": ["staff"]}));
    let token = sign(Algorithm::ES256, "ec-1", EC_1, &claims);
    let first = check(&auth, &token).await.unwrap();
    assert_eq!(check(&auth, &token).await.unwrap(), first);
    assert_eq!(
        auth.signature_check_count(),
        1,
        "the second use came from memory"
    );

    // The same header and claims with another signature: checked, and refused.
    let (signed, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]));
    assert_eq!(check(&auth, &forged).await, Err(AuthError::BadSignature));
    // Claims that expired are refused even though the same subject was seen a moment ago.
    let expired = sign(
        Algorithm::ES256,
        "ec-1",
        EC_1,
        &idp.claims(json!({"roles": ["staff"], "iat": now() - 600, "exp": now() - 300})),
    );
    assert_eq!(check(&auth, &expired).await, Err(AuthError::Expired));
    assert_eq!(
        auth.signature_check_count(),
        1,
        "refusals are not counted as checks passed"
    );
}
