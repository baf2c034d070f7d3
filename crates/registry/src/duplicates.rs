//! The registry's side of the duplicate check (issue 16): when an individual is registered (or
//! their names, birth date, IDs or "not a duplicate of" answers change), the registry runs the
//! domain's check ([`doorstep_domain::duplicates`]) against everyone already registered, in every
//! area, so it catches what the agent's laptop could not see (another agent registered the same
//! person yesterday, elsewhere). What it finds is flagged for staff (`duplicate_flags`, written
//! with the record: [`crate::storage::Write::duplicate_check`]) and told to whoever saved the
//! record as a notice; it never refuses the write.
//!
//! # Finding candidates without reading everyone
//! A registry may hold millions of people, so candidates come only from index lookups
//! (`record_keys`), each bounded, never from a scan. The check says two people are likely one
//! when they hold the same ID, or when their names are alike *and* a birth date or a phone
//! agrees; the keys follow that:
//! - `dup:id:<type>:<NUMBER>`: each ID with its number folded as the check folds it (letters and
//!   digits, upper case), so "12-345 678" finds "12345678";
//! - `phone:<e164>` on contact records (already there for search): the people whose contact
//!   holds one of the person's phones. Only known once the person has a contact record, which a
//!   device sends after the individual: a registration's first check has no phones, a later
//!   change of the person's names or IDs checks them;
//! - birth dates **paired with a name block**, the first two letters of a word of the folded
//!   name (`amina hassan` → `am`, `ha`). A birth date alone is a poor key: a day holds about one
//!   person in 30,000, and conventional dates (1 January, or 1 July for "born around 1987")
//!   hold far more, so the bucket would be cut by the cap before the person sought. A like name
//!   is required anyway, and two names alike enough (Jaro-Winkler ≥ 0.9 on sorted words) all
//!   but always share a word's first two letters ("Mohamed"/"Mohammed", "Ngũgĩ"/"Ngugi").
//!   - `dup:born:<date>:<block>`: an exact birth date;
//!   - `dup:year:<yyyy>:<block>`: any birth date (exact or estimated) by year;
//!   - `dup:year~:<yyyy>:<block>`: an estimated birth date by year.
//!
//!   A person born on an exact date looks up that date (exact dates), and estimates in that
//!   year and the years either side (an estimate agrees within a year); a person whose birth
//!   date is an estimate looks up everyone in those three years. Estimates are not indexed
//!   under their exact date: the date of an estimate is a convention, not a fact.
//!
//! Each kind of lookup reads at most [`BY_ID`], [`BY_PHONE`] and [`BY_BIRTH`] index rows, so one
//! check reads at most [`MAX_CANDIDATES`] candidate records whatever the registry's size.
//! Records written before these keys existed are found once they are next written.
//!
//! # What the caller is told
//! Candidates come from every area, but an agent sees only their own: the notice names each
//! match by id with its score and reasons (which say *what* agrees, never the value), so it
//! shows nothing of a person the agent may not open. Citizens are not told (it would let anyone
//! probe who is registered); their registrations are flagged for staff all the same.
//!
//! A check sees what was committed when it ran (inside a sync push's batch, also the batch's
//! own writes): two registrations of one person committed at the same instant by two REST
//! calls may miss each other.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_domain::duplicates::{fold_id, fold_name, likely_duplicates, Match, PersonFacts};
use doorstep_domain::{Contact, Individual, RecordId, RecordKind};
use time::Date;
use uuid::Uuid;

use crate::access::Caller;
use crate::auth::Role;
use crate::storage::{KeyLookup, ListQuery, StorageError, Store, Visibility, Write};

/// Index rows read for the same-ID lookup (one person per ID is the rule; a few more cover the
/// same number typed differently).
pub const BY_ID: u32 = 20;
/// Index rows read for the same-phone lookup (a phone shared by a household or a village
/// kiosk).
pub const BY_PHONE: u32 = 50;
/// Index rows read for the birth-date-and-name lookup.
pub const BY_BIRTH: u32 = 200;
/// Most candidate records one check reads.
pub const MAX_CANDIDATES: u32 = BY_ID + BY_PHONE + BY_BIRTH;
/// Most matches kept (flagged and told), best first: a person answers a handful, and each
/// answer is kept in `not_duplicate_of`, which holds at most this many.
pub const MAX_MATCHES: usize = doorstep_domain::individual::MAX_NOT_DUPLICATE_OF;
/// Most name blocks per person (a name of many words would otherwise give many keys).
const MAX_BLOCKS: usize = 6;
/// A person's contact records read for their phones.
const MAX_CONTACTS: u32 = 20;

/// The keys an individual is indexed under so that the check finds them (see the module docs).
pub fn index_keys(person: &Individual) -> Vec<String> {
    let mut keys: Vec<String> = id_keys(person);
    if let Some(born) = person.birthdate {
        let year = born.year();
        for block in blocks(person) {
            keys.push(year_key("dup:year", year, &block));
            if person.birthdate_not_exact {
                keys.push(year_key("dup:year~", year, &block));
            } else {
                keys.push(format!("dup:born:{}:{block}", date(born)));
            }
        }
    }
    keys
}

/// The keys to look up for people born when `person` was (see the module docs).
fn birth_lookups(person: &Individual) -> Vec<String> {
    let Some(born) = person.birthdate else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for block in blocks(person) {
        for year in born.year() - 1..=born.year() + 1 {
            let prefix = match person.birthdate_not_exact {
                true => "dup:year",
                false => "dup:year~",
            };
            keys.push(year_key(prefix, year, &block));
        }
        if !person.birthdate_not_exact {
            keys.push(format!("dup:born:{}:{block}", date(born)));
        }
    }
    keys
}

fn id_keys(person: &Individual) -> Vec<String> {
    person
        .reg_ids
        .iter()
        .map(|id| (id.id_type.as_str(), fold_id(&id.value)))
        .filter(|(_, number)| !number.is_empty())
        .map(|(id_type, number)| format!("dup:id:{id_type}:{number}"))
        .collect()
}

/// The first two letters of each word of the folded name, distinct, in order.
fn blocks(person: &Individual) -> Vec<String> {
    let name = fold_name(&format!(
        "{} {} {}",
        person.given_name,
        person.addl_name.as_deref().unwrap_or(""),
        person.family_name
    ));
    let blocks: BTreeSet<String> = name
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(2).collect())
        .collect();
    blocks.into_iter().take(MAX_BLOCKS).collect()
}

fn year_key(prefix: &str, year: i32, block: &str) -> String {
    format!("{prefix}:{year:04}:{block}")
}

fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Whether saving `new` over `old` calls for a check: a new person, or a change of what the
/// check compares (names, birth date, IDs) or of the answers already given (`not_duplicate_of`,
/// so a flag the person answered "a different person" is dropped).
pub fn needs_check(old: Option<&Individual>, new: &Individual) -> bool {
    let Some(old) = old else {
        return true;
    };
    let ids = |p: &Individual| -> Vec<(String, String)> {
        p.reg_ids
            .iter()
            .map(|id| (id.id_type.as_str().to_owned(), id.value.clone()))
            .collect()
    };
    old.given_name != new.given_name
        || old.family_name != new.family_name
        || old.addl_name != new.addl_name
        || old.birthdate != new.birthdate
        || old.birthdate_not_exact != new.birthdate_not_exact
        || ids(old) != ids(new)
        || old.not_duplicate_of != new.not_duplicate_of
}

/// The people already registered whom `person` (being saved under `id`) is likely to be, best
/// first, at most [`MAX_MATCHES`]. `existed`: the record is stored already (its contacts may
/// hold phones). Reads through `store`, so inside a batch it sees the batch's writes.
pub async fn check(
    store: &dyn Store,
    id: Uuid,
    person: &Individual,
    existed: bool,
) -> Result<Vec<Match>, StorageError> {
    let phones = if existed {
        phones_of(store, id).await?
    } else {
        Vec::new()
    };
    check_with_phones(store, id, person, &phones).await
}

/// [`check`] for a person with the given phones (E.164), stored or not (`POST
/// /v1/duplicates/check` asks about someone a device has not saved yet).
pub async fn check_with_phones(
    store: &dyn Store,
    id: Uuid,
    person: &Individual,
    phones: &[String],
) -> Result<Vec<Match>, StorageError> {
    let lookups = [
        KeyLookup {
            keys: id_keys(person),
            limit: BY_ID,
        },
        KeyLookup {
            keys: phones.iter().map(|p| format!("phone:{p}")).collect(),
            limit: BY_PHONE,
        },
        KeyLookup {
            keys: birth_lookups(person),
            limit: BY_BIRTH,
        },
    ];
    let answered: BTreeSet<Uuid> = person
        .not_duplicate_of
        .iter()
        .map(|r| *r.as_uuid())
        .collect();
    // Each candidate, with the phones of the person's it holds (all a comparison needs).
    let mut candidates: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for (key, owner) in store.owners_by_keys(&lookups).await? {
        if owner == id || answered.contains(&owner) {
            continue;
        }
        let shared = candidates.entry(owner).or_default();
        if let Some(phone) = key.strip_prefix("phone:") {
            shared.push(phone.to_owned());
        }
    }
    let ids: Vec<Uuid> = candidates.keys().copied().collect();
    let mut facts = Vec::with_capacity(ids.len());
    for record in store.get_many(&ids).await? {
        if record.kind != RecordKind::Individual || record.deleted {
            continue;
        }
        // A stored record that no longer parses is skipped, not a reason to refuse this write.
        let Ok(other) = serde_json::from_value::<Individual>(record.body) else {
            tracing::warn!(id = %record.id, "duplicate check: a stored individual is unreadable");
            continue;
        };
        let shared = candidates.get(&record.id).cloned().unwrap_or_default();
        facts.push((RecordId::from(record.id), PersonFacts::new(&other, shared)));
    }
    let mut found = likely_duplicates(
        &PersonFacts::new(person, phones),
        facts.iter().map(|(id, f)| (*id, f)),
    );
    found.truncate(MAX_MATCHES);
    Ok(found)
}

/// The phone numbers (E.164) on a person's live contact records.
async fn phones_of(store: &dyn Store, id: Uuid) -> Result<Vec<String>, StorageError> {
    let mut query = ListQuery::new(RecordKind::Contact, Visibility::All, MAX_CONTACTS);
    query.owner_id = Some(id);
    let mut phones = Vec::new();
    for record in store.list(&query).await? {
        if let Ok(contact) = serde_json::from_value::<Contact>(record.body) {
            phones.extend(contact.phones.into_iter().map(|p| p.number_e164));
        }
    }
    phones.sort();
    phones.dedup();
    Ok(phones)
}

/// What the caller who saved `write` is told: its check's findings, except for citizens (see
/// the module docs).
pub fn notice(caller: &Caller, write: Option<&Write>) -> Vec<Match> {
    match (
        caller.role(),
        write.and_then(|w| w.duplicate_check.as_ref()),
    ) {
        (Role::Citizen, _) | (_, None) => Vec::new(),
        (_, Some(found)) => found.clone(),
    }
}

/// The notice as the value of the `Doorstep-Possible-Duplicates` header: JSON, with anything
/// beyond ASCII escaped (`\uXXXX`), as header values must be visible ASCII.
pub fn header_value(found: &[Match]) -> String {
    let json = serde_json::to_string(found).expect("matches serialise");
    let mut ascii = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    ascii
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person(given: &str, family: &str, born: Option<&str>, estimate: bool) -> Individual {
        serde_json::from_value(json!({
            "id": "01935f6e-0000-7000-8000-000000000001",
            "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
            "created_by": "agent:a", "rev": 1,
            "given_name": given, "family_name": family,
            "birthdate": born, "birthdate_not_exact": estimate,
            "reg_ids": [{"id_type": "national_id", "value": "12-345 678"}],
        }))
        .unwrap()
    }

    #[test]
    fn ids_are_keyed_as_the_check_folds_them() {
        let p = person("Amina", "Hassan", None, false);
        assert_eq!(index_keys(&p), vec!["dup:id:national_id:12345678"]);
    }

    #[test]
    fn birth_dates_are_keyed_with_name_blocks() {
        let exact = person("Ngũgĩ", "wa Thiong'o", Some("1987-03-14"), false);
        let keys = index_keys(&exact);
        for k in [
            "dup:born:1987-03-14:ng",
            "dup:born:1987-03-14:th",
            "dup:born:1987-03-14:wa",
            "dup:year:1987:ng",
        ] {
            assert!(keys.contains(&k.to_owned()), "{k} in {keys:?}");
        }
        assert!(!keys.iter().any(|k| k.starts_with("dup:year~")), "{keys:?}");
        let estimate = person("Ngugi", "wa Thiongo", Some("1987-07-01"), true);
        let keys = index_keys(&estimate);
        assert!(keys.contains(&"dup:year~:1987:ng".to_owned()), "{keys:?}");
        assert!(!keys.iter().any(|k| k.starts_with("dup:born")), "{keys:?}");
    }

    /// Whoever a birth-date lookup is for finds the keys of the people the check would match.
    #[test]
    fn lookups_reach_every_birth_date_the_check_accepts() {
        let cases = [
            // (new, estimate?, stored, estimate?, found?)
            ("1987-03-14", false, "1987-03-14", false, true),
            ("1987-03-14", false, "1988-01-01", true, true),
            ("1987-03-14", true, "1986-06-01", false, true),
            ("1987-03-14", true, "1986-06-01", true, true),
            ("1987-03-14", false, "1987-03-15", false, false),
            ("1987-03-14", false, "1990-01-01", true, false),
        ];
        for (new, new_est, old, old_est, found) in cases {
            let n = person("Amina", "Hassan", Some(new), new_est);
            let o = person("Amina", "Hasan", Some(old), old_est);
            let wanted = birth_lookups(&n);
            let reached = index_keys(&o).iter().any(|k| wanted.contains(k));
            assert_eq!(reached, found, "{new} {new_est} vs {old} {old_est}");
        }
    }

    #[test]
    fn a_check_is_due_when_what_it_compares_changes() {
        let old = person("Amina", "Hassan", Some("1987-03-14"), false);
        assert!(needs_check(None, &old));
        let mut same = old.clone();
        same.occupation = Some("farmer".into());
        assert!(!needs_check(Some(&old), &same));
        let mut renamed = old.clone();
        renamed.family_name = "Hasan".into();
        assert!(needs_check(Some(&old), &renamed));
        let mut answered = old.clone();
        answered
            .not_duplicate_of
            .push(RecordId::from(Uuid::now_v7()));
        assert!(needs_check(Some(&old), &answered));
    }

    #[test]
    fn the_header_is_ascii() {
        let found = vec![Match {
            id: RecordId::from(Uuid::nil()),
            score: 100,
            reasons: vec![doorstep_domain::duplicates::Reason::SameId {
                id_type: "cédula".into(),
            }],
        }];
        let value = header_value(&found);
        assert!(value.is_ascii(), "{value}");
        let back: Vec<Match> = serde_json::from_str(&value).unwrap();
        assert_eq!(back, found);
    }
}
