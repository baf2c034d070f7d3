//! Vault benchmark: `cargo bench -p doorstep-client --bench vault` (also run by `./dev bench`).
//!
//! Prints:
//! 1. 10,000 individuals, each with a contact record, inserted in one transaction and read back:
//!    SQLCipher vault vs the same code and schema on plain SQLite, and the overhead ratio
//!    (goal ≤ 1.15×). Median of RUNS runs each, alternating.
//! 2. A 100 MB document stored and read back: MB/s each way and peak RSS growth (goal < 32 MB).
//! 3. Draft autosave latency: one durable (fsynced) save of a filled-in form, as the UI makes
//!    while a person types; it must stay far below the one-second autosave promise.
//! 4. Vault open time with the key from the OS keyring and from the passphrase (Argon2id at the
//!    parameters the app uses), median of RUNS.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_client::vault::{
    Change, KdfParams, NewDocument, NoKeyStore, Op, OsKeyring, Partition, Vault,
};
use serde_json::json;
use uuid::Uuid;

const PEOPLE: usize = 10_000;
const RUNS: usize = 5;
const DOC_BYTES: u64 = 100 * 1000 * 1000;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let people = if quick { 500 } else { PEOPLE };
    println!(
        "Doorstep vault benchmark ({} run(s) each{})",
        runs,
        if quick { ", quick mode" } else { "" }
    );

    // The document first, while the process's memory is still small and its peak means something.
    if !quick {
        document_round_trip();
    }
    insert_and_read(people, runs);
    draft_saves(if quick { 20 } else { 200 });
    open_times(
        runs,
        if quick {
            KdfParams::FAST_INSECURE_FOR_TESTS
        } else {
            KdfParams::RECOMMENDED
        },
    );
}

fn changes(people: usize) -> Vec<Change> {
    let mut out = Vec::with_capacity(people * 2);
    for n in 0..people {
        let person = Uuid::now_v7();
        out.push(Change {
            kind: "individual".into(),
            id: person,
            op: Op::Create,
            body: json!({
                "given_name": format!("Given{n}"), "family_name": format!("Family{}", n % 997),
                "birthdate": "1990-04-13", "gender": if n % 2 == 0 { "female" } else { "male" },
                "civil_status": "married", "occupation": "farmer", "preferred_language": "sw",
                "ids": [{ "id_type": "national_id", "value": format!("{:09}", n), "status": "active" }],
            }),
            actor: "bench".into(),
        });
        out.push(Change {
            kind: "contact".into(),
            id: Uuid::now_v7(),
            op: Op::Create,
            body: json!({
                "individual_id": person,
                "phones": [{ "number_e164": format!("+2547{:08}", n), "kind": "mobile" }],
                "emails": [format!("person{n}@example.org")],
                "address": { "locality": "Kisumu", "admin_levels": [{"level": 1, "name": "Kisumu County"}], "country": "KE" },
                "preferred_channel": "sms",
            }),
            actor: "bench".into(),
        });
    }
    out
}

fn time_partition(p: &Partition, batch: &[Change]) -> Duration {
    let t = Instant::now();
    p.apply_batch(batch).unwrap();
    let individuals = p.records("individual").unwrap();
    let contacts = p.records("contact").unwrap();
    let elapsed = t.elapsed();
    assert_eq!(individuals.len() + contacts.len(), batch.len());
    elapsed
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn insert_and_read(people: usize, runs: usize) {
    let (mut enc, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let batch = changes(people);
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
        let (p, _) = vault
            .create_partition("bench-passphrase", KdfParams::FAST_INSECURE_FOR_TESTS)
            .unwrap();
        enc.push(time_partition(&p, &batch));

        let dir = tempfile::tempdir().unwrap();
        let p = Partition::open_unencrypted_for_benchmark(dir.path()).unwrap();
        plain.push(time_partition(&p, &batch));
    }
    let (e, p) = (median(enc), median(plain));
    println!();
    println!("| {people} individuals + contacts, one transaction, then read back | time (ms) |");
    println!("|---|---:|");
    println!("| plain SQLite (baseline) | {:.0} |", p.as_secs_f64() * 1e3);
    println!("| SQLCipher vault | {:.0} |", e.as_secs_f64() * 1e3);
    println!(
        "| overhead ratio (goal <= 1.15x) | {:.2}x |",
        e.as_secs_f64() / p.as_secs_f64()
    );
}

/// Pseudo-random bytes made on the fly, so the source holds no 100 MB buffer of its own.
struct Generated {
    left: u64,
    state: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state = self
                .state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.state >> 33) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Peak resident set size of this process, KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident set size now, KiB (VmRSS).
fn current_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Reset the peak RSS counter to the current RSS (Linux: write 5 to clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn document_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (p, _) = vault
        .create_partition("bench-passphrase", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    reset_peak_rss();
    let base = current_rss_kib();
    let reset_worked = peak_rss_kib() <= base + 1024;
    let t = Instant::now();
    let info = p
        .store_document(
            &NewDocument {
                kind: "other".into(),
                file_name: "big.bin".into(),
                record_id: None,
                actor: "bench".into(),
                consent: None,
            },
            Generated {
                left: DOC_BYTES,
                state: 7,
            },
        )
        .unwrap();
    let write = t.elapsed();
    let t = Instant::now();
    let mut reader = p.open_document(info.id).unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let read = t.elapsed();
    let growth_mb = peak_rss_kib().saturating_sub(base) as f64 / 1024.0;
    assert_eq!(total, DOC_BYTES);
    let mb = DOC_BYTES as f64 / 1e6;
    println!();
    println!("| 100 MB document | value |");
    println!("|---|---:|");
    println!(
        "| store (encrypt + fsync), MB/s | {:.0} |",
        mb / write.as_secs_f64()
    );
    println!(
        "| read back (decrypt + verify), MB/s | {:.0} |",
        mb / read.as_secs_f64()
    );
    if reset_worked {
        println!("| peak RSS growth, MB (goal < 32) | {growth_mb:.1} |");
    } else {
        println!("| peak RSS growth, MB (goal < 32) | upper bound {growth_mb:.1} (this kernel cannot reset the peak counter) |");
    }
}

fn draft_saves(saves: usize) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (p, _) = vault
        .create_partition("bench-passphrase", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let mut times = Vec::with_capacity(saves);
    for n in 0..saves {
        // About 5 KB: a long programme form, partly filled.
        let data = json!({ "answers": (0..60).map(|i| format!("answer {i} after keystroke {n}: {}", "x".repeat(60))).collect::<Vec<_>>() });
        let t = Instant::now();
        p.save_draft("form:child-benefit:v1", &data).unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!("| draft autosave, {saves} saves of ~5 KB (synchronous=FULL) | ms |");
    println!("|---|---:|");
    println!("| median | {:.2} |", ms(times[saves / 2]));
    println!(
        "| 99th percentile | {:.2} |",
        ms(times[(saves * 99 / 100).min(saves - 1)])
    );
    println!("| slowest | {:.2} |", ms(times[saves - 1]));
}

fn open_times(runs: usize, kdf: KdfParams) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = OsKeyring::new()
        .ok()
        .filter(|_| std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some());
    let store: Arc<dyn doorstep_client::vault::KeyStore> = match &keyring {
        Some(_) => Arc::new(OsKeyring::new().unwrap()),
        None => Arc::new(NoKeyStore),
    };
    let vault = Vault::open(dir.path(), store).unwrap();
    let (p, outcome) = vault.create_partition("bench-passphrase", kdf).unwrap();
    let id = p.id().to_owned();
    drop(p);
    let mut by_pass = Vec::new();
    let mut by_keyring = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        drop(
            vault
                .unlock_with_passphrase(&id, "bench-passphrase")
                .unwrap(),
        );
        by_pass.push(t.elapsed());
        if outcome == doorstep_client::vault::KeyringOutcome::Stored {
            let t = Instant::now();
            drop(vault.unlock_with_keystore(&id).unwrap());
            by_keyring.push(t.elapsed());
        }
    }
    println!();
    println!("| vault open (median) | ms |");
    println!("|---|---:|");
    if by_keyring.is_empty() {
        println!("| key from the OS keyring | n/a (no Secret Service in this session) |");
    } else {
        println!(
            "| key from the OS keyring (Secret Service) | {:.1} |",
            median(by_keyring).as_secs_f64() * 1e3
        );
    }
    println!(
        "| key from the passphrase (Argon2id m={} MiB, t={}, p={}) | {:.1} |",
        kdf.m_cost_kib / 1024,
        kdf.t_cost,
        kdf.p_cost,
        median(by_pass).as_secs_f64() * 1e3
    );
    let _ = vault.wipe(&id);
}
