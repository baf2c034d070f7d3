//! The client against the real registry server over loopback HTTP.

use doorstep_client::info::{registry_status, RegistryStatus};
use doorstep_client::registry::RegistryClient;
use doorstep_client::settings::parse_registry_url;
use doorstep_domain::wire::{HealthStatus, StorageKind};
use doorstep_registry::{config::Config, server};

#[tokio::test]
async fn online_when_the_registry_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(&Config::ephemeral(dir.path())).await.unwrap();
    let client = RegistryClient::new(parse_registry_url(&server.url()).unwrap());
    match registry_status(&client).await {
        RegistryStatus::Online { report } => {
            assert_eq!(report.status, HealthStatus::Ok);
            assert_eq!(report.storage, StorageKind::Sqlite);
        }
        other => panic!("expected online, got {other:?}"),
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn offline_with_a_reason_when_nothing_listens() {
    // Bind then drop a listener to get a loopback port that is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client =
        RegistryClient::new(parse_registry_url(&format!("http://127.0.0.1:{port}")).unwrap());
    match registry_status(&client).await {
        RegistryStatus::Offline { reason } => {
            assert!(reason.contains("cannot be reached"), "{reason}");
            assert!(reason.contains(&port.to_string()), "{reason}");
        }
        other => panic!("expected offline, got {other:?}"),
    }
}

#[tokio::test]
async fn non_registry_server_is_a_bad_response_not_a_crash() {
    // A loopback HTTP server that answers 200 with something that is not a health report.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = sock.read(&mut buf).await.unwrap();
        let body = "<html>captive portal</html>";
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
    });
    let client = RegistryClient::new(parse_registry_url(&format!("http://{addr}")).unwrap());
    match registry_status(&client).await {
        RegistryStatus::Offline { reason } => {
            assert!(reason.contains("does not understand"), "{reason}")
        }
        other => panic!("expected offline, got {other:?}"),
    }
    serve.await.unwrap();
}
