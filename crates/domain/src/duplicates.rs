//! Is this the same person? The duplicate check run before a person is saved: on an agent's
//! laptop against the caseload (offline), and by the registry when a registration arrives.
//!
//! Two people are likely one when
//! - they hold the same ID (same ID type, same number however it was typed), or
//! - their names are alike (Jaro-Winkler ≥ [`NAME_SIMILARITY`] on names folded to lower-case
//!   Latin letters with the words sorted, so accents, word order and spelling slips matter
//!   little) **and** one more fact agrees: the same birth date, a birth date within a year where
//!   either is an estimate, or a phone number.
//!
//! A name alone is not enough: many people share one. The answer is a suggestion for a person
//! to confirm ("Is this the same person?"), never a decision.
//!
//! Preparing a person's [`PersonFacts`] (folding names) is most of the work, so a caseload's
//! facts are built once and reused for every check.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::{Individual, RecordId};

/// How alike two folded names must be (Jaro-Winkler, 0 to 1) to count as the same name.
/// 0.9 keeps "Mohamed Ali" ~ "Mohammed Ali" and "Ngũgĩ" ~ "Ngugi", and leaves apart names that
/// share only a first or last word.
pub const NAME_SIMILARITY: f64 = 0.90;

/// How far apart two birth dates may be when either is an estimate (only the year known).
const ESTIMATE_SLACK_DAYS: i64 = 366;

/// What the check compares, prepared from a person once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// The name's words folded to lower-case Latin letters and digits, sorted, space-separated.
    name: String,
    birthdate: Option<Date>,
    birthdate_not_exact: bool,
    /// (ID type, number) with the number's spaces and punctuation removed, upper-case.
    ids: Vec<(String, String)>,
    /// Phone numbers in E.164 form.
    phones: Vec<String>,
}

impl PersonFacts {
    /// The facts of `person`, with the phone numbers (E.164) of their contact record.
    pub fn new<P: AsRef<str>>(person: &Individual, phones: impl IntoIterator<Item = P>) -> Self {
        let full_name = [
            person.given_name.as_str(),
            person.addl_name.as_deref().unwrap_or(""),
            person.family_name.as_str(),
        ]
        .join(" ");
        let mut phones: Vec<String> = phones
            .into_iter()
            .map(|p| p.as_ref().trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        phones.sort();
        phones.dedup();
        PersonFacts {
            name: fold_name(&full_name),
            birthdate: person.birthdate,
            birthdate_not_exact: person.birthdate_not_exact,
            ids: person
                .reg_ids
                .iter()
                .map(|id| (id.id_type.as_str().to_owned(), fold_id(&id.value)))
                .filter(|(_, number)| !number.is_empty())
                .collect(),
            phones,
        }
    }
}

/// A name as the check compares it: any script folded to Latin letters ("Ngũgĩ" → "ngugi"),
/// lower case, words sorted (so "Hassan Amina" and "Amina Hassan" are one name).
pub fn fold_name(name: &str) -> String {
    let latin = deunicode::deunicode(name).to_lowercase();
    let mut words: Vec<&str> = latin
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.join(" ")
}

/// An ID number as the check compares it: letters and digits only, upper case.
pub fn fold_id(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// One reason two people may be one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Both hold this ID type with the same number.
    SameId {
        id_type: String,
    },
    /// Their names are alike: `similarity` in percent (Jaro-Winkler of the folded names).
    SimilarName {
        similarity: u8,
    },
    SameBirthdate,
    /// Birth dates within a year of each other, one of them an estimate.
    NearBirthdate,
    SamePhone,
}

/// A person the check found likely to be the one being saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Match {
    /// The existing person's record.
    pub id: RecordId,
    /// 0 to 100: 100 for the same ID; otherwise name likeness with what agrees besides.
    pub score: u8,
    /// What agrees, strongest first.
    pub reasons: Vec<Reason>,
}

/// Whether `a` and `b` are likely one person: the score and reasons, or `None`. Symmetric.
pub fn compare(a: &PersonFacts, b: &PersonFacts) -> Option<(u8, Vec<Reason>)> {
    let mut reasons = Vec::new();
    let same_ids: Vec<Reason> = a
        .ids
        .iter()
        .filter(|id| b.ids.contains(id))
        .map(|(id_type, _)| Reason::SameId {
            id_type: id_type.clone(),
        })
        .collect();
    let name = if a.name.is_empty() || b.name.is_empty() {
        0.0
    } else {
        strsim::jaro_winkler(&a.name, &b.name).max(strsim::jaro_winkler(&b.name, &a.name))
    };
    let birth = match (a.birthdate, b.birthdate) {
        (Some(x), Some(y)) if x == y => Some(Reason::SameBirthdate),
        (Some(x), Some(y))
            if (a.birthdate_not_exact || b.birthdate_not_exact)
                && (x - y).whole_days().abs() <= ESTIMATE_SLACK_DAYS =>
        {
            Some(Reason::NearBirthdate)
        }
        _ => None,
    };
    let phone = a.phones.iter().any(|p| b.phones.contains(p));

    let alike = name >= NAME_SIMILARITY;
    let corroborated = birth.is_some() || phone;
    if same_ids.is_empty() && !(alike && corroborated) {
        return None;
    }
    let similarity = (name * 100.0).round() as u8;
    let mut score = u32::from(similarity) * 60 / 100;
    reasons.extend(same_ids.iter().cloned());
    if alike {
        reasons.push(Reason::SimilarName { similarity });
    }
    if let Some(birth) = birth {
        score += if birth == Reason::SameBirthdate {
            25
        } else {
            15
        };
        reasons.push(birth);
    }
    if phone {
        score += 15;
        reasons.push(Reason::SamePhone);
    }
    let score = if same_ids.is_empty() {
        score.min(99)
    } else {
        100
    };
    Some((score as u8, reasons))
}

/// The people of `caseload` likely to be `new`, best first (ties by id, so the order is stable).
pub fn likely_duplicates<'a>(
    new: &PersonFacts,
    caseload: impl IntoIterator<Item = (RecordId, &'a PersonFacts)>,
) -> Vec<Match> {
    let mut found: Vec<Match> = caseload
        .into_iter()
        .filter_map(|(id, facts)| {
            compare(new, facts).map(|(score, reasons)| Match { id, score, reasons })
        })
        .collect();
    found.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    found
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;
    use crate::id_type::RegistrantId;
    use crate::IdTypeCode;

    fn person(given: &str, family: &str, born: Option<Date>, ids: &[(&str, &str)]) -> Individual {
        let mut p: Individual = serde_json::from_value(serde_json::json!({
            "id": "01935f6e-0000-7000-8000-000000000001",
            "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
            "created_by": "agent:a", "rev": 1,
            "given_name": given, "family_name": family,
        }))
        .expect("a valid individual");
        p.birthdate = born;
        p.reg_ids = ids
            .iter()
            .map(|(t, v)| RegistrantId {
                id_type: IdTypeCode::new(*t),
                value: (*v).to_owned(),
                expiry_date: None,
                status: Default::default(),
            })
            .collect();
        p
    }

    fn facts(p: &Individual, phones: &[&str]) -> PersonFacts {
        PersonFacts::new(p, phones.iter().copied())
    }

    #[test]
    fn the_same_id_however_typed_is_the_same_person() {
        let a = person("Amina", "Hassan", None, &[("national_id", "12-345 678")]);
        let b = person("A.", "Wanjiru", None, &[("national_id", "12345678")]);
        let (score, reasons) = compare(&facts(&a, &[]), &facts(&b, &[])).unwrap();
        assert_eq!(score, 100);
        assert_eq!(
            reasons,
            vec![Reason::SameId {
                id_type: "national_id".into()
            }]
        );
        // The same number under another ID type is not the same ID.
        let c = person("A.", "Wanjiru", None, &[("passport", "12345678")]);
        assert_eq!(compare(&facts(&a, &[]), &facts(&c, &[])), None);
    }

    #[test]
    fn accents_word_order_and_spelling_slips_do_not_hide_a_person() {
        let born = Some(date!(1987 - 03 - 14));
        let cases = [
            (("Ngũgĩ", "wa Thiong'o"), ("Ngugi", "wa Thiongo")),
            (("Amina", "Hassan"), ("Hassan", "Amina")),
            (("Mohamed", "Ali"), ("Mohammed", "Ali")),
            (("Zoë", "Ångström"), ("Zoe", "Angstrom")),
        ];
        for ((g1, f1), (g2, f2)) in cases {
            let (a, b) = (person(g1, f1, born, &[]), person(g2, f2, born, &[]));
            let found = compare(&facts(&a, &[]), &facts(&b, &[]));
            let (_, reasons) = found.unwrap_or_else(|| panic!("{g1} {f1} ~ {g2} {f2}"));
            assert!(
                matches!(reasons[0], Reason::SimilarName { .. }),
                "{reasons:?}"
            );
            assert_eq!(reasons[1], Reason::SameBirthdate);
        }
    }

    #[test]
    fn a_name_alone_is_not_enough() {
        let a = person("Amina", "Hassan", Some(date!(1987 - 03 - 14)), &[]);
        let b = person("Amina", "Hassan", Some(date!(1990 - 11 - 02)), &[]);
        assert_eq!(
            compare(&facts(&a, &[]), &facts(&b, &[])),
            None,
            "two exact, different birth dates"
        );
        let c = person("Amina", "Hassan", None, &[]);
        assert_eq!(
            compare(&facts(&a, &[]), &facts(&c, &[])),
            None,
            "nothing else known"
        );
        // A phone they share makes them likely one.
        let (_, reasons) = compare(
            &facts(&a, &["+254712345678"]),
            &facts(&c, &["+254712345678"]),
        )
        .unwrap();
        assert_eq!(reasons.last(), Some(&Reason::SamePhone));
    }

    #[test]
    fn an_estimated_birth_date_is_near_within_a_year() {
        let mut a = person("Amina", "Hassan", Some(date!(1987 - 07 - 01)), &[]);
        a.birthdate_not_exact = true;
        let b = person("Amina", "Hassan", Some(date!(1987 - 03 - 14)), &[]);
        let (_, reasons) = compare(&facts(&a, &[]), &facts(&b, &[])).unwrap();
        assert_eq!(reasons[1], Reason::NearBirthdate);
        let far = person("Amina", "Hassan", Some(date!(1985 - 03 - 14)), &[]);
        assert_eq!(compare(&facts(&a, &[]), &facts(&far, &[])), None);
    }

    #[test]
    fn different_people_who_share_a_word_of_their_name_stay_apart() {
        let born = Some(date!(1987 - 03 - 14));
        let a = person("Amina", "Hassan", born, &[]);
        for (g, f) in [
            ("Amina", "Otieno"),
            ("Halima", "Hassan"),
            ("Juma", "Hassan"),
        ] {
            let b = person(g, f, born, &[]);
            assert_eq!(compare(&facts(&a, &[]), &facts(&b, &[])), None, "{g} {f}");
        }
    }

    #[test]
    fn the_likeliest_come_first() {
        let born = Some(date!(1987 - 03 - 14));
        let new = facts(
            &person("Amina", "Hassan", born, &[("national_id", "1")]),
            &["+254700000001"],
        );
        let by_id = facts(
            &person("Someone", "Else", None, &[("national_id", "1")]),
            &[],
        );
        let by_name_and_phone = facts(&person("Amina", "Hasan", born, &[]), &["+254700000001"]);
        let by_name = facts(&person("Amina", "Hassan", born, &[]), &[]);
        let stranger = facts(&person("Juma", "Otieno", born, &[]), &[]);
        let ids: Vec<RecordId> = (1..=4)
            .map(|n| RecordId::from(uuid::Uuid::from_u128(n)))
            .collect();
        let caseload = [
            (ids[0], &stranger),
            (ids[1], &by_name),
            (ids[2], &by_id),
            (ids[3], &by_name_and_phone),
        ];
        let found: Vec<RecordId> = likely_duplicates(&new, caseload)
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(found, vec![ids[2], ids[3], ids[1]]);
    }

    proptest! {
        #[test]
        fn the_check_is_symmetric(
            g1 in "[A-Za-zé ]{0,12}", f1 in "[A-Za-zé ]{0,12}",
            g2 in "[A-Za-zé ]{0,12}", f2 in "[A-Za-zé ]{0,12}",
            d1 in 0_i64..800, d2 in 0_i64..800, estimate in any::<bool>(),
            phone in any::<bool>(),
        ) {
            let base = date!(1980 - 01 - 01);
            let mut a = person(&g1, &f1, Some(base + time::Duration::days(d1)), &[]);
            a.birthdate_not_exact = estimate;
            let b = person(&g2, &f2, Some(base + time::Duration::days(d2)), &[]);
            let phones: &[&str] = if phone { &["+254700000001"] } else { &[] };
            let (fa, fb) = (facts(&a, phones), facts(&b, phones));
            prop_assert_eq!(compare(&fa, &fb), compare(&fb, &fa));
        }
    }
}
