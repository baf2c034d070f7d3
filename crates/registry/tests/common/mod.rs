//! Shared by the server's integration tests: the database backends to run each test against.
//!
//! SQLite always; PostgreSQL when `DOORSTEP_TEST_POSTGRES_URL` points at a server (`./dev test`
//! starts a throwaway one through `scripts/with-postgres.sh` and then also sets
//! `DOORSTEP_REQUIRE_POSTGRES=1`, so a missing server fails the run instead of skipping).

#![allow(dead_code)] // each test binary uses its own subset

use doorstep_registry::config::Config;
use doorstep_registry::storage::DatabaseLocation;

/// A database each test gets to itself.
pub struct Backend {
    pub name: &'static str,
    pub database: DatabaseLocation,
}

impl Backend {
    /// A server configuration on an ephemeral loopback port using this backend.
    pub fn config(&self, data_dir: &std::path::Path) -> Config {
        let mut config = Config::ephemeral(data_dir);
        config.database = self.database.clone();
        config
    }
}

pub async fn backends() -> Vec<Backend> {
    let mut all = vec![Backend {
        name: "sqlite",
        database: DatabaseLocation::EmbeddedSqlite,
    }];
    match std::env::var("DOORSTEP_TEST_POSTGRES_URL") {
        Ok(admin_url) => all.push(Backend {
            name: "postgres",
            database: DatabaseLocation::Postgres(fresh_database(&admin_url).await),
        }),
        Err(_) => {
            assert!(
                std::env::var_os("DOORSTEP_REQUIRE_POSTGRES").is_none(),
                "DOORSTEP_REQUIRE_POSTGRES is set but DOORSTEP_TEST_POSTGRES_URL is not"
            );
            eprintln!(
                "PostgreSQL not available: testing SQLite only (./dev test provides PostgreSQL)"
            );
        }
    }
    all
}

/// Create an empty database on the test server and return its URL.
async fn fresh_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("doorstep_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(admin_url).expect("admin URL parses");
    url.set_path(&name);
    url.to_string()
}

/// A running registry with dev-auth on, and a client that talks to it as one person or another.
pub struct Api {
    pub server: doorstep_registry::server::RunningServer,
    pub data: tempfile::TempDir,
    pub http: reqwest::Client,
    pub backend: &'static str,
}

/// One answer: status, headers and JSON body (Null when there was none).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

impl Answer {
    /// The problem type of an error answer, e.g. `/problems/not-found`.
    pub fn problem(&self) -> &str {
        self.json["type"].as_str().unwrap_or("")
    }
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

impl Api {
    pub async fn start(backend: &Backend) -> Api {
        Api::start_with(backend, |_| {}).await
    }

    /// As [`Api::start`], with the configuration adjusted first.
    pub async fn start_with(backend: &Backend, adjust: impl FnOnce(&mut Config)) -> Api {
        let data = tempfile::tempdir().unwrap();
        let mut config = backend.config(data.path());
        config.dev_auth = true;
        adjust(&mut config);
        let server = doorstep_registry::server::start(&config).await.unwrap();
        Api {
            server,
            data,
            http: reqwest::Client::new(),
            backend: backend.name,
        }
    }

    /// A bearer token for someone, signed with this server's dev key.
    pub fn token(
        &self,
        role: &str,
        subject: &str,
        area: Option<&str>,
        individual_id: Option<&str>,
    ) -> String {
        let role: doorstep_registry::auth::Role =
            serde_json::from_value(serde_json::Value::String(role.into())).unwrap();
        doorstep_registry::auth::dev_token(
            self.data.path(),
            role,
            subject,
            area,
            individual_id,
            std::time::Duration::from_secs(600),
        )
        .unwrap()
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.server.url()),
        );
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send("GET", path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &serde_json::Value) -> Answer {
        self.send("POST", path, Some(token), Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &serde_json::Value, rev: u64) -> Answer {
        let rev = format!("\"{rev}\"");
        self.send("PUT", path, Some(token), Some(body), &[("if-match", &rev)])
            .await
    }

    pub async fn stop(self) {
        self.server.shutdown().await.unwrap();
    }
}

/// Record metadata for a new record made now.
pub fn meta(id: uuid::Uuid) -> serde_json::Value {
    serde_json::json!({
        "id": id.to_string(),
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z",
        "created_by": "app"
    })
}

/// `base` with the fields of `extra` added.
pub fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Publishes `schema` as form version `version` of `programme` (an admin's write), as a
/// programme needs one before anyone can apply to it.
pub async fn publish_form(
    api: &Api,
    admin: &str,
    programme: impl std::fmt::Display,
    version: u32,
    schema: serde_json::Value,
) -> serde_json::Value {
    let form = with(
        meta(uuid::Uuid::now_v7()),
        serde_json::json!({"programme_id": programme.to_string(), "version": version, "schema": schema}),
    );
    let answer = api.post("/v1/forms", admin, &form).await;
    assert_eq!(answer.status, 201, "{}: {:?}", api.backend, answer.json);
    answer.json
}

/// The smallest form: no questions, a submit button.
pub fn empty_form() -> serde_json::Value {
    serde_json::json!({"display": "form", "components": [
        {"type": "button", "key": "submit", "label": "Submit", "input": true, "action": "submit"}
    ]})
}

pub fn individual(
    id: uuid::Uuid,
    given: &str,
    family: &str,
    national_id: Option<&str>,
) -> serde_json::Value {
    let reg_ids = match national_id {
        Some(n) => serde_json::json!([{ "id_type": "national_id", "value": n }]),
        None => serde_json::json!([]),
    };
    with(
        meta(id),
        serde_json::json!({ "given_name": given, "family_name": family, "reg_ids": reg_ids }),
    )
}

/// Sync push helpers: mutations as a device makes them, and a push that must succeed whole.
pub mod sync {
    use doorstep_domain::sync::{
        diff, ChangeSet, Mutation, MutationOp, MutationResult, PushResponse,
    };
    use doorstep_domain::RecordKind;
    use serde_json::{json, Value};
    use uuid::Uuid;

    use super::Api;

    pub fn create(kind: RecordKind, body: &Value) -> Mutation {
        Mutation {
            id: Uuid::now_v7(),
            kind,
            record_id: body["id"].as_str().unwrap().parse().unwrap(),
            op: MutationOp::Create,
            base_rev: None,
            changes: ChangeSet {
                set: body.as_object().unwrap().clone(),
                ..ChangeSet::default()
            },
        }
    }

    pub fn update(kind: RecordKind, before: &Value, after: &Value) -> Mutation {
        Mutation {
            id: Uuid::now_v7(),
            kind,
            record_id: before["id"].as_str().unwrap().parse().unwrap(),
            op: MutationOp::Update,
            base_rev: before["rev"].as_u64(),
            changes: diff(Some(before), after),
        }
    }

    pub async fn push(api: &Api, token: &str, mutations: &[Mutation]) -> Vec<MutationResult> {
        let answer = api
            .post("/v1/sync/push", token, &json!({ "mutations": mutations }))
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        serde_json::from_value::<PushResponse>(answer.json)
            .unwrap()
            .results
    }

    pub fn record_of(result: &MutationResult) -> Value {
        match result {
            MutationResult::Applied { record, .. } | MutationResult::Conflict { record, .. } => {
                record.clone()
            }
            other => panic!("no record in {other:?}"),
        }
    }
}

/// Identity providers on loopback for tests that need real issuers beside the development one:
/// each publishes the test RSA key (`tests/keys/rsa-1`) as its JWKS, and tokens are minted here
/// with any claims. `iss` is the provider's URL, so several can be trusted at once.
pub struct TestIssuer {
    pub issuer: String,
}

pub const TEST_AUDIENCE: &str = "doorstep-registry-test";
const TEST_KEY: &str = include_str!("../keys/rsa-1.pem");

impl TestIssuer {
    /// Serve a JWKS at `<issuer>/jwks` until the test ends.
    pub async fn start() -> TestIssuer {
        use base64::Engine as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(TEST_KEY).unwrap();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwks = serde_json::json!({"keys": [{
            "kty": "RSA", "use": "sig", "kid": "test-1", "alg": "RS256",
            "n": b64.encode(key.n().to_bytes_be()),
            "e": b64.encode(key.e().to_bytes_be()),
        }]});
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestIssuer { issuer }
    }

    /// `[[auth.issuers]]` for this provider, with its policy.
    pub fn config(
        &self,
        trust_role_claim: bool,
        grants: &[&str],
    ) -> doorstep_registry::auth::IssuerConfig {
        let text = format!(
            "issuer = {:?}\naudience = {TEST_AUDIENCE:?}\njwks_url = \"{}/jwks\"\ntrust_role_claim = {trust_role_claim}\ngrants = {:?}\n",
            self.issuer, self.issuer, grants
        );
        toml::from_str(&text).unwrap()
    }

    /// A token for `subject`, valid ten minutes, with `extra` claims.
    pub fn token(&self, subject: &str, extra: serde_json::Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = serde_json::json!({
            "iss": self.issuer, "aud": TEST_AUDIENCE, "sub": subject,
            "iat": now, "exp": now + 600,
        });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("test-1".into());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

/// Serve `app` on a free loopback port for the rest of the test (a webhook receiver, a fake
/// gateway); answers its base URL, e.g. `http://127.0.0.1:40123`.
pub async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
