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
    for route in ["/health", "/openapi.json"] {
        assert!(
            paths.contains_key(route),
            "{route} missing from OpenAPI document"
        );
        // Each documented route really answers.
        let status = reqwest::get(format!("{}{route}", server.url()))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{route}");
    }
    assert!(doc["components"]["schemas"]["HealthReport"].is_object());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405() {
    let (_dir, server) = start(&backends().await[0]).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/nope", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client
        .post(format!("{}/health", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    server.shutdown().await.unwrap();
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
