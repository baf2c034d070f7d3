//! Duplicate check benchmark: `cargo bench -p doorstep-domain --bench duplicates` (also run by
//! `./dev bench`).
//!
//! Prints, for a caseload of 10,000 people (made-up names from syllables, birth dates, IDs and
//! phones; every tenth new person is a near copy of someone in it):
//! - building the caseload's facts once (folding 10,000 names);
//! - one duplicate check of a new person against all of them, p50 and p95 over 200 people
//!   (goal ≤ 100 ms), beside a scan that only compares ID numbers, the least any check does.

use std::hint::black_box;
use std::time::{Duration, Instant};

use doorstep_domain::duplicates::{likely_duplicates, PersonFacts};
use doorstep_domain::{Individual, RecordId};
use serde_json::json;

const CASELOAD: usize = 10_000;
const CHECKS: usize = 200;

const SYLLABLES: [&str; 16] = [
    "a", "ki", "mu", "na", "wa", "ja", "ha", "li", "ro", "se", "tu", "mi", "ko", "ya", "zi", "be",
];

/// A made-up name of 2–3 syllables, the same for the same `n`.
fn name(n: usize) -> String {
    let mut s = String::new();
    let mut x = n.wrapping_mul(2_654_435_761) ^ 0x5bd1e995;
    for _ in 0..(2 + x % 2) {
        s.push_str(SYLLABLES[x % SYLLABLES.len()]);
        x /= SYLLABLES.len();
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn person(n: usize) -> (Individual, Vec<String>) {
    let person: Individual = serde_json::from_value(json!({
        "id": uuid::Uuid::from_u128(n as u128 + 1).to_string(),
        "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
        "created_by": "agent:bench", "rev": 1,
        "given_name": name(n), "family_name": name(n * 7 + 3),
        "birthdate": format!("{}-{:02}-{:02}", 1950 + n % 60, 1 + n % 12, 1 + n % 28),
        "reg_ids": [{"id_type": "national_id", "value": format!("{:08}", n * 37 % 100_000_000)}],
    }))
    .expect("a valid individual");
    (person, vec![format!("+2547{:08}", n)])
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (caseload, checks) = if quick { (500, 5) } else { (CASELOAD, CHECKS) };

    let people: Vec<(Individual, Vec<String>)> = (0..caseload).map(person).collect();
    let start = Instant::now();
    let facts: Vec<(RecordId, PersonFacts)> = people
        .iter()
        .map(|(p, phones)| (p.meta.id, PersonFacts::new(p, phones)))
        .collect();
    let build = start.elapsed();

    let mut check_times = Vec::with_capacity(checks);
    let mut scan_times = Vec::with_capacity(checks);
    let mut found = 0;
    for i in 0..checks {
        // Every tenth new person is someone already there, typed a little differently.
        let (mut new, phones) = person(caseload + i);
        if i % 10 == 0 {
            let (existing, _) = &people[i * 37 % caseload];
            new.given_name = existing.given_name.to_lowercase();
            new.family_name = existing.family_name.clone();
            new.birthdate = existing.birthdate;
        }
        let t = Instant::now();
        let new_facts = PersonFacts::new(&new, &phones);
        let matches = likely_duplicates(&new_facts, facts.iter().map(|(id, f)| (*id, f)));
        check_times.push(t.elapsed());
        found += black_box(matches).len();

        let number = &new.reg_ids[0].value;
        let t = Instant::now();
        let hits = people
            .iter()
            .filter(|(p, _)| p.reg_ids.iter().any(|r| &r.value == number))
            .count();
        scan_times.push(t.elapsed());
        black_box(hits);
    }
    check_times.sort();
    scan_times.sort();
    let (p50, p95) = (
        percentile(&check_times, 0.5),
        percentile(&check_times, 0.95),
    );
    let scan = percentile(&scan_times, 0.5);
    println!("\nDuplicate check: one new person against a caseload of {caseload} ({checks} checks, {found} likely duplicates found)");
    println!("| measure | figure |");
    println!("|---|---:|");
    println!(
        "| caseload facts built once (names folded) | {:.1} ms |",
        build.as_secs_f64() * 1000.0
    );
    println!("| one check, p50 | {p50:.2} ms |");
    println!("| one check, p95 (goal ≤ 100 ms) | {p95:.2} ms |");
    println!(
        "| ID-number-only scan of the same people, p50 | {scan:.2} ms (the full check takes {:.1}× as long) |",
        p50 / scan.max(1e-6)
    );
}
