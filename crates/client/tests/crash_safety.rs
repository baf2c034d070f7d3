//! Crash safety: a writer process is killed with SIGKILL at random moments, over and over; after
//! each kill the vault must open, pass SQLite's integrity check, contain every write the writer
//! had acknowledged, and have an outbox that matches the data.
//!
//! The writer is this same test binary, re-run with `--ignored --exact crash_writer`.

#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use doorstep_client::vault::{Change, KdfParams, NoKeyStore, Op, Vault};
use serde_json::json;
use uuid::Uuid;

const ITERATIONS: usize = 200;
/// The whole test stops by itself even if something hangs.
const TIME_BUDGET: Duration = Duration::from_secs(300);
const PASS: &str = "crash-test-pass";
const ENV_DIR: &str = "DOORSTEP_CRASH_VAULT";
const ENV_PARTITION: &str = "DOORSTEP_CRASH_PARTITION";

/// The writer: apply changes as fast as possible, printing `ACK <id>` after each commit.
#[test]
#[ignore = "helper process for crash_safety_under_sigkill; not a test on its own"]
fn crash_writer() {
    let (Ok(dir), Ok(partition)) = (std::env::var(ENV_DIR), std::env::var(ENV_PARTITION)) else {
        panic!("crash_writer is started by crash_safety_under_sigkill");
    };
    let vault = Vault::open(dir.as_ref(), Arc::new(NoKeyStore)).unwrap();
    let p = vault.unlock_with_passphrase(&partition, PASS).unwrap();
    let stdout = std::io::stdout();
    for n in 0..5_000u32 {
        let change = Change {
            kind: "individual".into(),
            id: Uuid::now_v7(),
            op: Op::Create,
            body: json!({ "given_name": format!("Person {n}"), "notes": "x".repeat((n % 7) as usize * 500) }),
            actor: "crash-writer".into(),
        };
        p.apply(&change).unwrap();
        if n % 5 == 0 {
            p.save_draft("form", &json!({ "n": n })).unwrap();
        }
        use std::io::Write;
        let mut out = stdout.lock();
        writeln!(out, "ACK {}", change.id).unwrap();
        out.flush().unwrap();
    }
}

/// A small deterministic generator for kill delays; the seed is printed to reproduce a failure.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn crash_safety_under_sigkill() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (p, _) = vault
        .create_partition(PASS, KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let partition = p.id().to_owned();
    drop(p);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = XorShift(seed);
    let mut acknowledged: HashSet<Uuid> = HashSet::new();
    let exe = std::env::current_exe().unwrap();

    for iteration in 0..ITERATIONS {
        assert!(
            started.elapsed() < TIME_BUDGET,
            "time budget spent after {iteration} iterations"
        );
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_DIR, dir.path())
            .env(ENV_PARTITION, &partition)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix("ACK ") {
                    let _ = tx.send(id.parse::<Uuid>().unwrap());
                }
            }
        });
        // Kill at a random moment: sometimes before the first write, mostly mid-stream.
        let delay = Duration::from_millis(rng.next() % 120);
        if !rng.next().is_multiple_of(4) {
            let _ = rx.recv_timeout(Duration::from_secs(20)); // wait for the first ACK
        }
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acknowledged.extend(rx.try_iter());

        let p = vault
            .unlock_with_passphrase(&partition, PASS)
            .unwrap_or_else(|e| panic!("iteration {iteration}: vault does not open: {e}"));
        p.integrity_check()
            .unwrap_or_else(|e| panic!("iteration {iteration}: {e}"));
        let stored: HashSet<Uuid> = p
            .records("individual")
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "iteration {iteration}: acknowledged writes lost: {lost:?}"
        );
        let queued: HashSet<Uuid> = p
            .outbox()
            .unwrap()
            .into_iter()
            .map(|e| e.record_id)
            .collect();
        assert_eq!(
            queued, stored,
            "iteration {iteration}: outbox and records disagree"
        );
        assert_eq!(
            p.verify_audit_log().unwrap().entries as usize,
            stored.len(),
            "iteration {iteration}: audit log"
        );
    }
    eprintln!(
        "{ITERATIONS} kills survived, {} acknowledged writes all present, in {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    assert!(
        acknowledged.len() > ITERATIONS,
        "the writer barely wrote anything; the test proved little"
    );
}
