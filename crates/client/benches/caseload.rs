//! Caseload benchmark: `cargo bench -p doorstep-client --bench caseload` (also run by
//! `./dev bench`).
//!
//! An agent's laptop with 10,000 people (each with a contact record holding a phone number) in
//! the encrypted vault. Prints, as p50 / p95 over QUERIES searches of each kind (goal: p95 ≤ 50 ms):
//! name prefix, a name spelled differently (fuzzy), ID number, phone number; then the duplicate
//! check of one new person against the 10,000 (goal: p95 ≤ 100 ms). Beside them, the baseline
//! measured in the same run: reading the people's records out of the vault once, which is what
//! every keystroke cost before the index (and a floor for any search that reads the vault), and
//! what building the index costs (once, then again only after a record is written).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_client::app::{Caseload, MAX_PEOPLE};
use doorstep_client::vault::{Change, KdfParams, NoKeyStore, Op, Vault};
use doorstep_domain::duplicates::PersonFacts;
use doorstep_domain::Individual;
use serde_json::json;
use uuid::Uuid;

const PEOPLE: usize = 10_000;
const QUERIES: usize = 200;
const RUNS: usize = 5;

const GIVEN: &[&str] = &[
    "Wanjiru", "Achieng", "Mohammed", "Amina", "Baraka", "Njeri", "Otieno", "Fatuma", "Kipchoge",
    "Zawadi", "Ngũgĩ", "Aïcha", "Joseph", "Grace", "Hassan", "Mercy", "Brian", "Faith", "Ali",
    "Chebet",
];
const FAMILY: &[&str] = &[
    "Kamau", "Odhiambo", "Mwangi", "Hassan", "Wekesa", "Njoroge", "Omondi", "Mutua", "Kiprono",
    "Wanyama", "Abdi", "Nyambura", "Ouma", "Chege", "Koech", "Mohamed", "Barasa", "Atieno",
    "Kariuki", "Langat",
];

/// A deterministic spread of names, birth dates, ID numbers and phones.
fn person(n: usize) -> (serde_json::Value, serde_json::Value) {
    let id = Uuid::now_v7();
    let given = GIVEN[n % GIVEN.len()];
    let second = GIVEN[(n / GIVEN.len()) % GIVEN.len()];
    let family = FAMILY[(n / 7) % FAMILY.len()];
    let born = format!("19{:02}-{:02}-{:02}", 40 + n % 60, 1 + n % 12, 1 + n % 28);
    let individual = json!({
        "id": id, "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
        "created_by": "agent:bench", "rev": 1,
        "given_name": format!("{given} {second}"), "family_name": family, "birthdate": born,
        "reg_ids": [{"id_type": "national_id", "value": format!("{:08}", 20_000_000 + n * 37)}],
    });
    let contact = json!({
        "id": Uuid::now_v7(), "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z", "created_by": "agent:bench", "rev": 1,
        "registrant_id": id,
        "phones": [{"id": Uuid::now_v7(), "number_e164": format!("+2547{:08}", 10_000_000 + n * 7919 % 89_999_999)}],
    });
    (individual, contact)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (people, queries, runs) = if quick {
        (500, 10, 1)
    } else {
        (PEOPLE, QUERIES, RUNS)
    };
    println!(
        "Doorstep caseload benchmark: {people} people in the encrypted vault{}",
        if quick { " (quick mode)" } else { "" }
    );

    let dir = tempfile::tempdir().expect("a temporary folder");
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).expect("the vault opens");
    let (partition, _) = vault
        .create_partition("bench-passphrase", KdfParams::FAST_INSECURE_FOR_TESTS)
        .expect("a partition");
    let mut changes = Vec::with_capacity(people * 2);
    for n in 0..people {
        let (individual, contact) = person(n);
        for (kind, body) in [("individual", individual), ("contact", contact)] {
            changes.push(Change {
                kind: kind.into(),
                id: body["id"].as_str().unwrap().parse().unwrap(),
                op: Op::Create,
                body,
                actor: "agent:bench".into(),
            });
        }
    }
    partition
        .apply_batch(&changes)
        .expect("the caseload is stored");

    let scan = median(runs, || {
        let start = Instant::now();
        let rows = partition.records("individual").expect("records read");
        assert_eq!(rows.len(), people);
        start.elapsed()
    });
    let build = median(runs, || {
        let start = Instant::now();
        let index = Caseload::build(&partition).expect("the index builds");
        assert_eq!(index.len(), people);
        start.elapsed()
    });
    println!(
        "  baseline: reading the {people} people out of the vault once: {} (what each keystroke cost before the index)",
        ms(scan)
    );
    println!(
        "  building the index (at first use, then after a record is written): {} ({:.1}× the read)",
        ms(build),
        build.as_secs_f64() / scan.as_secs_f64()
    );

    let index = Caseload::build(&partition).expect("the index builds");
    let none = HashSet::new();
    let mut worst_p95 = Duration::ZERO;
    // Each kind of search: its label, and the query it types for the i-th try.
    type MakeQuery = Box<dyn Fn(usize) -> String>;
    let kinds: [(&str, MakeQuery); 4] = [
        (
            "name prefix",
            Box::new(|i| {
                GIVEN[i % GIVEN.len()]
                    .chars()
                    .take(3)
                    .collect::<String>()
                    .to_lowercase()
            }),
        ),
        (
            "name spelled differently",
            Box::new(|i| {
                // One letter doubled or dropped, and the accents left out.
                let name = FAMILY[i % FAMILY.len()].to_lowercase();
                if i % 2 == 0 {
                    format!("{}{}", &name[..2], &name[1..])
                } else {
                    format!("{}{}", &name[..2], &name[3..])
                }
            }),
        ),
        (
            "ID number",
            Box::new(move |i| {
                format!("{:08}", 20_000_000 + (i * 131 % people) * 37)[..6].to_owned()
            }),
        ),
        (
            "phone number",
            Box::new(move |i| {
                let n = i * 131 % people;
                format!("07{:08}", 10_000_000 + n * 7919 % 89_999_999)[..7].to_owned()
            }),
        ),
    ];
    for (label, make) in kinds.iter() {
        let mut found_any = false;
        let times = timed(queries, |i| {
            let found = index.search(&make(i), false, &none, MAX_PEOPLE);
            found_any |= !found.is_empty();
        });
        assert!(found_any, "{label}: the queries find people");
        let (p50, p95) = percentiles(times);
        worst_p95 = worst_p95.max(p95);
        println!(
            "  search by {label}: p50 {} · p95 {} (goal ≤ 50 ms; {:.2}× the baseline read)",
            ms(p50),
            ms(p95),
            p95.as_secs_f64() / scan.as_secs_f64()
        );
    }

    let newcomers: Vec<Individual> = (0..queries)
        .map(|i| serde_json::from_value(person(i * 97 % people).0).expect("a person"))
        .collect();
    let mut found = 0;
    let times = timed(queries, |i| {
        let facts = PersonFacts::new(&newcomers[i], ["+254700000000"]);
        found += index.likely_duplicates(&facts, &[]).len();
    });
    assert!(found > 0, "the check finds the people it was given again");
    let (p50, p95) = percentiles(times);
    println!(
        "  duplicate check of one new person against {people}: p50 {} · p95 {} (goal ≤ 100 ms)",
        ms(p50),
        ms(p95)
    );
    println!(
        "  verdict: search p95 {} ({}), duplicate check p95 {} ({})",
        ms(worst_p95),
        if worst_p95 <= Duration::from_millis(50) {
            "meets the goal"
        } else {
            "MISSES the goal"
        },
        ms(p95),
        if p95 <= Duration::from_millis(100) {
            "meets the goal"
        } else {
            "MISSES the goal"
        },
    );
}

fn timed(n: usize, mut f: impl FnMut(usize)) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect()
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.50), at(0.95))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
