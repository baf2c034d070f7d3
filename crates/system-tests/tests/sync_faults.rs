//! Sync under faults, against the real registry over loopback HTTP:
//! - a TCP proxy that drops requests midway, cuts responses after the registry committed,
//!   delays, and resets connections;
//! - the registry restarted in the middle of a sync;
//! - the syncing process killed with SIGKILL at random moments.
//!
//! Each ends with a clean sync after which every change is on the registry exactly once and the
//! device agrees with it. Every loop is bounded and the faults stop by themselves.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{individual, Device, Registry, PASS};
use doorstep_client::sync::{sync_once, SyncTransport};
use doorstep_client::vault::{Change, KdfParams, NoKeyStore, Op, Vault};
use doorstep_registry::storage::DatabaseLocation;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// Deterministic randomness; the seed is printed so a failure can be replayed.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let seed = std::env::var("DOORSTEP_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("fault seed: {seed} (set DOORSTEP_FAULT_SEED to replay)");
    seed
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Pass,
    /// Forward part of the request, then close both sides.
    DropRequest,
    /// Forward the whole request, let the registry answer, close before the client sees it.
    CutResponse,
    Delay,
    /// Close with a TCP reset at once.
    Reset,
}

/// A loopback proxy to `target` that injects a fault into each of its first `faulty`
/// connections, then passes everything through.
async fn fault_proxy(
    target: std::net::SocketAddr,
    faulty: usize,
    seed: u64,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let injected = Arc::new(AtomicUsize::new(0));
    let counter = injected.clone();
    tokio::spawn(async move {
        let mut dice = XorShift(seed);
        let mut n = 0;
        while let Ok((client, _)) = listener.accept().await {
            n += 1;
            // A fixed rotation, so every run meets every kind of fault (the dice only pick where
            // a request is cut and how long a delay lasts).
            let fault = if n > faulty {
                Fault::Pass
            } else {
                [
                    Fault::DropRequest,
                    Fault::Pass,
                    Fault::CutResponse,
                    Fault::Delay,
                    Fault::Reset,
                ][n % 5]
            };
            if !matches!(fault, Fault::Pass | Fault::Delay) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let cut_after = 1 + dice.below(400) as usize;
            tokio::spawn(relay(client, target, fault, cut_after));
        }
    });
    (url, injected)
}

async fn relay(
    mut client: TcpStream,
    target: std::net::SocketAddr,
    fault: Fault,
    cut_after: usize,
) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    match fault {
        Fault::Reset => {
            // A zero linger makes the close a TCP reset; it cannot block (nothing to flush).
            #[allow(deprecated)]
            let _ = client.set_linger(Some(Duration::ZERO));
            drop(client);
        }
        Fault::DropRequest => {
            let mut buf = vec![0_u8; cut_after];
            if let Ok(n) = client.read(&mut buf).await {
                let _ = server.write_all(&buf[..n]).await;
            }
        }
        Fault::CutResponse => {
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let upstream = async {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            };
            let downstream = async {
                // Wait for the registry's answer (it has committed by then), then drop it.
                let mut buf = [0_u8; 1];
                let _ = sr.read(&mut buf).await;
            };
            tokio::select! { _ = upstream => {}, _ = downstream => {} }
            let _ = cw.shutdown().await;
        }
        Fault::Delay | Fault::Pass => {
            if matches!(fault, Fault::Delay) {
                tokio::time::sleep(Duration::from_millis(20 + (cut_after as u64 % 150))).await;
            }
            // One exchange per connection: once the answer has gone quiet, close, so the next
            // request opens a new connection and meets the next fault (reqwest would otherwise
            // send a whole sync through one kept-alive connection).
            let (mut cr, mut cw) = client.split();
            let (mut sr, mut sw) = server.split();
            let upstream = async {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            };
            let downstream = async {
                // Forward exactly one response (head + Content-Length body), then close.
                let mut buf = vec![0_u8; 64 * 1024];
                let mut seen: Vec<u8> = Vec::new();
                let mut total = None;
                loop {
                    let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(60), sr.read(&mut buf)).await
                    else {
                        break;
                    };
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if total.is_none() {
                        total = response_length(&seen);
                    }
                    if total.is_some_and(|t| seen.len() >= t) {
                        break;
                    }
                }
            };
            tokio::select! { _ = upstream => {}, _ = downstream => {} }
        }
    }
}

/// Length of a whole HTTP response (head and body) once its head has arrived, from its
/// `Content-Length`.
fn response_length(bytes: &[u8]) -> Option<usize> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&bytes[..head_end])
        .ok()?
        .to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Some(head_end + length)
}

/// Queue `n` new people and an edit of every third one.
fn queue_work(device: &Device, n: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..n)
        .map(|i| device.create("individual", individual(&format!("Person{i}"), "Offline")))
        .collect();
    for id in ids.iter().step_by(3) {
        device.edit("individual", *id, |b| b["occupation"] = json!("farmer"));
    }
    ids
}

/// Every queued change is on the registry exactly once, and the device agrees.
async fn assert_exactly_once(registry: &Registry, device: &Device, ids: &[Uuid], label: &str) {
    assert_eq!(
        device.partition.pending_count().unwrap(),
        0,
        "{label}: changes left unsent"
    );
    let mut after = String::new();
    let mut on_registry = 0;
    loop {
        let page = registry
            .get(&format!("/v1/individuals?limit=500{after}"))
            .await;
        on_registry += page["items"].as_array().unwrap().len();
        match page["next_after"].as_str() {
            Some(a) => after = format!("&after={a}"),
            None => break,
        }
    }
    assert_eq!(
        on_registry,
        ids.len(),
        "{label}: duplicates or losses on the registry"
    );
    for (i, id) in ids.iter().enumerate() {
        let history = registry.get(&format!("/v1/individuals/{id}/history")).await;
        let expected = if i % 3 == 0 { 2 } else { 1 };
        assert_eq!(
            history.as_array().unwrap().len(),
            expected,
            "{label}: {id} applied {history}"
        );
        let server = registry.get(&format!("/v1/individuals/{id}")).await;
        assert_eq!(
            common::content(device.body("individual", *id)),
            common::content(server),
            "{label}: device disagrees on {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hostile_network_loses_and_duplicates_nothing() {
    for (backend, database) in common::backends().await {
        let registry = Registry::start(&database).await;
        let (proxy, injected) = fault_proxy(registry.config.listen, 60, seed()).await;
        let device = Device::with_url("amina", &registry, &proxy);
        // Several bursts of offline work, each synced through the faults until it is all sent.
        let mut ids = Vec::new();
        let mut failures = 0;
        let mut done = false;
        for _burst in 0..6 {
            ids.extend(queue_work(&device, 150));
            done = false;
            for _ in 0..200 {
                match device.sync().await {
                    Ok(_) if device.partition.pending_count().unwrap() == 0 => {
                        done = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => failures += 1,
                }
            }
            if !done {
                break;
            }
        }
        assert!(done, "{backend}: sync never completed");
        assert!(
            injected.load(Ordering::SeqCst) >= 12,
            "the proxy injected only {} faults",
            injected.load(Ordering::SeqCst)
        );
        eprintln!(
            "{backend}: {} faults injected, {failures} failed rounds",
            injected.load(Ordering::SeqCst)
        );
        assert_exactly_once(&registry, &device, &ids, backend).await;
        registry.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_registry_restarting_mid_sync_loses_and_duplicates_nothing() {
    for (backend, database) in common::backends().await {
        let mut registry = Registry::start(&database).await;
        let device = Arc::new(Device::new("amina", &registry));
        let ids = queue_work(&device, 900);
        let syncing = {
            let device = device.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    if device.sync().await.is_ok() && device.partition.pending_count().unwrap() == 0
                    {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                false
            })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        registry.restart().await;
        assert!(
            syncing.await.unwrap(),
            "{backend}: sync never completed after the restart"
        );
        assert_exactly_once(&registry, &device, &ids, backend).await;
        registry.stop().await;
    }
}

const ENV_DIR: &str = "DOORSTEP_SYNC_KILL_VAULT";
const ENV_PARTITION: &str = "DOORSTEP_SYNC_KILL_PARTITION";
const ENV_URL: &str = "DOORSTEP_SYNC_KILL_URL";
const ENV_TOKEN: &str = "DOORSTEP_SYNC_KILL_TOKEN";

/// The process that gets killed: syncs the partition over and over.
#[tokio::test]
#[ignore = "helper process for sync_survives_sigkill; not a test on its own"]
async fn sync_kill_child() {
    let (Ok(dir), Ok(id), Ok(url), Ok(token)) = (
        std::env::var(ENV_DIR),
        std::env::var(ENV_PARTITION),
        std::env::var(ENV_URL),
        std::env::var(ENV_TOKEN),
    ) else {
        panic!("started by sync_survives_sigkill");
    };
    let vault = Vault::open(dir.as_ref(), Arc::new(NoKeyStore)).unwrap();
    let partition = vault.unlock_with_passphrase(&id, PASS).unwrap();
    let transport = SyncTransport::new(url::Url::parse(&url).unwrap(), token);
    for _ in 0..1000 {
        let _ = sync_once(&partition, &transport, &|_| {}).await;
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_survives_sigkill() {
    const KILLS: usize = 12;
    let registry = Registry::start(&DatabaseLocation::EmbeddedSqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition(PASS, KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let id = partition.id().to_owned();
    let mut ids = Vec::new();
    for i in 0..1200 {
        let body = individual(&format!("Person{i}"), "Killed");
        let rid: Uuid = body["id"].as_str().unwrap().parse().unwrap();
        partition
            .apply(&Change {
                kind: "individual".into(),
                id: rid,
                op: Op::Create,
                body,
                actor: "agent:amina".into(),
            })
            .unwrap();
        ids.push(rid);
    }
    drop(partition);
    let mut dice = XorShift(seed());
    let exe = std::env::current_exe().unwrap();
    for _ in 0..KILLS {
        let mut child = std::process::Command::new(&exe)
            .args(["--ignored", "--exact", "sync_kill_child", "--nocapture"])
            .env(ENV_DIR, dir.path())
            .env(ENV_PARTITION, &id)
            .env(ENV_URL, registry.url())
            .env(ENV_TOKEN, registry.token("amina"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30 + dice.below(400))).await;
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    // Back in one piece: open, sync to the end, compare.
    let partition = vault.unlock_with_passphrase(&id, PASS).unwrap();
    partition.integrity_check().unwrap();
    let device = Device {
        name: "amina".into(),
        dir: tempfile::tempdir().unwrap(),
        partition: Arc::new(partition),
        transport: SyncTransport::new(
            url::Url::parse(&registry.url()).unwrap(),
            registry.token("amina"),
        ),
    };
    // A round may still meet the registry finishing a killed child's request and answer
    // "retry later" (a 5xx, which the app treats like a lost connection and retries, as the sync
    // service would); anything else fails the test, with its reason.
    let mut last = String::from("no round ran");
    for _ in 0..10 {
        match device.sync().await {
            Ok(_) if device.partition.pending_count().unwrap() == 0 => break,
            Ok(report) => last = format!("{report:?}"),
            Err(doorstep_client::sync::SyncError::Offline(e)) => {
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("amina: sync failed: {e} ({e:?})"),
        }
    }
    let pending = device.partition.pending_count().unwrap();
    assert_eq!(
        pending, 0,
        "changes left unsent after 10 rounds; the last: {last}"
    );
    let staff_list = registry.get("/v1/individuals?limit=1").await;
    assert!(staff_list["items"].is_array());
    // Every create applied once: the registry holds exactly these people.
    let mut after = String::new();
    let mut seen = Vec::new();
    loop {
        let page = registry
            .get(&format!("/v1/individuals?limit=500{after}"))
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
        );
        match page["next_after"].as_str() {
            Some(a) => after = format!("&after={a}"),
            None => break,
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(
        seen, ids,
        "the registry should hold each person exactly once"
    );
    assert_eq!(device.partition.pending_count().unwrap(), 0);
    for id in ids.iter().step_by(97) {
        assert_eq!(
            device
                .partition
                .record("individual", *id)
                .unwrap()
                .unwrap()
                .rev,
            Some(1)
        );
    }
    registry.stop().await;
}
