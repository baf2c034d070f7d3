use std::sync::Arc;

use doorstep_domain::contact::{Phone, PhoneKind};
use doorstep_domain::id_type::{IdStatus, RegistrantId};
use doorstep_domain::ids::{ActorId, IdTypeCode, RecordId};
use doorstep_domain::record::RecordMeta;
use time::OffsetDateTime;

use super::*;
use crate::vault::{Change, KdfParams, NoKeyStore, Op, Vault};

fn partition() -> (tempfile::TempDir, Partition) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition("sunflower-42", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    (dir, partition)
}

fn meta() -> RecordMeta {
    RecordMeta::new(
        Uuid::now_v7().into(),
        OffsetDateTime::now_utc(),
        ActorId::new("t"),
    )
}

fn person(given: &str, family: &str) -> Individual {
    Individual::new(meta(), given, family)
}

fn with_id(mut p: Individual, id_type: &str, value: &str) -> Individual {
    p.reg_ids.push(RegistrantId {
        id_type: IdTypeCode::new(id_type),
        value: value.into(),
        expiry_date: None,
        status: IdStatus::Valid,
    });
    p
}

fn contact(of: &Individual, number: &str) -> Contact {
    let mut c: Contact = serde_json::from_value(serde_json::json!({
        "id": Uuid::now_v7(), "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z", "created_by": "t",
        "registrant_id": of.meta.id,
    }))
    .unwrap();
    c.phones.push(Phone {
        id: RecordId::from(Uuid::now_v7()),
        number_e164: number.into(),
        date_collected: None,
        kind: PhoneKind::default(),
        disabled: false,
    });
    c
}

fn save(partition: &Partition, people: &[Individual]) {
    let changes: Vec<Change> = people
        .iter()
        .map(|p| Change::of(p, Op::Create, "t").unwrap())
        .collect();
    partition.apply_batch(&changes).unwrap();
}

fn names(found: &[PersonSummary]) -> Vec<&str> {
    found.iter().map(|p| p.name.as_str()).collect()
}

fn search(partition: &Partition, query: &str) -> Vec<PersonSummary> {
    Caseload::build(partition)
        .unwrap()
        .search(query, false, &HashSet::new(), MAX_PEOPLE)
}

#[test]
fn lists_everyone_by_name_past_the_old_cap_of_a_thousand() {
    let (_dir, partition) = partition();
    // Written in reverse so the result's order comes from the index, not from the vault.
    let people: Vec<Individual> = (0..1_500)
        .rev()
        .map(|i| person(&format!("Person {i:04}"), "Otieno"))
        .collect();
    save(&partition, &people);
    let index = Caseload::build(&partition).unwrap();
    let none = HashSet::new();

    let all = index.search("", false, &none, MAX_PEOPLE);
    assert_eq!(all.len(), 1_500);
    assert_eq!(all[0].name, "Person 0000 Otieno");
    assert_eq!(all[1_499].name, "Person 1499 Otieno");
    assert!(all.windows(2).all(|w| w[0].name <= w[1].name), "by name");
    assert_eq!(index.search("", false, &none, 1_200).len(), 1_200);
    // A limit past the cap is held to it (not refused), and the search still filters.
    assert_eq!(index.search("", false, &none, usize::MAX).len(), 1_500);
    assert_eq!(
        index.search("person 12", false, &none, MAX_PEOPLE).len(),
        100
    );
}

#[test]
fn finds_an_id_number_typed_in_any_case_or_spacing() {
    let (_dir, partition) = partition();
    save(
        &partition,
        &[with_id(
            person("Wanjiru", "Kamau"),
            "passport",
            "AK 123-456",
        )],
    );
    for typed in ["AK1234", "ak1234", " Ak123456 ", "ak 123 456"] {
        assert_eq!(
            names(&search(&partition, typed)),
            ["Wanjiru Kamau"],
            "{typed}"
        );
    }
    assert!(search(&partition, "AK9").is_empty());
}

#[test]
fn finds_a_phone_number_by_its_digits_however_written() {
    let (_dir, partition) = partition();
    let wanjiru = person("Wanjiru", "Kamau");
    let other = person("Achieng", "Otieno");
    save(&partition, &[wanjiru.clone(), other.clone()]);
    partition
        .apply_batch(&[
            Change::of(&contact(&wanjiru, "+254712345678"), Op::Create, "t").unwrap(),
            Change::of(&contact(&other, "+254799000111"), Op::Create, "t").unwrap(),
        ])
        .unwrap();
    for typed in [
        "0712 345",
        "+254 712 345 678",
        "712-345-678",
        "(712) 345678",
    ] {
        assert_eq!(
            names(&search(&partition, typed)),
            ["Wanjiru Kamau"],
            "{typed}"
        );
    }
    let found = search(&partition, "345678");
    assert_eq!(found[0].phone.as_deref(), Some("+254712345678"));
    assert!(
        search(&partition, "12").is_empty(),
        "two digits match too much"
    );
}

#[test]
fn ranks_prefix_then_contains_then_alike_spellings() {
    let (_dir, partition) = partition();
    save(
        &partition,
        &[
            person("Mohammed", "Ali"),
            person("Ali", "Hassan"),
            person("Khalid", "Alibek"),
            person("Ngũgĩ", "wa Thiong'o"),
            person("Amina", "Otieno"),
        ],
    );
    // Prefix of the name or of every word first, then inside a word.
    assert_eq!(
        names(&search(&partition, "ali")),
        ["Ali Hassan", "Khalid Alibek", "Mohammed Ali"]
    );
    assert_eq!(names(&search(&partition, "ham ali")), Vec::<&str>::new());
    assert_eq!(names(&search(&partition, "moh ali")), ["Mohammed Ali"]);
    // Another spelling, and another script: third tier.
    assert_eq!(names(&search(&partition, "mohamed")), ["Mohammed Ali"]);
    assert_eq!(names(&search(&partition, "ngugi")), ["Ngũgĩ wa Thiong'o"]);
    assert_eq!(names(&search(&partition, "Thiongo")), ["Ngũgĩ wa Thiong'o"]);
    // Two letters are too few to guess a spelling from.
    assert!(search(&partition, "xq").is_empty());
    // Unlike names are not found.
    assert!(search(&partition, "wanjiru").is_empty());
}

#[test]
fn needs_attention_lists_liveness_due_more_information_and_refused_changes() {
    let (_dir, partition) = partition();
    let due = person("Due", "Check");
    let fine = person("Fine", "Check");
    let asked = person("Asked", "More");
    let refused = person("Refused", "Change");
    save(
        &partition,
        &[due.clone(), fine.clone(), asked.clone(), refused.clone()],
    );
    let today = today();
    let check = |who: &Individual, next_due: Date| {
        let c: LivenessCheck = serde_json::from_value(serde_json::json!({
            "id": Uuid::now_v7(), "created_at": "2026-01-01T08:30:00Z",
            "updated_at": "2026-01-01T08:30:00Z", "created_by": "t",
            "individual_id": who.meta.id, "performed_at": "2025-01-01T08:30:00Z",
            "provider": "esignet", "outcome": "passed", "next_due": next_due.to_string(),
        }))
        .unwrap();
        Change::of(&c, Op::Create, "t").unwrap()
    };
    let application: Application = serde_json::from_value(serde_json::json!({
        "id": Uuid::now_v7(), "created_at": "2026-01-01T08:30:00Z",
        "updated_at": "2026-01-01T08:30:00Z", "created_by": "t",
        "programme_id": Uuid::now_v7(), "applicant_id": asked.meta.id,
        "form_version": 1, "data": {}, "status": "more_information_needed",
        "status_history": [
            {"from": "draft", "to": "submitted", "at": "2026-01-02T08:30:00Z",
             "by": {"id": "t", "role": "applicant"}},
            {"from": "submitted", "to": "under_review", "at": "2026-01-03T08:30:00Z",
             "by": {"id": "s", "role": "reviewer"}},
            {"from": "under_review", "to": "more_information_needed",
             "at": "2026-01-04T08:30:00Z", "by": {"id": "s", "role": "reviewer"},
             "note": "Add a payslip."},
        ],
    }))
    .unwrap();
    partition
        .apply_batch(&[
            check(&due, today),
            check(&fine, today + time::Duration::days(30)),
            Change::of(&application, Op::Create, "t").unwrap(),
        ])
        .unwrap();
    let index = Caseload::build(&partition).unwrap();
    let refused_people = HashSet::from([*refused.meta.id.as_uuid()]);

    let attention = index.search("", true, &refused_people, MAX_PEOPLE);
    let mut seen: Vec<(&str, &[Attention])> = attention
        .iter()
        .map(|p| (p.name.as_str(), p.attention.as_slice()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("Asked More", &[Attention::MoreInformation][..]),
            ("Due Check", &[Attention::LivenessDue][..]),
            ("Refused Change", &[Attention::RefusedChange][..]),
        ]
    );
    assert_eq!(
        index.search("", false, &refused_people, MAX_PEOPLE).len(),
        4
    );
}

#[test]
fn the_index_is_current_until_a_record_is_written() {
    let (_dir, partition) = partition();
    save(&partition, &[person("Amina", "Otieno")]);
    let index = Caseload::build(&partition).unwrap();
    assert!(index.is_current(&partition).unwrap());
    partition
        .save_draft("profile", &serde_json::json!({}))
        .unwrap();
    assert!(
        index.is_current(&partition).unwrap(),
        "a draft is not a record"
    );
    save(&partition, &[person("Baraka", "Mwangi")]);
    assert!(!index.is_current(&partition).unwrap());
    assert_eq!(Caseload::build(&partition).unwrap().len(), 2);
}

#[test]
fn duplicates_are_found_among_the_caseload_except_the_person_themself() {
    let (_dir, partition) = partition();
    let mut kept = with_id(person("Mohammed", "Ali"), "national_id", "12345678");
    kept.birthdate = Some(time::macros::date!(1990 - 03 - 04));
    save(&partition, &[kept.clone(), person("Amina", "Otieno")]);
    let index = Caseload::build(&partition).unwrap();

    let mut new = person("Mohamed", "Ali");
    new.birthdate = kept.birthdate;
    let found = index.likely_duplicates(&PersonFacts::new(&new, [""; 0]), &[]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, kept.meta.id);
    assert!(index
        .likely_duplicates(
            &PersonFacts::new(&kept, [""; 0]),
            &[*kept.meta.id.as_uuid()]
        )
        .is_empty());
}
