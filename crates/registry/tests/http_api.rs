//! The registry server, started in-process on a random loopback port, answering real HTTP.
//! Tests that touch the database run against every backend (see `common`).

mod common;

use common::{backends, Backend};
use doorstep_domain::wire::{HealthReport, HealthStatus, StorageKind, API_VERSION};
use doorstep_registry::server;

async fn start(backend: &Backend) -> (tempfile::TempDir, server::RunningServer) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = backend.config(&dir.path().join("data"));
    config.demo = true;
    let server = server::start(&config)
        .await
        .unwrap_or_else(|e| panic!("{}: server starts: {e}", backend.name));
    assert!(server.addr.ip().is_loopback());
    (dir, server)
}

#[tokio::test]
async fn health_reports_ok_on_every_backend() {
    for backend in backends().await {
        let (_dir, server) = start(&backend).await;
        let resp = reqwest::get(format!("{}/health", server.url()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", backend.name);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let report: HealthReport = resp.json().await.unwrap();
        assert_eq!(report.status, HealthStatus::Ok);
        let expected = if backend.name == "postgres" {
            StorageKind::Postgres
        } else {
            StorageKind::Sqlite
        };
        assert_eq!(report.storage, expected);
        assert_eq!(report.api_version, API_VERSION);
        assert_eq!(report.version, env!("CARGO_PKG_VERSION"));
        assert!(report.schema_version >= 1);
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let (_dir, server) = start(&backends().await[0]).await;
    let resp = reqwest::get(format!("{}/openapi.json", server.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: serde_json::Value = resp.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/health",
        "/ready",
        "/openapi.json",
        "/v1/{collection}",
        "/v1/{collection}/{id}",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from OpenAPI document"
        );
    }
    // Every documented route and method really exists: public ones answer, the rest demand a
    // token (401, never the router's 404/405), so nothing is documented that is not served and
    // nothing under /v1 answers without credentials.
    let client = reqwest::Client::new();
    let public = ["/health", "/ready", "/openapi.json"];
    // Public but answering an error without a configured provider / a body (still served). The
    // userinfo relay takes the provider's access token, so without one it answers 401 like the rest.
    let public_unconfigured = ["/v1/auth/token-exchange"];
    let mut checked = 0;
    for (path, operations) in paths {
        let concrete = path
            .replace("{collection}", "individuals")
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        for method in operations.as_object().unwrap().keys() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue; // "parameters" and other non-method keys
            };
            let status = client
                .request(method.clone(), format!("{}{concrete}", server.url()))
                .send()
                .await
                .unwrap()
                .status();
            // tus discovery (OPTIONS) describes the server only and is public by design.
            if public_unconfigured.contains(&path.as_str()) {
                assert!(
                    status != 404 && status != 405 && status != 401,
                    "{method} {path}: {status}"
                );
            } else if public.contains(&path.as_str()) || method == reqwest::Method::OPTIONS {
                assert!(status.is_success(), "{method} {path}: {status}");
            } else {
                assert_eq!(status, 401, "{method} {path} must demand a token");
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} operations documented");
    assert!(doc["components"]["schemas"]["HealthReport"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405_as_problem_json() {
    let (_dir, server) = start(&backends().await[0]).await;
    let client = reqwest::Client::new();
    for (method, path, status, problem) in [
        (reqwest::Method::GET, "/nope", 404, "/problems/not-found"),
        (
            reqwest::Method::POST,
            "/health",
            405,
            "/problems/method-not-allowed",
        ),
    ] {
        let r = client
            .request(method, format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["type"], problem);
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().unwrap().contains(path), "{body}");
    }
    server.shutdown().await.unwrap();
}

/// When the database goes away, `/ready` and `/health` say so (and recover nothing by lying).
#[tokio::test]
async fn lost_database_makes_the_instance_unready() {
    use sqlx::Connection;
    for backend in backends().await {
        let doorstep_registry::storage::DatabaseLocation::Postgres(url) = &backend.database else {
            continue;
        };
        let (_dir, server) = start(&backend).await;
        assert_eq!(
            reqwest::get(format!("{}/ready", server.url()))
                .await
                .unwrap()
                .status(),
            204
        );

        // Pull the database out from under the running server.
        let admin_url = std::env::var("DOORSTEP_TEST_POSTGRES_URL").unwrap();
        let name = url::Url::parse(url)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();

        let r = reqwest::get(format!("{}/ready", server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let r = reqwest::get(format!("{}/health", server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        let report: HealthReport = r.json().await.unwrap();
        assert_eq!(report.status, HealthStatus::Degraded);
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn shutdown_stops_listening_and_data_survives_restart() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut config = backend.config(&dir.path().join("data"));
        config.demo = true;
        let server = server::start(&config).await.unwrap();
        let url = server.url();
        server.shutdown().await.unwrap();
        assert!(
            reqwest::get(format!("{url}/health")).await.is_err(),
            "{}: still listening after shutdown",
            backend.name
        );

        // Same database, demo loaded again: no error, no duplicate.
        let again = server::start(&config).await.unwrap();
        let report: HealthReport = reqwest::get(format!("{}/health", again.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report.status, HealthStatus::Ok, "{}", backend.name);
        again.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn port_in_use_is_a_clear_error() {
    let (_dir, first) = start(&backends().await[0]).await;
    let dir2 = tempfile::tempdir().unwrap();
    let mut config = doorstep_registry::config::Config::ephemeral(dir2.path());
    config.listen = first.addr;
    let err = server::start(&config)
        .await
        .err()
        .expect("second bind fails");
    assert!(err.to_string().contains("already running"), "{err}");
    first.shutdown().await.unwrap();
}
