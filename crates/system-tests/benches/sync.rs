//! Sync figures, the real app engine against the real registry on loopback:
//! - initial caseload download by a field agent: 2,500 households of their area (about 9,000
//!   people with contacts and accounts) into an empty vault, s and records/s beside the vault's
//!   plain insert rate of the same records (goal ≤ 10 s);
//! - push of 10,000 queued mutations (mutations/s), on SQLite and PostgreSQL registries;
//! - a no-op sync when nothing changed (ms, median of 20);
//! - sync of 20 documents of 5 MB, as a ratio of a raw loopback transfer of the same bytes
//!   measured in the same run.
//!
//! `./dev bench registry` runs it with a throwaway PostgreSQL (DOORSTEP_TEST_POSTGRES_URL).

use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_client::sync::{sync_once, SyncTransport};
use doorstep_client::vault::{Change, KdfParams, NewDocument, NoKeyStore, Op, Partition, Vault};
use doorstep_registry::auth::Role;
use doorstep_registry::config::Config;
use doorstep_registry::server::RunningServer;
use doorstep_registry::storage::DatabaseLocation;
use serde_json::json;
use uuid::Uuid;

const MUTATIONS: usize = 10_000;
const DOCUMENTS: usize = 20;
const DOCUMENT_BYTES: usize = 5_000_000;

struct Registry {
    server: RunningServer,
    data: tempfile::TempDir,
    config: Config,
}

async fn registry(database: DatabaseLocation) -> Registry {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(data.path());
    config.database = database;
    config.dev_auth = true;
    config.limits.requests_per_minute = 0;
    let server = doorstep_registry::server::start(&config).await.unwrap();
    Registry {
        server,
        data,
        config,
    }
}

fn device(registry: &Registry, role: Role) -> (tempfile::TempDir, Partition, SyncTransport) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition("bench passphrase", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let area = (role == Role::Agent).then_some("KE.30");
    let token = doorstep_registry::auth::dev_token(
        registry.data.path(),
        role,
        "bench",
        area,
        None,
        Duration::from_secs(7200),
    )
    .unwrap();
    let transport = SyncTransport::new(url::Url::parse(&registry.server.url()).unwrap(), token);
    (dir, partition, transport)
}

async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("doorstep_syncbench_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// Households in the agent's area for the caseload download (issue 16: 2,500 households, about
/// 10,000 people with their contacts and accounts).
const CASELOAD_HOUSEHOLDS: usize = 2_500;

/// What the initial caseload download measured.
struct Download {
    pulled: usize,
    individuals: usize,
    households: usize,
    secs: f64,
    /// The same records written into a fresh vault in one `apply_batch` (records/s).
    insert_rate: f64,
}

/// Initial caseload download: the registry holds twice CASELOAD_HOUSEHOLDS demo households, half
/// of them in KE.30 (the demo spreads households over KE.30 and KE.31); a field agent of KE.30
/// pulls their area into an empty vault. Beside it, the plain insert rate of the same vault: the
/// same records applied locally in one transaction (validated, queued, audited: the vault's own
/// write path, with no network and no registry).
async fn caseload_download(database: DatabaseLocation) -> Download {
    let reg = registry(database).await;
    let store = doorstep_registry::storage::open(&reg.config.data_dir, &reg.config.database)
        .await
        .unwrap();
    doorstep_registry::demo::households::load(store.as_ref(), CASELOAD_HOUSEHOLDS * 2, 7, &[])
        .await
        .unwrap();
    let (_dir, partition, transport) = device(&reg, Role::Agent);
    let start = Instant::now();
    let report = sync_once(&partition, &transport, &|_| {}).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let (_fresh_dir, fresh, _) = device(&reg, Role::Agent);
    reg.server.shutdown().await.unwrap();

    let mut changes = Vec::new();
    for kind in [
        "group",
        "individual",
        "membership",
        "contact",
        "financial_account",
    ] {
        for record in partition.records(kind).unwrap() {
            changes.push(Change {
                kind: kind.into(),
                id: record.id,
                op: Op::Create,
                body: record.body,
                actor: "agent:bench".into(),
            });
        }
    }
    let start = Instant::now();
    fresh.apply_batch(&changes).unwrap();
    let insert_rate = changes.len() as f64 / start.elapsed().as_secs_f64();
    Download {
        pulled: report.pulled,
        individuals: partition.records("individual").unwrap().len(),
        households: partition.records("group").unwrap().len(),
        secs,
        insert_rate,
    }
}

/// Push: 10,000 mutations queued offline (new people and edits), one sync.
async fn push(database: DatabaseLocation) -> (usize, f64, f64) {
    let reg = registry(database).await;
    let (_dir, partition, transport) = device(&reg, Role::Agent);
    let mut ids = Vec::new();
    for i in 0..MUTATIONS * 4 / 5 {
        let id = Uuid::now_v7();
        let body = json!({"id": id.to_string(), "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
                          "created_by": "bench", "given_name": format!("Person{i}"), "family_name": "Bench"});
        partition
            .apply(&Change {
                kind: "individual".into(),
                id,
                op: Op::Create,
                body,
                actor: "agent:bench".into(),
            })
            .unwrap();
        ids.push(id);
    }
    for id in ids.iter().take(MUTATIONS / 5) {
        let mut body = partition.record("individual", *id).unwrap().unwrap().body;
        body["occupation"] = json!("farmer");
        partition
            .apply(&Change {
                kind: "individual".into(),
                id: *id,
                op: Op::Update,
                body,
                actor: "agent:bench".into(),
            })
            .unwrap();
    }
    let start = Instant::now();
    let report = sync_once(&partition, &transport, &|_| {}).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(report.applied, MUTATIONS, "{report:?}");
    // No-op syncs: nothing to push, nothing new to pull.
    let mut idle = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        sync_once(&partition, &transport, &|_| {}).await.unwrap();
        idle.push(t.elapsed());
    }
    idle.sort();
    reg.server.shutdown().await.unwrap();
    (
        report.applied,
        secs,
        idle[idle.len() / 2].as_secs_f64() * 1000.0,
    )
}

/// The same bytes over a raw loopback HTTP POST streamed into a file (the baseline).
async fn raw_transfer(bytes: &[u8]) -> f64 {
    use axum::routing::post;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sink");
    let app = axum::Router::new().route(
        "/sink",
        post(move |body: axum::body::Body| {
            let path = path.clone();
            async move {
                use futures_util::StreamExt;
                use tokio::io::AsyncWriteExt;
                let mut file = tokio::fs::File::create(&path).await.unwrap();
                let mut stream = body.into_data_stream();
                while let Some(chunk) = stream.next().await {
                    file.write_all(&chunk.unwrap()).await.unwrap();
                }
                file.sync_all().await.unwrap();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sink", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let start = Instant::now();
    for _ in 0..DOCUMENTS {
        let r = client.post(&url).body(bytes.to_vec()).send().await.unwrap();
        assert!(r.status().is_success());
    }
    let secs = start.elapsed().as_secs_f64();
    server.abort();
    (DOCUMENTS * bytes.len()) as f64 / secs / 1e6
}

/// 20 documents of 5 MB captured offline, one sync (metadata, then resumable uploads).
async fn documents() -> (f64, f64) {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..DOCUMENT_BYTES - bytes.len()).map(|i| (i as u8).wrapping_mul(31)));
    let reg = registry(DatabaseLocation::EmbeddedSqlite).await;
    let (_dir, partition, transport) = device(&reg, Role::Agent);
    let person = Uuid::now_v7();
    let body = json!({"id": person.to_string(), "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
                      "created_by": "bench", "given_name": "Doc", "family_name": "Owner"});
    partition
        .apply(&Change {
            kind: "individual".into(),
            id: person,
            op: Op::Create,
            body,
            actor: "agent:bench".into(),
        })
        .unwrap();
    sync_once(&partition, &transport, &|_| {}).await.unwrap();
    for i in 0..DOCUMENTS {
        let mut doc = bytes.clone();
        doc[20] = i as u8; // distinct content, distinct blobs
        partition
            .store_document(
                &NewDocument {
                    kind: "id_card".into(),
                    file_name: format!("scan-{i}.pdf"),
                    record_id: Some(person),
                    actor: "agent:bench".into(),
                    consent: None,
                },
                &doc[..],
            )
            .unwrap();
    }
    let raw = raw_transfer(&bytes).await;
    let start = Instant::now();
    let report = sync_once(&partition, &transport, &|_| {}).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(report.uploaded_documents, DOCUMENTS);
    reg.server.shutdown().await.unwrap();
    ((DOCUMENTS * DOCUMENT_BYTES) as f64 / secs / 1e6, raw)
}

#[tokio::main]
async fn main() {
    let d = caseload_download(DatabaseLocation::EmbeddedSqlite).await;
    println!("\nSync benchmark (loopback, in-process registry)");
    println!("| measure | figure |");
    println!("|---|---:|");
    let rate = d.pulled as f64 / d.secs;
    println!(
        "| initial caseload download by a field agent: {} households, {} people, {} records with memberships, contacts, accounts (goal ≤ 10 s) | {:.1} s, {rate:.0} records/s = {:.2}× the vault's plain insert rate of the same records ({:.0} records/s) |",
        d.households, d.individuals, d.pulled, d.secs, rate / d.insert_rate, d.insert_rate
    );
    let mut backends = vec![("sqlite", DatabaseLocation::EmbeddedSqlite)];
    if let Ok(admin) = std::env::var("DOORSTEP_TEST_POSTGRES_URL") {
        backends.push((
            "postgres",
            DatabaseLocation::Postgres(fresh_postgres(&admin).await),
        ));
    } else {
        eprintln!("(PostgreSQL not measured: DOORSTEP_TEST_POSTGRES_URL is not set)");
    }
    for (name, db) in backends {
        let (applied, secs, idle_ms) = push(db).await;
        println!("| push of {applied} queued mutations, {name} registry | {:.0} mutations/s ({secs:.1} s) |", applied as f64 / secs);
        println!("| no-op sync, {name} registry (median of 20) | {idle_ms:.1} ms |");
    }
    let (sync_mbs, raw_mbs) = documents().await;
    println!("| {DOCUMENTS} documents of 5 MB: sync vs raw loopback POST | {sync_mbs:.0} vs {raw_mbs:.0} MB/s = {:.2}x |", sync_mbs / raw_mbs);
}
