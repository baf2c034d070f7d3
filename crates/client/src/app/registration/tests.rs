use std::sync::Arc;

use doorstep_domain::individual::DifficultyLevel;

use super::*;
use crate::vault::{KdfParams, NoKeyStore, Vault};

struct Device {
    _dir: tempfile::TempDir,
    vault: Vault,
    partition: Partition,
}

fn device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition("sunflower-42", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    Device {
        _dir: dir,
        vault,
        partition,
    }
}

fn typed(given: &str, family: &str, born: &str) -> PersonInput {
    PersonInput {
        given_name: given.into(),
        family_name: family.into(),
        birthdate: Some(born.into()),
        ..PersonInput::default()
    }
}

fn member(person: PersonInput, relationship: MembershipKind) -> MemberEntry {
    MemberEntry {
        person,
        relationship,
    }
}

fn caseload(p: &Partition) -> Caseload {
    Caseload::build(p).unwrap()
}

/// A household of five, with a national ID, a phone and a wallet for the head.
fn household_of_five(partition: &Partition) -> Registration {
    let mut r = start(partition).unwrap();
    r.head = PersonInput {
        national_id: Some("2345 6789".into()),
        phone: Some("+254 712 345 678".into()),
        gender: Some(Gender::Female),
        disability: Disability {
            walking: Some(DifficultyLevel::SomeDifficulty),
            ..Disability::default()
        },
        ..typed("Wanjiru", "Kamau", "1985-02-14")
    };
    r.address = Some(AddressDetails {
        locality: Some("Kisumu".into()),
        country: "ke".into(),
        ..AddressDetails::default()
    });
    let saved = save(partition, &caseload(partition), r).unwrap();
    let RegistrationCheck::Saved {
        registration: mut r,
    } = saved
    else {
        panic!("no one alike on an empty device: {saved:?}");
    };
    r.step = RegistrationStep::Members;
    r.members = vec![
        member(
            typed("Otieno", "Kamau", "1983-07-01"),
            MembershipKind::Spouse,
        ),
        member(
            typed("Baraka", "Kamau", "2010-03-03"),
            MembershipKind::Child,
        ),
        member(
            typed("Zawadi", "Kamau", "2014-09-30"),
            MembershipKind::Child,
        ),
        member(
            PersonInput {
                birthdate_not_exact: true,
                ..typed("Mama", "Akinyi", "1950-07-01")
            },
            MembershipKind::Parent,
        ),
    ];
    let RegistrationCheck::Saved {
        registration: mut r,
    } = save(partition, &caseload(partition), r).unwrap()
    else {
        panic!("no one alike");
    };
    r.step = RegistrationStep::Account;
    r.account = Some(AccountInput {
        kind: AccountKind::MobileWallet,
        provider_code: "mpesa".into(),
        account_number: "+254712345678".into(),
        holder_name: "Wanjiru Kamau".into(),
        preferred: true,
    });
    let RegistrationCheck::Saved { registration: r } =
        save(partition, &caseload(partition), r).unwrap()
    else {
        panic!("no one alike");
    };
    r
}

fn field_problems(e: AppError) -> Vec<(String, String)> {
    match e {
        AppError::Vault(VaultError::Invalid(errors)) => errors
            .iter()
            .map(|f| (f.field.clone(), f.code.clone()))
            .collect(),
        other => panic!("expected field problems, got {other:?}"),
    }
}

#[test]
fn a_household_of_five_is_saved_whole_in_one_transaction_and_the_draft_goes() {
    let d = device();
    let r = household_of_five(&d.partition);
    assert_eq!(
        list(&d.partition).unwrap().len(),
        1,
        "resumable until saved"
    );

    let saved = finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap();
    let RegistrationSaved::Saved {
        household_id,
        head_id,
        people,
    } = saved
    else {
        panic!("saved: {saved:?}");
    };
    assert_eq!(people, 5);
    assert_eq!(household_id, r.id);
    assert_eq!(head_id, r.head.key);
    assert!(
        list(&d.partition).unwrap().is_empty(),
        "the draft went with the save"
    );

    let kinds: Vec<String> = d
        .partition
        .outbox()
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds[0], "group", "the household before what points at it");
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("individual"), 5);
    assert_eq!(count("membership"), 5);
    assert_eq!(count("contact"), 1, "only the head gave a phone");
    assert_eq!(count("financial_account"), 1);
    let first_membership = kinds.iter().position(|k| k == "membership").unwrap();
    assert!(
        kinds[..first_membership]
            .iter()
            .filter(|k| *k == "individual")
            .count()
            == 5
    );

    let memberships: Vec<Membership> =
        super::super::records::live(&d.partition, RecordKind::Membership).unwrap();
    let heads: Vec<_> = memberships
        .iter()
        .filter(|m| m.kind == MembershipKind::Head)
        .collect();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].individual_id.to_string(), r.head.key);
    let head: Individual = d
        .partition
        .get(r.head.key.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(head.reg_ids[0].value, "23456789");
    assert_eq!(
        head.disability.walking,
        Some(DifficultyLevel::SomeDifficulty)
    );
    let group: Group = d
        .partition
        .get(household_id.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(group.name, "Kamau household");
    assert_eq!(group.address.unwrap().country, "KE");

    // Saving it again cannot create it twice.
    let again = finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap_err();
    assert!(
        again.to_string().contains("no longer on this device"),
        "{again}"
    );
    assert_eq!(d.partition.outbox().unwrap().len(), kinds.len());
}

#[test]
fn every_step_survives_closing_the_vault() {
    let d = device();
    let r = household_of_five(&d.partition);
    let id = d.partition.id().to_owned();
    drop(d.partition);
    let partition = d.vault.unlock_with_passphrase(&id, "sunflower-42").unwrap();
    let resumed = load(&partition, &r.id).unwrap();
    assert_eq!(resumed, r);
    assert_eq!(resumed.step, RegistrationStep::Account);
    assert_eq!(resumed.members.len(), 4);
}

#[test]
fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
    let d = device();
    let mut r = start(&d.partition).unwrap();
    r.step = RegistrationStep::Members;
    r.head = PersonInput {
        phone: Some("12".into()),
        national_id: Some("AB/12".into()),
        ..typed("", "", "1985-13-40")
    };
    let tomorrow = (today() + time::Duration::days(1)).to_string();
    r.members = vec![
        member(typed("Baby", "Kamau", &tomorrow), MembershipKind::Child),
        member(typed("Second", "Head", "1980-01-01"), MembershipKind::Head),
    ];
    let problems =
        field_problems(save(&d.partition, &caseload(&d.partition), r.clone()).unwrap_err());
    for expected in [
        ("head.given_name", code::REQUIRED),
        ("head.birthdate", code::INVALID_FORMAT),
        ("head.phone", code::INVALID_FORMAT),
        ("head.national_id", code::INVALID_FORMAT),
        ("members[0].person.birthdate", code::OUT_OF_RANGE),
        ("members[1].relationship", code::MULTIPLE_HEADS),
    ] {
        assert!(
            problems.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {problems:?}"
        );
    }
    // Kept as typed (nothing lost), but no record and nothing queued.
    assert_eq!(load(&d.partition, &r.id).unwrap().members.len(), 2);
    assert!(d.partition.outbox().unwrap().is_empty());
    assert!(finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).is_err());
    assert!(d.partition.outbox().unwrap().is_empty());
}

#[test]
fn the_same_id_twice_in_one_household_is_refused() {
    let d = device();
    let mut r = start(&d.partition).unwrap();
    r.step = RegistrationStep::Members;
    r.head.national_id = Some("11112222".into());
    r.head.given_name = "A".into();
    let mut twin = typed("B", "C", "2000-01-01");
    twin.national_id = Some("1111 2222".into());
    r.members = vec![member(twin, MembershipKind::Child)];
    let problems = field_problems(save(&d.partition, &caseload(&d.partition), r).unwrap_err());
    assert!(
        problems.contains(&(
            "members[0].person.national_id".into(),
            code::DUPLICATE.into()
        )),
        "{problems:?}"
    );
}

#[test]
fn a_person_like_one_on_the_device_needs_an_answer_different_is_kept_for_review() {
    let d = device();
    // Mohammed Ali, born 1990-03-04, is already in the caseload.
    let mut existing = Individual::new(
        RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            OffsetDateTime::now_utc(),
            ActorId::new("t"),
        ),
        "Mohammed",
        "Ali",
    );
    existing.birthdate = Some(time::macros::date!(1990 - 03 - 04));
    d.partition
        .apply(&Change::of(&existing, Op::Create, "t").unwrap())
        .unwrap();

    let mut r = start(&d.partition).unwrap();
    r.head = typed("Mohamed", "Ali", "1990-03-04");
    let check = save(&d.partition, &caseload(&d.partition), r.clone()).unwrap();
    let RegistrationCheck::SamePerson {
        question,
        registration,
    } = check
    else {
        panic!("asks: {check:?}");
    };
    // A person typed in gets a key (their future record id) at their first save.
    assert!(r.head.key.is_empty());
    assert_eq!(question.person_key, registration.head.key);
    let candidate = &question.candidates[0];
    assert_eq!(candidate.id, existing.meta.id.to_string());
    let differs: Vec<&str> = candidate
        .fields
        .iter()
        .filter(|f| f.differs)
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(differs, ["givenName"], "only the spelling differs");
    // Unanswered, it cannot be saved.
    assert!(matches!(
        finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap(),
        RegistrationSaved::SamePerson { .. }
    ));

    let answered = answer(
        &d.partition,
        &r.id,
        &question.person_key,
        DuplicateAnswer::Different {
            candidates: vec![candidate.id.clone()],
        },
    )
    .unwrap();
    assert!(matches!(
        save(&d.partition, &caseload(&d.partition), answered).unwrap(),
        RegistrationCheck::Saved { .. }
    ));
    let RegistrationSaved::Saved { head_id, .. } =
        finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap()
    else {
        panic!("saved");
    };
    let head: Individual = d.partition.get(head_id.parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        head.not_duplicate_of,
        vec![existing.meta.id],
        "the decision travels with the record"
    );
}

#[test]
fn same_person_links_the_existing_record_instead_of_creating_another() {
    let d = device();
    let mut r = start(&d.partition).unwrap();
    r.head = typed("Amina", "Hassan", "1979-05-05");
    let mut existing = Individual::new(
        RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            OffsetDateTime::now_utc(),
            ActorId::new("t"),
        ),
        "Baraka",
        "Hassan",
    );
    existing.birthdate = Some(time::macros::date!(2008 - 08 - 08));
    d.partition
        .apply(&Change::of(&existing, Op::Create, "t").unwrap())
        .unwrap();
    let before = d.partition.outbox().unwrap().len();

    r.step = RegistrationStep::Members;
    r.members = vec![member(
        typed("Barakah", "Hassan", "2008-08-08"),
        MembershipKind::Child,
    )];
    let RegistrationCheck::SamePerson {
        question,
        registration,
    } = save(&d.partition, &caseload(&d.partition), r.clone()).unwrap()
    else {
        panic!("asks about the child");
    };
    assert_eq!(question.person_key, registration.members[0].person.key);
    answer(
        &d.partition,
        &r.id,
        &question.person_key,
        DuplicateAnswer::Same {
            existing: existing.meta.id.to_string(),
        },
    )
    .unwrap();
    let RegistrationSaved::Saved { people, .. } =
        finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap()
    else {
        panic!("saved");
    };
    assert_eq!(people, 2);
    let created: Vec<String> = d.partition.outbox().unwrap()[before..]
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        created.iter().filter(|k| *k == "individual").count(),
        1,
        "only the head is new"
    );
    let memberships: Vec<Membership> =
        super::super::records::live(&d.partition, RecordKind::Membership).unwrap();
    assert!(memberships
        .iter()
        .any(|m| m.individual_id == existing.meta.id && m.kind == MembershipKind::Child));
}

#[test]
fn a_bad_account_is_refused_by_field() {
    let d = device();
    let mut r = start(&d.partition).unwrap();
    r.head = typed("Amina", "Hassan", "1979-05-05");
    r.step = RegistrationStep::Account;
    r.account = Some(AccountInput {
        kind: AccountKind::MobileWallet,
        provider_code: "mpesa".into(),
        account_number: "not a number".into(),
        holder_name: "Amina Hassan".into(),
        preferred: true,
    });
    let problems = field_problems(save(&d.partition, &caseload(&d.partition), r).unwrap_err());
    assert_eq!(
        problems,
        [("account.account_number".into(), code::INVALID_FORMAT.into())]
    );
}

/// A scan stored on the device for nobody yet, as the upload path stores a registration's:
/// a PNG signature and header, then `tail` (the vault sniffs the type from the first bytes).
fn scan(partition: &Partition, tail: &[u8]) -> crate::vault::DocumentInfo {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];
    bytes.extend_from_slice(tail);
    bytes.resize(bytes.len().max(128), 0);
    partition
        .store_document(
            &crate::vault::NewDocument {
                kind: "id_card".into(),
                file_name: "scan.png".into(),
                record_id: None,
                actor: "agent".into(),
                consent: None,
            },
            &bytes[..],
        )
        .unwrap()
}

#[test]
fn documents_become_their_peoples_when_the_household_is_saved() {
    let d = device();
    let r = household_of_five(&d.partition);
    let child = r.members[1].person.key.clone();
    let card = scan(&d.partition, b"head's card");
    let certificate = scan(&d.partition, b"birth certificate");
    add_document(
        &d.partition,
        &r.id,
        &r.head.key,
        &card,
        DocumentKind::IdCard,
    )
    .unwrap();
    let r = add_document(
        &d.partition,
        &r.id,
        &child,
        &certificate,
        DocumentKind::Other,
    )
    .unwrap();
    assert_eq!(r.documents.len(), 2);
    assert_eq!(r.documents[1].person_key, child);
    assert!(
        add_document(
            &d.partition,
            &r.id,
            "someone-else",
            &card,
            DocumentKind::Other
        )
        .is_err(),
        "only this household's people"
    );

    finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap();
    let kinds: Vec<String> = d
        .partition
        .outbox()
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let last_person = kinds.iter().rposition(|k| k == "individual").unwrap();
    let documents: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == "document")
        .collect();
    assert_eq!(documents.len(), 2, "{kinds:?}");
    assert!(
        documents.iter().all(|&i| i > last_person),
        "after the people they belong to"
    );
    let owner = |info: &crate::vault::DocumentInfo| {
        d.partition
            .document(info.id)
            .unwrap()
            .unwrap()
            .record_id
            .map(|id| id.to_string())
    };
    assert_eq!(owner(&card), Some(r.head.key.clone()));
    assert_eq!(owner(&certificate), Some(child));
}

#[test]
fn a_document_of_someone_taken_out_of_the_household_must_be_answered_for() {
    let d = device();
    let r = household_of_five(&d.partition);
    let grandmother = r.members[3].person.key.clone();
    let card = scan(&d.partition, b"grandmother's card");
    let mut r = add_document(
        &d.partition,
        &r.id,
        &grandmother,
        &card,
        DocumentKind::IdCard,
    )
    .unwrap();
    r.members.remove(3);
    let r = match save(&d.partition, &caseload(&d.partition), r).unwrap() {
        RegistrationCheck::Saved { registration } => registration,
        other => panic!("{other:?}"),
    };
    let refused = finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap_err();
    assert_eq!(
        field_problems(refused),
        [(
            "documents[0].person_key".to_owned(),
            code::NOT_ALLOWED.to_owned()
        )]
    );
    assert!(d.partition.outbox().unwrap().is_empty(), "nothing written");

    let r = remove_document(&d.partition, &r.id, &card.id.to_string()).unwrap();
    assert!(r.documents.is_empty());
    assert!(
        d.partition.document(card.id).unwrap().is_none(),
        "deleted from the device"
    );
    assert!(remove_document(&d.partition, &r.id, &card.id.to_string()).is_err());
    assert!(matches!(
        finish(&d.partition, &caseload(&d.partition), Who::default(), &r.id).unwrap(),
        RegistrationSaved::Saved { .. }
    ));
}

#[test]
fn discarding_a_registration_deletes_what_was_captured_for_it() {
    let d = device();
    let r = household_of_five(&d.partition);
    let card = scan(&d.partition, b"card");
    let first_signature = scan(&d.partition, b"signature 1");
    let signature = scan(&d.partition, b"signature 2");
    let terms = ConsentTerms {
        statement: "agent-consent-1".into(),
        language: "sw".into(),
        agreed: true,
        method: doorstep_domain::document::ConsentMethod::SignaturePad,
    };
    add_document(
        &d.partition,
        &r.id,
        &r.head.key,
        &card,
        DocumentKind::IdCard,
    )
    .unwrap();
    set_consent(&d.partition, &r.id, first_signature.id, terms.clone()).unwrap();
    set_consent(&d.partition, &r.id, signature.id, terms).unwrap();
    assert!(
        d.partition.document(first_signature.id).unwrap().is_none(),
        "a consent captured again replaces the first"
    );

    discard(&d.partition, &r.id).unwrap();
    assert!(list(&d.partition).unwrap().is_empty());
    for info in [&card, &signature] {
        assert!(
            d.partition.document(info.id).unwrap().is_none(),
            "{}",
            info.id
        );
    }
}

#[test]
fn saving_a_step_keeps_the_consent_and_documents_the_form_does_not_send() {
    let d = device();
    let r = household_of_five(&d.partition);
    let card = scan(&d.partition, b"card");
    let signature = scan(&d.partition, b"signature");
    add_document(
        &d.partition,
        &r.id,
        &r.head.key,
        &card,
        DocumentKind::IdCard,
    )
    .unwrap();
    let with_both = set_consent(
        &d.partition,
        &r.id,
        signature.id,
        ConsentTerms {
            statement: "agent-consent-1".into(),
            language: "en".into(),
            agreed: true,
            method: doorstep_domain::document::ConsentMethod::SignaturePad,
        },
    )
    .unwrap();
    // The form sends the people and the address only (as the UI does after "Change").
    let from_form = Registration {
        consent: None,
        documents: Vec::new(),
        step: RegistrationStep::Review,
        ..with_both.clone()
    };
    save(&d.partition, &caseload(&d.partition), from_form).unwrap();
    let kept = load(&d.partition, &r.id).unwrap();
    assert_eq!(kept.consent, with_both.consent);
    assert_eq!(kept.documents, with_both.documents);
}

/// What a sync keeps of the registry's list (crates/client/src/sync/areas.rs): Kisumu with two
/// wards, the agent's own area the first.
fn keep_areas(partition: &Partition, items: serde_json::Value) {
    partition
        .save_draft(
            crate::sync::areas::REGISTRY_AREAS_DRAFT,
            &serde_json::json!({"etag": "\"1\"", "own_area": "KE.30.2", "items": items}),
        )
        .unwrap();
}

fn kisumu() -> serde_json::Value {
    serde_json::json!([
        {"code": "KE.30", "parent": null, "level": 1, "name": "Kisumu"},
        {"code": "KE.30.1", "parent": "KE.30", "level": 2, "name": "Kondele"},
        {"code": "KE.30.2", "parent": "KE.30", "level": 2, "name": "Nyalenda A"},
        {"code": "KE.31", "parent": null, "level": 1, "name": "Siaya"},
    ])
}

fn picked(chain: &[(u8, &str, &str)]) -> Vec<doorstep_domain::AdminArea> {
    chain
        .iter()
        .map(|(level, code, name)| doorstep_domain::AdminArea {
            level: *level,
            code: (*code).into(),
            name: (*name).into(),
        })
        .collect()
}

#[test]
fn the_picked_areas_are_checked_against_the_devices_list_and_saved_with_the_household() {
    let d = device();
    let p = &d.partition;
    let mut r = household_of_five(p);
    r.step = RegistrationStep::Head;
    // Never synced: no list to check against, so any areas are kept as picked.
    r.address.as_mut().unwrap().admin_areas = picked(&[(1, "XX", "Anywhere")]);
    assert!(save(p, &caseload(p), r.clone()).is_ok());

    keep_areas(p, kisumu());
    r.head.birthdate = Some("1985-13-40".into());
    r.address.as_mut().unwrap().admin_areas =
        picked(&[(1, "KE.31", "Siaya"), (2, "KE.30.2", "Nyalenda A")]);
    let problems = field_problems(save(p, &caseload(p), r.clone()).unwrap_err());
    assert!(
        problems.contains(&(
            "address.admin_areas[1].code".into(),
            code::INCONSISTENT.into()
        )),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|(f, _)| f == "head.birthdate"),
        "the head's problems and the address's at once: {problems:?}"
    );
    assert_eq!(
        load(p, &r.id).unwrap().address.unwrap().admin_areas[0].code,
        "KE.31",
        "kept as typed"
    );

    r.head.birthdate = Some("1985-02-14".into());
    r.address.as_mut().unwrap().admin_areas =
        picked(&[(1, "KE.30", "Kisumu"), (2, "KE.30.2", "Nyalenda A")]);
    save(p, &caseload(p), r.clone()).unwrap();
    let RegistrationSaved::Saved { household_id, .. } =
        finish(p, &caseload(p), Who::default(), &r.id).unwrap()
    else {
        panic!("saved");
    };
    let group: Group = p.get(household_id.parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        group.address.unwrap().admin_areas,
        picked(&[(1, "KE.30", "Kisumu"), (2, "KE.30.2", "Nyalenda A")])
    );
}

#[test]
fn a_list_that_changed_since_the_step_was_saved_stops_the_finish() {
    let d = device();
    let p = &d.partition;
    let mut r = household_of_five(p);
    r.address.as_mut().unwrap().admin_areas = picked(&[(1, "KE.30", "Kisumu")]);
    save(p, &caseload(p), r.clone()).unwrap();
    // A sync brings a list where the county was renamed.
    let mut renamed = kisumu();
    renamed[0]["name"] = "Kisumu County".into();
    keep_areas(p, renamed);
    let problems = field_problems(finish(p, &caseload(p), Who::default(), &r.id).unwrap_err());
    assert_eq!(
        problems,
        [(
            "address.admin_areas[0].name".to_owned(),
            code::INCONSISTENT.to_owned()
        )]
    );
    assert_eq!(list(p).unwrap().len(), 1, "the draft stays to be fixed");
}

#[test]
fn the_picker_offers_the_agents_own_areas_first() {
    let d = device();
    let empty = super::super::areas::picker(&d.partition).unwrap();
    assert!(!empty.known && empty.areas.is_empty() && empty.own.is_empty());
    keep_areas(&d.partition, kisumu());
    let picker = super::super::areas::picker(&d.partition).unwrap();
    assert!(picker.known);
    assert_eq!(
        picker.own,
        picked(&[(1, "KE.30", "Kisumu"), (2, "KE.30.2", "Nyalenda A")])
    );
    let codes: Vec<&str> = picker.areas.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["KE.30", "KE.30.2", "KE.31", "KE.30.1"]);
}
