//! The registry server, started in-process on a random loopback port, answering real HTTP.

use doorstep_domain::wire::{HealthReport, HealthStatus, StorageKind, API_VERSION};
use doorstep_registry::config::Config;
use doorstep_registry::server;

async fn start() -> (tempfile::TempDir, server::RunningServer) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path().join("data"));
    config.demo = true;
    let server = server::start(&config).await.expect("server starts");
    assert!(server.addr.ip().is_loopback());
    (dir, server)
}

#[tokio::test]
async fn health_reports_ok_with_sqlite() {
    let (_dir, server) = start().await;
    let resp = reqwest::get(format!("{}/health", server.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let report: HealthReport = resp.json().await.unwrap();
    assert_eq!(report.status, HealthStatus::Ok);
    assert_eq!(report.storage, StorageKind::Sqlite);
    assert_eq!(report.api_version, API_VERSION);
    assert_eq!(report.version, env!("CARGO_PKG_VERSION"));
    assert!(report.schema_version >= 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let (_dir, server) = start().await;
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
    let (_dir, server) = start().await;
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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = Config::ephemeral(&data);
    config.demo = true;
    let server = server::start(&config).await.unwrap();
    let url = server.url();
    server.shutdown().await.unwrap();
    assert!(
        reqwest::get(format!("{url}/health")).await.is_err(),
        "still listening after shutdown"
    );

    // Same data dir, demo loaded again: no error, no duplicate.
    let again = server::start(&config).await.unwrap();
    let report: HealthReport = reqwest::get(format!("{}/health", again.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report.status, HealthStatus::Ok);
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn port_in_use_is_a_clear_error() {
    let (_dir, first) = start().await;
    let dir2 = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir2.path());
    config.listen = first.addr;
    let err = server::start(&config)
        .await
        .err()
        .expect("second bind fails");
    assert!(err.to_string().contains("already running"), "{err}");
    first.shutdown().await.unwrap();
}
