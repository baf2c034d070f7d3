//! An agent's caseload: the people of their area on this device, indexed in memory for the
//! People search and for the duplicate check run before a new person is saved.
//!
//! The index is built from the vault on first use and again only after a record was written
//! ([`Partition::records_generation`]), so a search while the agent types reads no records and
//! decodes no JSON: it walks prepared entries. Each entry holds what the search compares, already
//! folded (lower case, any script folded to Latin by the domain's [`name_words`], ID numbers as
//! upper-case letters and digits, phones as digits), and the person's duplicate-check facts.
//!
//! A search ranks what it finds in three tiers, each in name order:
//! 1. the name starts with the query, or every word typed starts a word of the name
//!    ("wan kam" finds Wanjiru Kamau);
//! 2. the name contains the query as typed, an ID number contains it (however it is spaced or
//!    cased), or a phone number contains its digits;
//! 3. the name is alike though spelled differently: every word typed is within
//!    [`FUZZY_WORD`] (Jaro-Winkler) of a word of the name ("mohamed" finds Mohammed,
//!    "ngugi" finds Ngũgĩ).

use std::collections::{HashMap, HashSet};

use doorstep_domain::application::{Application, ApplicationStatus};
use doorstep_domain::contact::Contact;
use doorstep_domain::duplicates::{fold_id, likely_duplicates, name_words, Match, PersonFacts};
use doorstep_domain::individual::Individual;
use doorstep_domain::liveness::LivenessCheck;
use doorstep_domain::record::RecordKind;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use super::records::{live, today};
use super::AppError;
use crate::vault::Partition;

/// How alike a typed word and a word of a name must be (Jaro-Winkler) for the third tier.
/// Looser than the duplicate check's whole-name threshold: the agent is looking, and sees the
/// names before choosing.
pub const FUZZY_WORD: f64 = 0.86;

/// The fewest letters a query needs before spelling-tolerant matches are added (fewer match
/// almost anyone).
const FUZZY_MIN_LETTERS: usize = 3;

/// The fewest digits a phone-number query needs (fewer match almost anyone).
const PHONE_MIN_DIGITS: usize = 3;

/// The most people one search returns. The list virtualises its rows, so thousands are cheap to
/// show; the cap bounds the IPC message (about 150 bytes a person) and keeps the list's full
/// height (rows × row height) far below the browser's largest layout size. An agent's area on a
/// laptop is a few thousand people; searching narrows a larger one down.
pub const MAX_PEOPLE: usize = 50_000;

/// Why a person needs the agent's attention.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "camelCase")]
pub enum Attention {
    /// Their next liveness check is due (the date set by their last check has come).
    LivenessDue,
    /// The office asked for more information on one of their applications.
    MoreInformation,
    /// The registry refused a change made for them on this device.
    RefusedChange,
}

/// A person a field agent serves, as the people list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PersonSummary {
    pub id: String,
    pub name: String,
    pub national_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    /// Their first phone number in use, E.164.
    pub phone: Option<String>,
    /// Empty when nothing needs doing.
    pub attention: Vec<Attention>,
}

/// One person, prepared for searching.
struct Entry {
    id: Uuid,
    summary: PersonSummary,
    /// The name as displayed, lower case: tier 1 and 2 compare against it as typed.
    lower: String,
    /// The name's words folded to Latin lower case, in name order.
    words: Vec<String>,
    /// ID numbers as upper-case letters and digits.
    ids: Vec<String>,
    /// Phone numbers as digits only.
    phones: Vec<String>,
    facts: PersonFacts,
}

/// The indexed caseload of one partition at one records generation.
pub struct Caseload {
    partition: String,
    generation: i64,
    /// By name, then id.
    people: Vec<Entry>,
}

impl Caseload {
    /// Index every live person of `partition`.
    pub fn build(partition: &Partition) -> Result<Caseload, AppError> {
        // Read the generation first: a write landing during the build makes the index look
        // stale at the next use (rebuilt), never fresh when it is not.
        let generation = partition.records_generation()?;
        Ok(Caseload {
            partition: partition.id().to_owned(),
            generation,
            people: entries(partition, today())?,
        })
    }

    /// Whether this index still describes `partition`.
    pub fn is_current(&self, partition: &Partition) -> Result<bool, AppError> {
        Ok(
            self.partition == partition.id()
                && self.generation == partition.records_generation()?,
        )
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The people matching `query` (all when blank), best tier first and by name within a tier,
    /// at most `limit`. `refused` are the people with a refused change (read from the outbox at
    /// each search: a refusal is not a record write). With `attention_only`, only people who
    /// need something done.
    pub fn search(
        &self,
        query: &str,
        attention_only: bool,
        refused: &HashSet<Uuid>,
        limit: usize,
    ) -> Vec<PersonSummary> {
        let query = Query::parse(query);
        let mut found: Vec<(u8, usize)> = Vec::new();
        for (at, entry) in self.people.iter().enumerate() {
            let needs = !entry.summary.attention.is_empty() || refused.contains(&entry.id);
            if attention_only && !needs {
                continue;
            }
            if let Some(tier) = query.tier(entry) {
                found.push((tier, at));
            }
        }
        // `people` is in name order, so (tier, position) is tier then name.
        found.sort_unstable();
        found
            .into_iter()
            .take(limit.clamp(1, MAX_PEOPLE))
            .map(|(_, at)| {
                let entry = &self.people[at];
                let mut summary = entry.summary.clone();
                if refused.contains(&entry.id) {
                    summary.attention.push(Attention::RefusedChange);
                }
                summary
            })
            .collect()
    }

    /// The people on this device likely to be the one described by `facts`, best first, leaving
    /// out `except` (the person themself when their record is edited).
    pub fn likely_duplicates(&self, facts: &PersonFacts, except: &[Uuid]) -> Vec<Match> {
        likely_duplicates(
            facts,
            self.people
                .iter()
                .filter(|e| !except.contains(&e.id))
                .map(|e| (e.id.into(), &e.facts)),
        )
    }

    /// The summary of one indexed person.
    pub fn summary(&self, id: Uuid) -> Option<&PersonSummary> {
        self.people.iter().find(|e| e.id == id).map(|e| &e.summary)
    }
}

/// The people with a change the registry refused: the rejected record's person (the record
/// itself, or the person it belongs to).
pub fn refused_people(partition: &Partition) -> Result<HashSet<Uuid>, AppError> {
    let mut people = HashSet::new();
    for rejection in partition.rejections()? {
        if rejection.kind == RecordKind::Individual.as_str() {
            people.insert(rejection.record_id);
            continue;
        }
        let Some(stored) = partition.record(&rejection.kind, rejection.record_id)? else {
            continue;
        };
        for field in ["registrant_id", "applicant_id", "individual_id"] {
            if let Some(id) = stored.body[field].as_str().and_then(|s| s.parse().ok()) {
                people.insert(id);
            }
        }
    }
    Ok(people)
}

fn entries(partition: &Partition, today: Date) -> Result<Vec<Entry>, AppError> {
    let mut phones: HashMap<Uuid, Vec<String>> = HashMap::new();
    for contact in live::<Contact>(partition, RecordKind::Contact)? {
        phones
            .entry(*contact.registrant_id.as_uuid())
            .or_default()
            .extend(contact.active_phones().map(|p| p.number_e164.clone()));
    }
    // The latest check of each person says when the next is due.
    let mut latest_check: HashMap<Uuid, LivenessCheck> = HashMap::new();
    for check in live::<LivenessCheck>(partition, RecordKind::LivenessCheck)? {
        let person = *check.individual_id.as_uuid();
        if latest_check
            .get(&person)
            .is_none_or(|c| c.performed_at < check.performed_at)
        {
            latest_check.insert(person, check);
        }
    }
    let asked: HashSet<Uuid> = live::<Application>(partition, RecordKind::Application)?
        .into_iter()
        .filter(|a| a.status == ApplicationStatus::MoreInformationNeeded)
        .map(|a| *a.applicant_id.as_uuid())
        .collect();

    let mut people: Vec<Entry> = live::<Individual>(partition, RecordKind::Individual)?
        .into_iter()
        .map(|person| {
            let id = *person.meta.id.as_uuid();
            let numbers = phones.remove(&id).unwrap_or_default();
            let mut attention = Vec::new();
            if latest_check
                .get(&id)
                .and_then(|c| c.next_due)
                .is_some_and(|due| due <= today)
            {
                attention.push(Attention::LivenessDue);
            }
            if asked.contains(&id) {
                attention.push(Attention::MoreInformation);
            }
            let name = person.display_name();
            Entry {
                id,
                lower: name.to_lowercase(),
                words: name_words(&name),
                ids: person.reg_ids.iter().map(|r| fold_id(&r.value)).collect(),
                phones: numbers.iter().map(|n| digits(n)).collect(),
                facts: PersonFacts::new(&person, &numbers),
                summary: PersonSummary {
                    id: id.to_string(),
                    national_id: person.reg_ids.first().map(|r| r.value.clone()),
                    birthdate: person.birthdate.map(|d| d.to_string()),
                    phone: numbers.first().cloned(),
                    attention,
                    name,
                },
            }
        })
        .collect();
    people.sort_by(|a, b| a.summary.name.cmp(&b.summary.name).then(a.id.cmp(&b.id)));
    Ok(people)
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A search as typed, prepared once for the whole caseload.
struct Query {
    lower: String,
    words: Vec<String>,
    id: String,
    /// The digits, when the query looks like a phone number.
    phone: Option<String>,
    fuzzy: bool,
}

impl Query {
    fn parse(text: &str) -> Query {
        let text = text.trim();
        let words = name_words(text);
        let phone_like = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let phone = Some(digits(text)).filter(|d| phone_like && d.len() >= PHONE_MIN_DIGITS);
        let letters: usize = words
            .iter()
            .map(|w| w.chars().filter(char::is_ascii_alphabetic).count())
            .sum();
        Query {
            lower: text.to_lowercase(),
            id: fold_id(text),
            phone,
            fuzzy: letters >= FUZZY_MIN_LETTERS,
            words,
        }
    }

    /// 0, 1 or 2 (see the module's documentation), or `None` for no match.
    fn tier(&self, entry: &Entry) -> Option<u8> {
        if self.lower.is_empty() {
            return Some(0);
        }
        let every_word = |matches: &dyn Fn(&str, &str) -> bool| {
            !self.words.is_empty()
                && self
                    .words
                    .iter()
                    .all(|q| entry.words.iter().any(|w| matches(q, w)))
        };
        if entry.lower.starts_with(&self.lower) || every_word(&|q, w| w.starts_with(q)) {
            return Some(0);
        }
        if entry.lower.contains(&self.lower)
            || (self.id.len() >= 2 && entry.ids.iter().any(|id| id.contains(&self.id)))
            || self.phone.as_ref().is_some_and(|q| {
                // A number typed the national way starts with the trunk 0 that E.164 drops.
                let national = q.trim_start_matches('0');
                entry.phones.iter().any(|p| {
                    p.contains(q.as_str())
                        || (national.len() >= PHONE_MIN_DIGITS && p.contains(national))
                })
            })
        {
            return Some(1);
        }
        if self.fuzzy
            && every_word(&|q, w| w.starts_with(q) || strsim::jaro_winkler(q, w) >= FUZZY_WORD)
        {
            return Some(2);
        }
        None
    }
}

#[cfg(test)]
mod tests;
