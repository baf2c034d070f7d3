//! A field agent's week without network: 500 changes and 20 documents queued offline, then one
//! sync. And a document upload cut again and again resumes from where it stopped instead of
//! starting over.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{household, individual, membership, Device, Registry};
use doorstep_client::vault::NewDocument;
use serde_json::json;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// A PDF-looking file of `len` bytes (the registry sniffs the type from the content).
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len - bytes.len()).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

fn attach(device: &Device, record: Uuid, bytes: &[u8], name: &str) -> Uuid {
    device
        .partition
        .store_document(
            &NewDocument {
                kind: "id_card".into(),
                file_name: name.into(),
                record_id: Some(record),
                actor: device.actor(),
                consent: None,
            },
            bytes,
        )
        .unwrap()
        .id
}

async fn download(registry: &Registry, id: Uuid) -> Vec<u8> {
    reqwest::Client::new()
        .get(format!("{}/v1/documents/{id}/content", registry.url()))
        .bearer_auth(registry.staff_token())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_then_one_sync() {
    for (backend, database) in common::backends().await {
        let registry = Registry::start(&database).await;
        let agent = Device::new("wanjiru", &registry);
        let mut people = Vec::new();
        let mut changes = 0;
        // 100 households of 3: group, 3 people, 3 memberships, 1 edit = 8 changes each → 500+.
        while changes < 500 {
            let group = agent.create("group", household("Family"));
            for (i, kind) in ["head", "spouse", "child"].iter().enumerate() {
                let person = agent.create(
                    "individual",
                    individual(&format!("P{changes}-{i}"), "Family"),
                );
                agent.create("membership", membership(group, person, kind));
                people.push(person);
            }
            agent.edit("group", group, |b| b["name"] = json!("Family (edited)"));
            changes += 8;
        }
        let documents: Vec<(Uuid, Vec<u8>)> = (0..20)
            .map(|i| {
                let bytes = pdf(200_000 + i * 10_000, i as u8);
                (
                    attach(&agent, people[i * 7], &bytes, &format!("scan-{i}.pdf")),
                    bytes,
                )
            })
            .collect();
        let report = agent.sync_ok().await;
        assert_eq!(report.rejected, 0, "{backend}: {report:?}");
        assert_eq!(report.conflicts, 0);
        assert_eq!(report.applied, changes + 20, "{backend}: {report:?}");
        assert_eq!(report.uploaded_documents, 20);
        assert_eq!(agent.partition.pending_count().unwrap(), 0);
        assert!(agent.partition.pending_uploads().unwrap().is_empty());
        for (id, bytes) in &documents {
            let got = download(&registry, *id).await;
            assert_eq!(
                sha2::Sha256::digest(&got),
                sha2::Sha256::digest(bytes),
                "{backend}: document {id}"
            );
        }
        // A second sync has nothing to do.
        let idle = agent.sync_ok().await;
        assert_eq!((idle.pushed, idle.uploaded_documents), (0, 0), "{idle:?}");
        registry.stop().await;
    }
}

/// A proxy whose first `cuts` connections are closed after `budget` bytes from the client.
async fn cutting_proxy(
    target: std::net::SocketAddr,
    cuts: usize,
    budget: u64,
) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let forwarded = Arc::new(AtomicU64::new(0));
    let total = forwarded.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut client, _)) = listener.accept().await {
            n += 1;
            let limit = if n <= cuts { budget } else { u64::MAX };
            let total = total.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(target).await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0_u8; 64 * 1024];
                    let mut sent = 0_u64;
                    while let Ok(k) = cr.read(&mut buf).await {
                        if k == 0 {
                            break;
                        }
                        let k = k.min((limit - sent) as usize);
                        if sw.write_all(&buf[..k]).await.is_err() {
                            break;
                        }
                        sent += k as u64;
                        total.fetch_add(k as u64, Ordering::SeqCst);
                        if sent >= limit {
                            break;
                        }
                    }
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    (url, forwarded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_upload_resumes_where_it_stopped() {
    let registry =
        Registry::start(&doorstep_registry::storage::DatabaseLocation::EmbeddedSqlite).await;
    let direct = Device::new("amina", &registry);
    let person = direct.create("individual", individual("Amina", "Odhiambo"));
    direct.sync_ok().await;
    // The document's metadata goes up directly; then the bytes go through a proxy that cuts
    // the first three connections after 3 MB each.
    let bytes = pdf(8_000_000, 7);
    let doc = attach(&direct, person, &bytes, "statement.pdf");
    let uploads_before = direct.partition.pending_uploads().unwrap();
    assert!(
        uploads_before.is_empty(),
        "bytes wait for the metadata to be acknowledged"
    );
    let (proxy, forwarded) = cutting_proxy(registry.config.listen, 3, 3_000_000).await;
    let device = Device {
        transport: doorstep_client::sync::SyncTransport::new(
            url::Url::parse(&proxy).unwrap(),
            registry.token("amina"),
        ),
        ..direct
    };
    let mut rounds = 0;
    while !device.partition.pending_uploads().unwrap().is_empty()
        || device.partition.pending_count().unwrap() > 0
    {
        rounds += 1;
        assert!(rounds <= 20, "the upload never finished");
        let _ = device.sync().await;
    }
    let sent = forwarded.load(Ordering::SeqCst);
    // Starting over after every cut would send about 8 + 3 × 3 = 17 MB.
    assert!(
        sent < 11_000_000,
        "sent {sent} bytes for an 8 MB file: the upload restarted instead of resuming"
    );
    assert_eq!(
        sha2::Sha256::digest(download(&registry, doc).await),
        sha2::Sha256::digest(&bytes)
    );
    registry.stop().await;
}
