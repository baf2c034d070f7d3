//! The registry's sign-in routes (`/v1/auth/*`) as the app meets them, on the real server:
//! which answer comes first for a call without credentials, and what the app is told when the
//! identity provider refuses the registry's client. The provider here is a small fake on loopback
//! that records the client assertion it is sent; the full sign-in against a real, certified
//! provider is in crates/system-tests/tests/signin.rs.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use doorstep_registry::auth::ExchangeConfig;
use doorstep_registry::config::Config;
use doorstep_registry::server::{self, RunningServer};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

const CLIENT_ID: &str = "doorstep-registry-client";
const KEY_ID: &str = "doorstep-sig-7";

/// One form as posted: its fields in order.
type Form = Vec<(String, String)>;

/// A token endpoint that answers every request with `answer` and keeps the forms it was sent.
#[derive(Clone)]
struct FakeProvider {
    issuer: String,
    answer: (StatusCode, Value),
    forms: Arc<Mutex<Vec<Form>>>,
}

impl FakeProvider {
    async fn start(answer: (StatusCode, Value)) -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider = FakeProvider {
            issuer: format!("http://{}", listener.local_addr().unwrap()),
            answer,
            forms: Arc::default(),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(p): State<FakeProvider>| async move {
                    Json(json!({
                        "issuer": p.issuer,
                        "token_endpoint": format!("{}/token", p.issuer),
                        "jwks_uri": format!("{}/jwks", p.issuer),
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                    }))
                }),
            )
            .route(
                "/token",
                post(
                    |State(p): State<FakeProvider>, axum::Form(form): axum::Form<Form>| async move {
                        p.forms.lock().unwrap().push(form);
                        (p.answer.0, Json(p.answer.1.clone()))
                    },
                ),
            )
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    fn client_assertions(&self) -> Vec<String> {
        self.forms
            .lock()
            .unwrap()
            .iter()
            .filter_map(|form| {
                form.iter()
                    .find(|(k, _)| k == "client_assertion")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }
}

/// What the server logs, for the tests that read it (the test runtime is single-threaded, so the
/// server's tasks log through this thread's subscriber).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let log = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_writer(move || log.clone())
                .with_ansi(false)
                .finish(),
        )
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn registry(signin: Option<ExchangeConfig>) -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.signin = signin;
    (server::start(&config).await.unwrap(), dir)
}

fn signin(issuer: &str, key_id: Option<&str>) -> ExchangeConfig {
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/rsa-1.pem");
    let mut config = ExchangeConfig::new(issuer, CLIENT_ID, key);
    config.key_id = key_id.map(str::to_owned);
    config
}

async fn exchange(server: &RunningServer) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/auth/token-exchange", server.url()))
        .json(&json!({
            "code": "a-code",
            "code_verifier": "v".repeat(43),
            "redirect_uri": "http://127.0.0.1:4711/callback",
        }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

#[tokio::test]
async fn a_provider_refusing_the_client_is_a_misconfiguration_and_the_assertion_names_the_configured_kid(
) {
    // What eSignet answers when no key registered for the client has the assertion's kid.
    let provider = FakeProvider::start((
        StatusCode::UNAUTHORIZED,
        json!({"error": "invalid_client", "error_description": "invalid_client"}),
    ))
    .await;
    let log = Log::default();
    let _capture = log.capture();
    let (server, _dir) = registry(Some(signin(&provider.issuer, Some(KEY_ID)))).await;
    let (status, content_type, body) = exchange(&server).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["type"], "/problems/signin-misconfigured", "{body}");
    assert_eq!(
        status, 500,
        "not a temporary (503) or caller (4xx) problem: {body}"
    );
    assert!(body.get("error").is_none(), "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("invalid_client"), "{detail}");
    assert!(detail.contains("will not help"), "{detail}");
    // The operator's log names what was sent, and where to look.
    let logged = log.text();
    let line = logged
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("invalid_client"))
        .unwrap_or_else(|| panic!("no error logged for invalid_client:\n{logged}"));
    assert!(line.contains(KEY_ID) && line.contains(CLIENT_ID), "{line}");
    assert!(
        line.contains("key_id") && line.contains("signin-jwks"),
        "{line}"
    );

    // The assertion the provider got: signed with the client key, under the configured kid.
    let assertions = provider.client_assertions();
    assert_eq!(assertions.len(), 1);
    let header = jsonwebtoken::decode_header(&assertions[0]).unwrap();
    assert_eq!(header.kid.as_deref(), Some(KEY_ID));
    assert_eq!(header.alg, Algorithm::RS256);
    let public = DecodingKey::from_rsa_pem(include_bytes!("keys/rsa-1.pub.pem")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", provider.issuer)]);
    validation.set_issuer(&[CLIENT_ID]);
    let claims = jsonwebtoken::decode::<Value>(&assertions[0], &public, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], CLIENT_ID);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refused_code_is_still_the_providers_oauth_error() {
    // invalid_grant is about this code (expired, used): the app may start again.
    let provider = FakeProvider::start((
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_grant", "error_description": "grant request is invalid"}),
    ))
    .await;
    let (server, _dir) = registry(Some(signin(&provider.issuer, None))).await;
    let (status, _, body) = exchange(&server).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    // Without key_id the kid is the key's RFC 7638 thumbprint (43 base64url characters).
    let kid = jsonwebtoken::decode_header(&provider.client_assertions()[0])
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid.len(), 43, "{kid}");
    assert_ne!(kid, KEY_ID);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn calls_without_credentials_are_answered_401_before_anything_about_the_set_up() {
    // Sign-in through the registry is not configured here.
    let (server, _dir) = registry(None).await;
    let http = reqwest::Client::new();
    let userinfo = format!("{}/v1/auth/userinfo", server.url());

    let response = http.post(&userinfo).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"doorstep-registry\""
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unauthenticated", "{body}");

    let response = http
        .post(&userinfo)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));

    // With a token, the caller learns that the route is not available here.
    let response = http
        .post(&userinfo)
        .bearer_auth("an-access-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);

    // The token exchange takes no credentials by design (the caller is signing in; the code and
    // its PKCE verifier are checked by the provider), so it says at once that it is off.
    let response = http
        .post(format!("{}/v1/auth/token-exchange", server.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    server.shutdown().await.unwrap();
}
