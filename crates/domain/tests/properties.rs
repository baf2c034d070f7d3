//! Property tests: rules that must hold for every input, not just the examples in unit tests.

use doorstep_domain::application::{Actor, ActorRole, Application, ApplicationStatus};
use doorstep_domain::contact::{Address, AdminArea, GeoPoint};
use doorstep_domain::document::{sanitize_file_name, MAX_FILE_NAME_BYTES};
use doorstep_domain::finance::{AccountKind, FinancialAccount, VerificationStatus};
use doorstep_domain::group::{Group, GroupKind, Membership, MembershipKind};
use doorstep_domain::id_type::{IdStatus, RegistrantId};
use doorstep_domain::individual::{CivilStatus, DifficultyLevel, Disability, Gender, Individual};
use doorstep_domain::validate::iban::{iban_check_digits, iban_countries, normalize_iban};
use doorstep_domain::validate::{is_e164, validate_iban, IbanError, Validate};
use doorstep_domain::{sniff_mime, ActorId, RecordId, RecordMeta};
use proptest::prelude::*;
use proptest::sample::select;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<u128>().prop_map(|n| RecordId::from_uuid(Uuid::from_u128(n)))
}

/// Instants between 1970 and 2100 with nanoseconds, at whole-quarter-hour offsets.
fn timestamp() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..4_102_444_800, 0u32..1_000_000_000, -48i32..=56).prop_map(|(secs, nanos, quarters)| {
        let offset = UtcOffset::from_whole_seconds(quarters * 15 * 60).unwrap();
        OffsetDateTime::from_unix_timestamp(secs)
            .unwrap()
            .replace_nanosecond(nanos)
            .unwrap()
            .to_offset(offset)
    })
}

/// Calendar dates from 1900 to 2100.
fn date() -> impl Strategy<Value = Date> {
    let start = Date::from_calendar_date(1900, time::Month::January, 1)
        .unwrap()
        .to_julian_day();
    let end = Date::from_calendar_date(2100, time::Month::December, 31)
        .unwrap()
        .to_julian_day();
    (start..=end).prop_map(|day| Date::from_julian_day(day).unwrap())
}

/// Any printable text, including non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn meta() -> impl Strategy<Value = RecordMeta> {
    (
        record_id(),
        timestamp(),
        timestamp(),
        "[a-z]{1,8}:[a-z0-9]{1,12}",
        proptest::option::of(any::<u32>().prop_map(u64::from)),
        proptest::option::of(timestamp()),
    )
        .prop_map(
            |(id, created_at, updated_at, by, rev, deleted_at)| RecordMeta {
                id,
                created_at,
                updated_at,
                created_by: ActorId::new(by),
                rev,
                deleted_at,
            },
        )
}

fn difficulty() -> impl Strategy<Value = Option<DifficultyLevel>> {
    proptest::option::of(select(vec![
        DifficultyLevel::NoDifficulty,
        DifficultyLevel::SomeDifficulty,
        DifficultyLevel::ALotOfDifficulty,
        DifficultyLevel::CannotDoAtAll,
    ]))
}

fn disability() -> impl Strategy<Value = Disability> {
    (
        difficulty(),
        difficulty(),
        difficulty(),
        difficulty(),
        difficulty(),
        difficulty(),
    )
        .prop_map(
            |(seeing, hearing, walking, cognition, self_care, communication)| Disability {
                seeing,
                hearing,
                walking,
                cognition,
                self_care,
                communication,
            },
        )
}

fn registrant_id() -> impl Strategy<Value = RegistrantId> {
    (
        "[a-z][a-z_]{0,15}",
        "[A-Z0-9-]{1,20}",
        proptest::option::of(date()),
        select(vec![
            IdStatus::Unverified,
            IdStatus::Valid,
            IdStatus::Invalid,
        ]),
    )
        .prop_map(|(id_type, value, expiry_date, status)| RegistrantId {
            id_type: id_type.as_str().into(),
            value,
            expiry_date,
            status,
        })
}

fn individual() -> impl Strategy<Value = Individual> {
    (
        (meta(), text(), text(), proptest::option::of(text())),
        (
            proptest::option::of(date()),
            any::<bool>(),
            proptest::option::of(text()),
        ),
        (
            proptest::option::of(select(vec![
                Gender::Female,
                Gender::Male,
                Gender::Other,
                Gender::Undisclosed,
            ])),
            proptest::option::of(select(vec![
                CivilStatus::Single,
                CivilStatus::Married,
                CivilStatus::Cohabiting,
                CivilStatus::Separated,
                CivilStatus::Divorced,
                CivilStatus::Widowed,
            ])),
            proptest::option::of(text()),
            proptest::option::of("q[1-5]"),
        ),
        (
            disability(),
            proptest::option::of(select(vec!["sw".to_owned(), "en-KE".to_owned()])),
            proptest::option::of(record_id()),
            proptest::collection::vec(registrant_id(), 0..4),
            proptest::option::of(timestamp()),
            proptest::collection::vec(record_id(), 0..3),
        ),
    )
        .prop_map(
            |(
                (meta, given_name, family_name, addl_name),
                (birthdate, birthdate_not_exact, birth_place),
                (gender, civil_status, occupation, income_bracket),
                (
                    disability,
                    preferred_language,
                    photo,
                    reg_ids,
                    last_liveness_check,
                    not_duplicate_of,
                ),
            )| Individual {
                meta,
                given_name,
                family_name,
                addl_name,
                birthdate,
                birthdate_not_exact,
                birth_place,
                gender,
                civil_status,
                occupation,
                income_bracket,
                disability,
                preferred_language,
                photo,
                reg_ids,
                last_liveness_check,
                not_duplicate_of,
            },
        )
}

/// Coordinates on a 1/1024-degree grid: exactly representable, so JSON round-trips them exactly.
fn geo_point() -> impl Strategy<Value = GeoPoint> {
    (-90i32 * 1024..=90 * 1024, -180i32 * 1024..=180 * 1024).prop_map(|(lat, lon)| GeoPoint {
        latitude: f64::from(lat) / 1024.0,
        longitude: f64::from(lon) / 1024.0,
    })
}

fn address() -> impl Strategy<Value = Address> {
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::collection::vec(
            (1u8..=6, "[A-Z]{2}-[0-9]{3}", text()).prop_map(|(level, code, name)| AdminArea {
                level,
                code,
                name,
            }),
            0..3,
        ),
        proptest::option::of("[0-9]{5}"),
        "[A-Z]{2}",
        proptest::option::of(geo_point()),
    )
        .prop_map(
            |(line1, line2, locality, admin_areas, postal_code, country, geo)| Address {
                line1,
                line2,
                locality,
                admin_areas,
                postal_code,
                country,
                geo,
            },
        )
}

fn group() -> impl Strategy<Value = Group> {
    (
        meta(),
        text(),
        select(vec![GroupKind::Household, GroupKind::Family]),
        proptest::option::of(address()),
        any::<bool>(),
    )
        .prop_map(|(meta, name, kind, address, is_partial_group)| Group {
            meta,
            name,
            kind,
            address,
            is_partial_group,
        })
}

fn membership(group_id: RecordId) -> impl Strategy<Value = Membership> {
    (
        meta(),
        record_id(),
        select(vec![
            MembershipKind::Head,
            MembershipKind::Spouse,
            MembershipKind::Child,
            MembershipKind::Parent,
            MembershipKind::OtherRelative,
            MembershipKind::NonRelative,
        ]),
        date(),
        proptest::option::of(date()),
    )
        .prop_map(
            move |(meta, individual_id, kind, start_date, end_date)| Membership {
                meta,
                group_id,
                individual_id,
                kind,
                start_date,
                end_date,
            },
        )
}

fn financial_account() -> impl Strategy<Value = FinancialAccount> {
    (
        meta(),
        record_id(),
        select(vec![
            AccountKind::BankAccount,
            AccountKind::MobileWallet,
            AccountKind::EmailWallet,
        ]),
        "[A-Za-z0-9_-]{1,12}",
        "[A-Z0-9+@.]{1,34}",
        text(),
        select(vec![
            VerificationStatus::Unverified,
            VerificationStatus::Pending,
            VerificationStatus::Verified,
            VerificationStatus::Failed,
        ]),
        any::<bool>(),
    )
        .prop_map(
            |(
                meta,
                registrant_id,
                kind,
                provider_code,
                account_number,
                holder_name,
                verification_status,
                preferred_for_payments,
            )| FinancialAccount {
                meta,
                registrant_id,
                kind,
                provider_code,
                account_number,
                holder_name,
                verification_status,
                preferred_for_payments,
                review: None,
            },
        )
}

/// Form.io-like submission data: an object of strings, integers, booleans and nulls.
fn form_data() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    proptest::collection::btree_map("[a-z][a-zA-Z0-9]{0,10}", leaf, 0..6)
        .prop_map(|map| serde_json::Value::Object(map.into_iter().collect()))
}

fn role() -> impl Strategy<Value = ActorRole> {
    select(vec![
        ActorRole::Applicant,
        ActorRole::Reviewer,
        ActorRole::System,
    ])
}

fn status() -> impl Strategy<Value = ApplicationStatus> {
    select(ApplicationStatus::ALL.to_vec())
}

/// A transition attempt: target, role, whether a note is given.
fn attempts() -> impl Strategy<Value = Vec<(ApplicationStatus, ActorRole, bool, OffsetDateTime)>> {
    proptest::collection::vec((status(), role(), any::<bool>(), timestamp()), 0..12)
}

fn application() -> impl Strategy<Value = Application> {
    (
        meta(),
        record_id(),
        record_id(),
        1u32..20,
        form_data(),
        attempts(),
    )
        .prop_map(
            |(meta, programme_id, applicant_id, form_version, data, attempts)| {
                let mut application =
                    Application::new(meta, programme_id, applicant_id, form_version, data);
                for (to, role, with_note, at) in attempts {
                    let note = with_note.then(|| "Please bring your ID card.".to_owned());
                    let _ = application.transition(to, at, Actor::new("someone", role), note);
                }
                application
            },
        )
}

fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value, "JSON was {}", json);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// IBAN
// ---------------------------------------------------------------------------------------------

/// A valid IBAN for a random IBAN country, with a BBAN of digits and capital letters.
fn valid_iban() -> impl Strategy<Value = String> {
    select(iban_countries().collect::<Vec<_>>()).prop_flat_map(|(country, length)| {
        proptest::collection::vec(
            prop_oneof![3 => proptest::char::range('0', '9'), 1 => proptest::char::range('A', 'Z')],
            length - 4,
        )
        .prop_map(move |chars| {
            let bban: String = chars.into_iter().collect();
            let check = iban_check_digits(country, &bban).expect("BBAN has the country's length");
            format!("{country}{check}{bban}")
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_ibans_validate(iban in valid_iban()) {
        prop_assert_eq!(validate_iban(&iban), Ok(()));
        // Written in groups of four, lower case, it normalises back.
        let spaced: String = iban
            .to_lowercase()
            .chars()
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|chunk| chunk.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        prop_assert_eq!(normalize_iban(&spaced), iban);
    }

    #[test]
    fn any_single_digit_change_breaks_an_iban(
        iban in valid_iban(),
        position_seed in any::<prop::sample::Index>(),
        shift in 1u8..10,
    ) {
        let digit_positions: Vec<usize> = iban
            .bytes()
            .enumerate()
            .skip(2)
            .filter(|(_, b)| b.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        let position = *position_seed.get(&digit_positions);
        let mut bytes = iban.clone().into_bytes();
        bytes[position] = b'0' + (bytes[position] - b'0' + shift) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert_ne!(&changed, &iban);
        prop_assert_eq!(validate_iban(&changed), Err(IbanError::BadChecksum), "{}", changed);
    }

    // -----------------------------------------------------------------------------------------
    // E.164
    // -----------------------------------------------------------------------------------------

    #[test]
    fn generated_e164_numbers_pass(first in 1u8..=9, rest in "[0-9]{7,14}") {
        let number = format!("+{first}{rest}");
        prop_assert!(is_e164(&number), "{}", number);
    }

    #[test]
    fn numbers_with_letters_fail(
        digits in "[1-9][0-9]{7,13}",
        letter in "[a-zA-Z]",
        position_seed in any::<prop::sample::Index>(),
    ) {
        let position = position_seed.index(digits.len() + 1);
        let mut number = digits.clone();
        number.insert_str(position, &letter);
        let number = format!("+{number}");
        prop_assert!(!is_e164(&number), "{}", number);
    }

    #[test]
    fn too_long_numbers_fail(number in "[1-9][0-9]{15,20}") {
        let number = format!("+{number}");
        prop_assert!(!is_e164(&number), "{}", number);
    }

    #[test]
    fn too_short_numbers_fail(number in "[1-9][0-9]{0,6}") {
        let number = format!("+{number}");
        prop_assert!(!is_e164(&number), "{}", number);
    }

    #[test]
    fn leading_zero_country_code_fails(rest in "[0-9]{7,14}") {
        let number = format!("+0{rest}");
        prop_assert!(!is_e164(&number), "{}", number);
    }

    #[test]
    fn numbers_without_plus_fail(number in "[1-9][0-9]{7,14}") {
        prop_assert!(!is_e164(&number));
        let international = format!("00{number}");
        prop_assert!(!is_e164(&international));
    }

    // -----------------------------------------------------------------------------------------
    // Files
    // -----------------------------------------------------------------------------------------

    #[test]
    fn sanitised_file_names_are_safe_and_stable(name in "\\PC{0,300}|.{0,40}") {
        let clean = sanitize_file_name(&name);
        prop_assert!(!clean.is_empty());
        prop_assert!(clean.len() <= MAX_FILE_NAME_BYTES);
        prop_assert!(!clean.contains(['/', '\\']));
        prop_assert!(!clean.chars().any(char::is_control));
        prop_assert!(!clean.starts_with('.'));
        prop_assert_eq!(sanitize_file_name(&clean), clean.clone());
    }

    #[test]
    fn sniffing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = sniff_mime(&bytes);
    }

    // -----------------------------------------------------------------------------------------
    // Workflow
    // -----------------------------------------------------------------------------------------

    #[test]
    fn any_sequence_of_attempts_leaves_a_consistent_history(mut application in application()) {
        application.meta.created_by = ActorId::new("agent");
        application.meta.id = RecordId::from_uuid(Uuid::from_u128(1));
        application.programme_id = RecordId::from_uuid(Uuid::from_u128(2));
        application.applicant_id = RecordId::from_uuid(Uuid::from_u128(3));
        prop_assert_eq!(application.validate(), Ok(()));
        let last = application.status_history.last().map_or(ApplicationStatus::Draft, |c| c.to);
        prop_assert_eq!(application.status, last);
        // Nothing ever follows a final status.
        if let Some(index) = application.status_history.iter().position(|c| c.to.is_final()) {
            prop_assert_eq!(index, application.status_history.len() - 1);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Serde round-trips
    // -----------------------------------------------------------------------------------------

    #[test]
    fn individual_round_trips(individual in individual()) {
        round_trips(&individual)?;
    }

    #[test]
    fn group_and_memberships_round_trip(
        (group, memberships) in group().prop_flat_map(|group| {
            let id = group.meta.id;
            (Just(group), proptest::collection::vec(membership(id), 0..5))
        })
    ) {
        round_trips(&group)?;
        round_trips(&memberships)?;
    }

    #[test]
    fn financial_account_round_trips(account in financial_account()) {
        round_trips(&account)?;
    }

    #[test]
    fn application_round_trips(application in application()) {
        round_trips(&application)?;
    }
}
