//! Realistic demo households: people with names, birth dates and national IDs, households with
//! one head, phone numbers, mobile-money accounts, and applications at every stage of review.
//!
//! Generated from a seed, so the same seed gives the same records (and the same ids): loading
//! twice adds nothing the second time. Every record goes through the same parsing, validation and
//! indexing as an API write, so demo data can never be something the API would refuse.

use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::resources;
use crate::storage::{CommitError, Expect, RecordIndex, StorageError, Store, Write, WriteContext};

use super::DEMO_ACTOR;

const GIVEN_FEMALE: &[&str] = &[
    "Amina",
    "Wanjiru",
    "Akinyi",
    "Fatuma",
    "Aïssatou",
    "Mariam",
    "Nadia",
    "Grace",
    "Chebet",
    "Halima",
];
const GIVEN_MALE: &[&str] = &[
    "Juma", "Otieno", "Kamau", "Mamadou", "Youssef", "Baraka", "Kiprono", "Omar", "Samuel",
    "Ibrahim",
];
const FAMILY: &[&str] = &[
    "Odhiambo", "Mwangi", "Njoroge", "Diallo", "Haddad", "Ochieng", "Kariuki", "Traoré", "Wekesa",
    "Mutua",
];
const OCCUPATIONS: &[&str] = &[
    "farmer",
    "trader",
    "teacher",
    "fisher",
    "tailor",
    "casual labourer",
    "student",
];
/// How many households `serve --demo` and `demo-data` make unless told otherwise.
pub const DEFAULT_HOUSEHOLDS: usize = 40;
/// The seed they are made from unless told otherwise.
pub const DEFAULT_SEED: u64 = 2026;
/// Admin areas the demo households live in: two counties, each with two wards.
pub const DEMO_AREAS: &[&str] = &["KE.30.1", "KE.30.2", "KE.31.1", "KE.31.2"];

/// Deterministic pseudo-random numbers (SplitMix64): demo data must not need a `rand` crate.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    /// A UUIDv7 from the dice: fixed 2025 timestamp plus a counter, so ids sort in creation order.
    fn id(&mut self, counter: &mut u64) -> Uuid {
        *counter += 1;
        let random = self.next().to_be_bytes();
        let bytes: [u8; 10] = [
            random[0], random[1], random[2], random[3], random[4], random[5], random[6], random[7],
            0, 0,
        ];
        uuid::Builder::from_unix_timestamp_millis(1_735_689_600_000 + *counter, &bytes).into_uuid()
    }
}

/// What [`load`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdSummary {
    pub households_added: u64,
    pub households_present: u64,
    pub records_written: u64,
    /// Whether the demo gazetteer was seeded (the registry had none).
    pub areas_seeded: bool,
}

/// The records of `count` households, each as one batch (a household is written atomically).
pub fn generate(
    count: usize,
    seed: u64,
    programmes: &[Uuid],
) -> Vec<Vec<(RecordKind, Value, Option<&'static str>)>> {
    let mut dice = Dice(seed);
    let mut counter = 0_u64;
    let stamp = "2025-01-01T08:00:00Z";
    let meta = |id: Uuid| json!({"id": id.to_string(), "created_at": stamp, "updated_at": stamp, "created_by": DEMO_ACTOR});
    let with = |mut base: Value, extra: Value| {
        for (k, v) in extra.as_object().expect("object") {
            base[k] = v.clone();
        }
        base
    };
    (0..count)
        .map(|h| {
            let area = DEMO_AREAS[h % DEMO_AREAS.len()];
            let family = dice.pick(FAMILY);
            let mut batch = Vec::new();
            let group = dice.id(&mut counter);
            let address = json!({"country": "KE", "admin_areas": super::areas::chain_of(area)});
            batch.push((RecordKind::Group, with(meta(group), json!({"name": format!("{family} household"), "kind": "household", "address": address})), Some(area)));
            let size = 1 + dice.below(6);
            let mut head = None;
            for m in 0..size {
                let person = dice.id(&mut counter);
                let female = dice.below(2) == 0;
                let given = if female { dice.pick(GIVEN_FEMALE) } else { dice.pick(GIVEN_MALE) };
                let adult = m < 2;
                let year = if adult { 1950 + dice.below(50) } else { 2008 + dice.below(17) };
                let national = format!("{:08}", 10_000_000 + (seed.wrapping_mul(7919) as usize + h * 10 + m) % 89_999_999);
                let reg_ids = if adult { json!([{"id_type": "national_id", "value": national}]) } else { json!([]) };
                batch.push((RecordKind::Individual, with(meta(person), json!({
                    "given_name": given, "family_name": family,
                    "birthdate": format!("{year}-{:02}-{:02}", 1 + dice.below(12), 1 + dice.below(28)),
                    "gender": if female { "female" } else { "male" },
                    "occupation": if adult { Some(dice.pick(OCCUPATIONS)) } else { None },
                    "reg_ids": reg_ids,
                })), Some(area)));
                let kind = match m {
                    0 => "head",
                    1 => "spouse",
                    _ => "child",
                };
                batch.push((RecordKind::Membership, with(meta(dice.id(&mut counter)), json!({
                    "group_id": group.to_string(), "individual_id": person.to_string(), "kind": kind, "start_date": "2020-01-01"
                })), None));
                if adult {
                    let phone = format!("+2547{:08}", dice.below(100_000_000));
                    batch.push((RecordKind::Contact, with(meta(dice.id(&mut counter)), json!({
                        "registrant_id": person.to_string(),
                        "phones": [{"id": dice.id(&mut counter).to_string(), "number_e164": phone, "kind": "mobile"}],
                    })), None));
                    if m == 0 {
                        head = Some(person);
                        batch.push((RecordKind::FinancialAccount, with(meta(dice.id(&mut counter)), json!({
                            "registrant_id": person.to_string(), "kind": "mobile_wallet", "provider_code": "mpesa",
                            "account_number": phone, "holder_name": format!("{given} {family}"), "preferred_for_payments": true
                        })), None));
                    }
                }
            }
            if let (Some(head), false) = (head, programmes.is_empty()) {
                let programme = programmes[dice.below(programmes.len())];
                batch.push((RecordKind::Application, with(meta(dice.id(&mut counter)), json!({
                    "programme_id": programme.to_string(), "applicant_id": head.to_string(), "form_version": 1,
                    "data": super::answers_for(programme), "status": "draft",
                })), None));
            }
            batch
        })
        .collect()
}

/// Write `count` demo households (skipping those already there), after the demo gazetteer their
/// addresses name (unless the registry has a gazetteer of its own).
pub async fn load(
    store: &dyn Store,
    count: usize,
    seed: u64,
    programmes: &[Uuid],
) -> Result<HouseholdSummary, StorageError> {
    let mut summary = HouseholdSummary {
        areas_seeded: super::areas::load(store).await?,
        ..HouseholdSummary::default()
    };
    let ctx = WriteContext {
        at: OffsetDateTime::now_utc(),
        ..WriteContext::by(DEMO_ACTOR)
    };
    for household in generate(count, seed, programmes) {
        let mut writes: Vec<Write> = Vec::with_capacity(household.len());
        for (kind, body, area) in household {
            let (typed, body) = resources::parse(kind, body)
                .unwrap_or_else(|e| panic!("generated demo {kind} is invalid: {e:?}"));
            // References point at records earlier in the same batch (or at programmes).
            let referenced: Vec<RecordIndex> = typed
                .references()
                .iter()
                .map(|r| {
                    writes
                        .iter()
                        .find(|w| w.id == r.id)
                        .map(|w| w.index.clone())
                        .unwrap_or_default()
                })
                .collect();
            let mut index = typed.index(&referenced, area.map(str::to_owned));
            index.creator = DEMO_ACTOR.into();
            // The demo programmes take one application per person (`allow_multiple_applications`
            // is never set in demo/programmes.json), so each demo application holds its place.
            if let resources::Typed::Application(application) = &typed {
                index
                    .keys
                    .push(crate::api::programme_rules::application_key(application));
            }
            writes.push(Write {
                kind,
                id: typed.id(),
                expect: Expect::Absent,
                body,
                index,
                deleted: false,
                duplicate_check: None,
                outbound: Vec::new(),
            });
        }
        let n = writes.len() as u64;
        match store.commit(writes, &ctx).await {
            Ok(_) => {
                summary.households_added += 1;
                summary.records_written += n;
            }
            Err(CommitError::Exists { .. } | CommitError::Duplicate { .. }) => {
                summary.households_present += 1
            }
            Err(CommitError::Storage(e)) => return Err(e),
            Err(other) => panic!("demo household refused: {other}"),
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_households() {
        let p = [Uuid::now_v7()];
        assert_eq!(generate(5, 42, &p), generate(5, 42, &p));
        assert_ne!(generate(5, 42, &p), generate(5, 43, &p));
    }

    #[test]
    fn every_generated_record_is_valid() {
        for household in generate(60, 7, &[Uuid::now_v7()]) {
            assert_eq!(
                household
                    .iter()
                    .filter(|(k, b, _)| *k == RecordKind::Membership && b["kind"] == "head")
                    .count(),
                1
            );
            for (kind, body, _) in household {
                if let Err(e) = resources::parse(kind, body.clone()) {
                    panic!("{kind} {body}: {e:?}");
                }
            }
        }
    }

    #[tokio::test]
    async fn loading_twice_adds_nothing_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::storage::sqlite::SqliteStore::open(dir.path())
            .await
            .unwrap();
        let first = load(&store, 8, 1, &[]).await.unwrap();
        assert_eq!(first.households_added, 8);
        let head = store.head_seq().await.unwrap();
        let second = load(&store, 8, 1, &[]).await.unwrap();
        assert_eq!((second.households_added, second.households_present), (0, 8));
        assert_eq!(store.head_seq().await.unwrap(), head);
    }
}
