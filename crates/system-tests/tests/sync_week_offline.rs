//! A field agent's week without network: 500 changes and 20 documents queued offline, then one
//! sync. And a document upload cut again and again resumes from where it stopped instead of
//! starting over.

mod common;

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

/// What the proxy saw the client send.
#[derive(Default)]
struct Seen {
    /// Bytes forwarded, per connection in the order accepted.
    bytes: std::sync::Mutex<Vec<u64>>,
    /// The `Upload-Offset` of each PATCH, in order.
    patch_offsets: std::sync::Mutex<Vec<u64>>,
}
type Forwarded = Arc<Seen>;

/// Record the `Upload-Offset` header of a PATCH whose head is in `bytes` (the client writes a
/// request's head in one go; the body bytes of these tests never spell a header).
fn offsets_in(bytes: &[u8], into: &std::sync::Mutex<Vec<u64>>) {
    let head = &bytes[..bytes.len().min(2048)];
    for line in String::from_utf8_lossy(head).lines() {
        let line = line.to_ascii_lowercase();
        if let Some(value) = line.strip_prefix("upload-offset:") {
            if let Ok(offset) = value.trim().parse() {
                into.lock().unwrap().push(offset);
            }
        }
    }
}

/// A proxy whose first `cuts` connections are cut after `budget` bytes from the client.
///
/// A cut the way the registry sees a dropped network: it gets the bytes sent so far and then the
/// end of the connection. The client notices only once the registry has read them and closed
/// its side, as on a real network where the client's retry comes seconds later. (Without that
/// wait a starved registry can answer the client's next HEAD before reading the cut PATCH, and
/// the client rightly resends those bytes: a race this test does not measure.)
async fn cutting_proxy(
    target: std::net::SocketAddr,
    cuts: usize,
    budget: u64,
) -> (String, Forwarded) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let forwarded = Forwarded::default();
    let seen = forwarded.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let slot = {
                let mut all = seen.bytes.lock().unwrap();
                all.push(0);
                all.len() - 1
            };
            let limit = if slot < cuts { budget } else { u64::MAX };
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            tokio::spawn(relay(client, server, limit, seen.clone(), slot));
        }
    });
    (url, forwarded)
}

/// Relay one connection, cutting it after `limit` bytes from the client.
async fn relay(client: TcpStream, server: TcpStream, limit: u64, seen: Forwarded, slot: usize) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Registry → client, until the registry closes; after a cut its answer is dropped.
    let down = tokio::spawn({
        let cut = cut.clone();
        async move {
            let mut buf = vec![0_u8; 64 * 1024];
            while let Ok(k) = sr.read(&mut buf).await {
                if k == 0 {
                    break;
                }
                if !cut.load(std::sync::atomic::Ordering::SeqCst) {
                    let _ = cw.write_all(&buf[..k]).await;
                }
            }
        }
    });
    let mut buf = vec![0_u8; 64 * 1024];
    let mut sent = 0_u64;
    while let Ok(k) = cr.read(&mut buf).await {
        if k == 0 {
            break;
        }
        let k = k.min((limit - sent) as usize);
        offsets_in(&buf[..k], &seen.patch_offsets);
        if sw.write_all(&buf[..k]).await.is_err() {
            break;
        }
        sent += k as u64;
        seen.bytes.lock().unwrap()[slot] += k as u64;
        if sent >= limit {
            cut.store(true, std::sync::atomic::Ordering::SeqCst);
            break;
        }
    }
    // End the registry's side and wait (bounded) until it has read everything and closed.
    let _ = sw.shutdown().await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), down).await;
    // Dropping `cr` with the client's unread bytes in it resets the client's connection.
    drop(cr);
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
    let mut rounds = Vec::new();
    while !device.partition.pending_uploads().unwrap().is_empty()
        || device.partition.pending_count().unwrap() > 0
    {
        assert!(rounds.len() < 20, "the upload never finished: {rounds:#?}");
        rounds.push(device.sync().await.map(|r| r.uploaded_documents));
    }
    let per_connection = forwarded.bytes.lock().unwrap().clone();
    let offsets = forwarded.patch_offsets.lock().unwrap().clone();
    let sent: u64 = per_connection.iter().sum();
    let seen = format!(
        "PATCH offsets {offsets:?}; bytes per connection {per_connection:?}; rounds {rounds:#?}"
    );
    // Resuming means every PATCH after a cut starts where the registry's bytes end, never at 0,
    // and each byte crosses the network once.
    assert!(offsets.len() >= 3, "the upload was not cut twice: {seen}");
    assert_eq!(offsets[0], 0, "{seen}");
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "the upload restarted instead of resuming: {seen}"
    );
    // Starting over after every cut would send about 8 + 3 × 3 = 17 MB.
    assert!(
        sent < 8_000_000 + 100_000,
        "sent {sent} bytes for an 8 MB file: {seen}"
    );
    assert_eq!(
        sha2::Sha256::digest(download(&registry, doc).await),
        sha2::Sha256::digest(&bytes)
    );
    registry.stop().await;
}
