//! A field agent registers a new household, offline: the head, the members with their
//! relationship to the head, the household's address, the people's documents (a file or a
//! photo from the camera), and a payment account, then saves it all.
//!
//! The registration lives as a draft in the vault (`drafts`, key `registration:<id>`) from its
//! first step: each step the agent completes is one vault write, so a crash or a closed lid
//! loses at most what was being typed, and a half-finished registration is listed on the
//! agent's home to be resumed. Every person is checked against the caseload before the
//! registration can be saved ([`Caseload::likely_duplicates`]): the agent answers "Is this the
//! same person?" for each likely match, and the answer is kept in the draft:
//! - **same person**: the registration links the existing record instead of creating another;
//! - **different person**: the new record carries `not_duplicate_of` for staff to review.
//!
//! Documents are stored encrypted on this device as soon as they are captured (the upload path
//! of documents.rs); the draft only names them, with the person each belongs to. They become
//! that person's documents when the household is saved, and are deleted with the draft if it is
//! discarded.
//!
//! Saving writes the household, its people, their contacts, the memberships (the head first),
//! their documents and the account as new records AND discards the draft, in one vault transaction
//! ([`Partition::apply_batch_and_discard_draft`]), so the registration is sent once, whole, with
//! the agent as actor (the registry records the household's people as on-behalf-of).

use std::collections::HashSet;

use doorstep_domain::document::{ConsentTerms, DocumentKind};
use doorstep_domain::duplicates::{Match, PersonFacts, Reason};
use doorstep_domain::finance::{AccountKind, FinancialAccount, VerificationStatus};
use doorstep_domain::group::{validate_memberships, Group, GroupKind, Membership, MembershipKind};
use doorstep_domain::id_type::{IdStatus, RegistrantId};
use doorstep_domain::ids::{ActorId, IdTypeCode, RecordId};
use doorstep_domain::individual::{Disability, Gender, Individual};
use doorstep_domain::record::{RecordKind, RecordMeta};
use doorstep_domain::validate::id_pattern::normalize_id_number;
use doorstep_domain::validate::{code, normalize_phone_number, Validate, ValidationErrors};
use doorstep_domain::{Address, Contact, Phone, PhoneKind};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::caseload::Caseload;
use super::details::{actor_of, AddressDetails, NATIONAL_ID};
use super::finance::AccountInput;
use super::household::current_memberships_of;
use super::records::today;
use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition, VaultError};

const DRAFT_PREFIX: &str = "registration:";

/// Where the agent is in the registration; the UI opens a resumed draft there.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    specta::Type,
)]
#[serde(rename_all = "camelCase")]
pub enum RegistrationStep {
    #[default]
    Head,
    Members,
    Documents,
    Account,
    Review,
}

/// A household registration in progress, as the wizard edits it and the vault keeps it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// Minted when the registration starts; also the household's record id.
    pub id: String,
    pub step: RegistrationStep,
    pub head: PersonInput,
    /// Where the household lives.
    #[serde(default)]
    pub address: Option<AddressDetails>,
    #[serde(default)]
    pub members: Vec<MemberEntry>,
    /// Where the household's payments go (the head's account); optional.
    #[serde(default)]
    pub account: Option<AccountInput>,
    /// The household's consent (the head signs for it), captured before it is saved.
    #[serde(default)]
    pub consent: Option<RegistrationConsent>,
    /// The people's documents, captured on this device.
    #[serde(default)]
    pub documents: Vec<RegistrationDocument>,
}

/// A document of one person of the registration (an ID card, a birth certificate), stored
/// encrypted on this device until the household is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationDocument {
    /// The document on this device.
    pub document: String,
    /// Whose it is: a [`PersonInput::key`] of this registration.
    pub person_key: String,
    pub kind: DocumentKind,
    pub file_name: String,
    pub size_bytes: u32,
}

/// A household's consent kept with its registration: the signature or the photo of the signed
/// form is stored encrypted on this device, and becomes the household's consent document when
/// the household is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationConsent {
    /// The document on this device holding the signature or photo.
    pub document: String,
    pub terms: ConsentTerms,
}

/// One member besides the head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MemberEntry {
    pub person: PersonInput,
    /// Relationship to the head (not `head`: the head is entered first).
    pub relationship: MembershipKind,
}

/// A person as the agent types them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PersonInput {
    /// Minted by the app when the person is first saved: their record's id.
    #[serde(default)]
    pub key: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(default)]
    pub addl_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub birthdate: Option<String>,
    /// Only the year (or an estimate) is known.
    #[serde(default)]
    pub birthdate_not_exact: bool,
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub national_id: Option<String>,
    /// Other identity documents (passport, birth certificate…).
    #[serde(default)]
    pub other_ids: Vec<IdInput>,
    /// As typed; stored in E.164.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub disability: Disability,
    /// The agent answered "same person": this existing record is linked instead.
    #[serde(default)]
    pub same_as: Option<String>,
    /// The agent answered "different person" for these likely duplicates.
    #[serde(default)]
    pub not_duplicate_of: Vec<String>,
}

/// One identity document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IdInput {
    /// An ID type code from the registry's list, e.g. `passport`.
    pub id_type: String,
    pub value: String,
}

/// A resumable registration on the agent's home.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationSummary {
    pub id: String,
    /// The head's name as typed so far (may be empty).
    pub head_name: String,
    /// People entered so far, the head included.
    pub people: u32,
    pub step: RegistrationStep,
    /// When it was last saved (RFC 3339).
    pub updated_at: String,
}

/// What saving a step answers.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum RegistrationCheck {
    /// Saved; the agent may go on.
    Saved { registration: Registration },
    /// Saved, but someone on this device looks like one of the people entered: the agent must
    /// answer before the registration can be completed.
    SamePerson {
        registration: Registration,
        question: DuplicateQuestion,
    },
}

/// "Is this the same person?" for one person of the registration.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateQuestion {
    /// The person's key in the registration.
    pub person_key: String,
    pub candidates: Vec<DuplicateCandidate>,
}

/// One existing person the check found alike, side by side with the one typed.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateCandidate {
    pub id: String,
    /// Empty when the person is not on this device (`on_device` false).
    pub name: String,
    /// Found on this device (details shown side by side), or only by the registry, among
    /// people the agent may not see (their details are not sent: only what agrees).
    pub on_device: bool,
    /// 0 to 100.
    pub score: u8,
    pub reasons: Vec<Reason>,
    pub fields: Vec<ComparedField>,
}

/// One field of both people.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ComparedField {
    /// `givenName`, `familyName`, `birthdate`, `nationalId`, `phone` or `gender`.
    pub field: String,
    pub typed: Option<String>,
    pub existing: Option<String>,
    pub differs: bool,
}

/// The agent's answer to a [`DuplicateQuestion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "answer")]
pub enum DuplicateAnswer {
    /// The typed person is `existing`: link that record.
    Same { existing: String },
    /// The typed person is none of the candidates shown.
    Different { candidates: Vec<String> },
}

/// What the household's saving created.
// Built once per save and serialised straight to the UI: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum RegistrationSaved {
    Saved {
        #[serde(rename = "householdId")]
        household_id: String,
        #[serde(rename = "headId")]
        head_id: String,
        people: u32,
    },
    /// The caseload changed since the last check (a sync brought someone alike): answer first.
    SamePerson {
        registration: Registration,
        question: DuplicateQuestion,
    },
}

fn draft_key(id: Uuid) -> String {
    format!("{DRAFT_PREFIX}{id}")
}

fn parse_id(text: &str, what: &str) -> Result<Uuid, AppError> {
    text.parse().map_err(|_| {
        refused(
            "registrationUnknown",
            format!("{what} is not a registration on this device."),
        )
    })
}

/// Start a registration: an empty draft, saved.
pub fn start(partition: &Partition) -> Result<Registration, AppError> {
    let registration = Registration {
        id: Uuid::now_v7().to_string(),
        head: PersonInput {
            key: Uuid::now_v7().to_string(),
            ..PersonInput::default()
        },
        ..Registration::default()
    };
    store(partition, &registration)?;
    Ok(registration)
}

/// The registrations in progress, last touched first.
pub fn list(partition: &Partition) -> Result<Vec<RegistrationSummary>, AppError> {
    let mut out = Vec::new();
    for (_, data, updated_at) in partition.drafts_with_prefix(DRAFT_PREFIX)? {
        // A draft this build cannot read (written by a newer one) is not offered.
        let Ok(r) = serde_json::from_value::<Registration>(data) else {
            continue;
        };
        out.push(RegistrationSummary {
            head_name: name_of(&r.head),
            people: 1 + r.members.len() as u32,
            step: r.step,
            id: r.id,
            updated_at,
        });
    }
    Ok(out)
}

/// One registration in progress.
pub fn load(partition: &Partition, id: &str) -> Result<Registration, AppError> {
    let key = draft_key(parse_id(id, "That")?);
    let data = partition.draft(&key)?.ok_or_else(|| {
        refused(
            "registrationUnknown",
            "That registration is no longer on this device: it was saved or discarded.",
        )
    })?;
    serde_json::from_value(data).map_err(|e| VaultError::Corrupt(e.to_string()).into())
}

/// Discard a registration in progress (nothing of it was sent), and the documents captured for
/// it. The draft goes first: a crash between the two leaves encrypted files nothing names, never
/// a draft naming files that are gone.
pub fn discard(partition: &Partition, id: &str) -> Result<(), AppError> {
    let registration = load(partition, id)?;
    partition.discard_draft(&draft_key(parse_id(id, "That")?))?;
    let captured = registration
        .documents
        .iter()
        .map(|d| d.document.as_str())
        .chain(registration.consent.as_ref().map(|c| c.document.as_str()));
    for document in captured {
        forget_document(partition, document)?;
    }
    Ok(())
}

/// Delete a document captured for a registration that no draft names any more.
fn forget_document(partition: &Partition, document: &str) -> Result<(), AppError> {
    let Ok(id) = document.parse::<Uuid>() else {
        return Ok(());
    };
    match partition.delete_document(id, "agent") {
        Ok(()) | Err(VaultError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn store(partition: &Partition, registration: &Registration) -> Result<(), AppError> {
    let id = parse_id(&registration.id, "That")?;
    let data = serde_json::to_value(registration).expect("a registration serialises");
    partition.save_draft(&draft_key(id), &data)?;
    Ok(())
}

/// Save a step: check what was entered up to `registration.step` (every problem, by field),
/// keep it, and ask about the first person who looks like someone already on this device.
/// Nothing typed is lost to a refusal: a step with problems is still kept as typed.
pub fn save(
    partition: &Partition,
    caseload: &Caseload,
    mut registration: Registration,
) -> Result<RegistrationCheck, AppError> {
    parse_id(&registration.id, "That")?;
    // The consent and the documents are changed only by capturing or removing them (they name
    // files on this device): what the form sends never replaces them.
    let kept = load(partition, &registration.id)?;
    registration.consent = kept.consent;
    registration.documents = kept.documents;
    mint_keys(&mut registration);
    store(partition, &registration)?;
    let areas = super::areas::check(partition, registration.address.as_ref())?;
    let people = build_people(&registration, registration.step, today(), areas)?;
    check_account(&registration)?;
    Ok(match question(partition, caseload, &people)? {
        Some(question) => RegistrationCheck::SamePerson {
            registration,
            question,
        },
        None => RegistrationCheck::Saved { registration },
    })
}

/// Record the agent's answer for one person and keep it.
pub fn answer(
    partition: &Partition,
    id: &str,
    person_key: &str,
    answer: DuplicateAnswer,
) -> Result<Registration, AppError> {
    let mut registration = load(partition, id)?;
    let person = std::iter::once(&mut registration.head)
        .chain(registration.members.iter_mut().map(|m| &mut m.person))
        .find(|p| p.key == person_key)
        .ok_or_else(|| refused("personUnknown", "That person is not in this registration."))?;
    match answer {
        DuplicateAnswer::Same { existing } => {
            parse_id(&existing, "That person")?;
            person.same_as = Some(existing);
        }
        DuplicateAnswer::Different { candidates } => {
            for candidate in candidates {
                parse_id(&candidate, "That person")?;
                if !person.not_duplicate_of.contains(&candidate) {
                    person.not_duplicate_of.push(candidate);
                }
            }
            person.same_as = None;
        }
    }
    store(partition, &registration)?;
    Ok(registration)
}

/// Keep the household's consent (its evidence already stored on this device) with the draft.
pub fn set_consent(
    partition: &Partition,
    id: &str,
    document: Uuid,
    terms: ConsentTerms,
) -> Result<Registration, AppError> {
    let mut registration = load(partition, id)?;
    let replaced = registration.consent.replace(RegistrationConsent {
        document: document.to_string(),
        terms,
    });
    store(partition, &registration)?;
    if let Some(old) = replaced.filter(|old| old.document != document.to_string()) {
        forget_document(partition, &old.document)?;
    }
    Ok(registration)
}

/// Whether `person_key` is someone of this registration (the document's owner to be).
pub fn has_person(registration: &Registration, person_key: &str) -> bool {
    people_of(registration).any(|p| p.key == person_key)
}

/// The head, then the members, as typed.
fn people_of(registration: &Registration) -> impl Iterator<Item = &PersonInput> {
    std::iter::once(&registration.head).chain(registration.members.iter().map(|m| &m.person))
}

/// Keep a document just stored on this device with the person of the registration it is for.
pub fn add_document(
    partition: &Partition,
    id: &str,
    person_key: &str,
    document: &crate::vault::DocumentInfo,
    kind: DocumentKind,
) -> Result<Registration, AppError> {
    let mut registration = load(partition, id)?;
    if !has_person(&registration, person_key) {
        return Err(refused(
            "personUnknown",
            "That person is not in this registration.",
        ));
    }
    registration.documents.push(RegistrationDocument {
        document: document.id.to_string(),
        person_key: person_key.to_owned(),
        kind,
        file_name: document.file_name.clone(),
        size_bytes: u32::try_from(document.size_bytes).unwrap_or(u32::MAX),
    });
    store(partition, &registration)?;
    Ok(registration)
}

/// Take a document out of the registration and delete it from this device.
pub fn remove_document(
    partition: &Partition,
    id: &str,
    document: &str,
) -> Result<Registration, AppError> {
    let mut registration = load(partition, id)?;
    let before = registration.documents.len();
    registration.documents.retain(|d| d.document != document);
    if registration.documents.len() == before {
        return Err(refused(
            "documentUnknown",
            "That document is not in this registration.",
        ));
    }
    store(partition, &registration)?;
    forget_document(partition, document)?;
    Ok(registration)
}

/// Save the household: every record in one vault transaction that also discards the draft.
/// The order is the registry's: the household, its consent, its people, their memberships,
/// then what hangs off the people (contacts, the account), so each write finds the consent
/// that covers it already on record.
pub fn finish(
    partition: &Partition,
    caseload: &Caseload,
    session: Who<'_>,
    id: &str,
) -> Result<RegistrationSaved, AppError> {
    let registration = load(partition, id)?;
    if registration.consent.is_none() && super::consent::required(partition)? {
        return Err(refused(
            "consentFirst",
            "The registry asks for the household's consent. Capture it (the statement, the tick and the head's signature) before saving the household.",
        ));
    }
    let today = today();
    let areas = super::areas::check(partition, registration.address.as_ref())?;
    let people = build_people(&registration, RegistrationStep::Review, today, areas)?;
    check_account(&registration)?;
    if let Some(question) = question(partition, caseload, &people)? {
        return Ok(RegistrationSaved::SamePerson {
            registration,
            question,
        });
    }
    let actor = actor_of(session);
    let now = OffsetDateTime::now_utc();
    let meta = |id: RecordId| RecordMeta::new(id, now, ActorId::new(&actor));
    let household_id = RecordId::from_uuid(parse_id(&registration.id, "That")?);

    let head = &people[0];
    let family = if head.individual.family_name.trim().is_empty() {
        head.individual.given_name.trim()
    } else {
        head.individual.family_name.trim()
    };
    let group = Group {
        meta: meta(household_id),
        name: format!("{family} household"),
        kind: GroupKind::Household,
        address: registration.address.as_ref().map(address_of),
        is_partial_group: false,
    };
    let mut changes = vec![Change::of(&group, Op::Create, &actor)?];
    let mut attach = Vec::new();
    if let Some(consent) = &registration.consent {
        let document: Uuid = consent
            .document
            .parse()
            .map_err(|_| refused("consentFirst", "Capture the household's consent again."))?;
        let body = partition.document_record_for(
            document,
            *household_id.as_uuid(),
            &actor,
            Some(consent.terms.clone()),
        )?;
        changes.push(Change {
            kind: RecordKind::Document.as_str().to_owned(),
            id: document,
            op: Op::Create,
            body,
            actor: actor.clone(),
        });
        attach.push((document, *household_id.as_uuid()));
    }
    let mut contacts = Vec::new();
    let mut memberships = Vec::new();
    let mut errors = ValidationErrors::new();
    for person in &people {
        let id = person.individual.meta.id;
        if person.linked {
            // The existing record stays as it is; it must not be in another household now.
            if !current_memberships_of(partition, *id.as_uuid())?.is_empty() {
                errors.push(
                    format!("{}.same_as", person.path),
                    code::NOT_ALLOWED,
                    format!(
                        "{} already belongs to a household. Answer \"different person\", or move them from their own record.",
                        person.individual.display_name()
                    ),
                );
            }
        } else {
            changes.push(Change::of(&person.individual, Op::Create, &actor)?);
            if let Some(number) = &person.phone {
                let contact = Contact {
                    meta: meta(RecordId::from_uuid(Uuid::now_v7())),
                    registrant_id: id,
                    phones: vec![Phone {
                        id: RecordId::from_uuid(Uuid::now_v7()),
                        number_e164: number.clone(),
                        date_collected: Some(today),
                        kind: PhoneKind::Mobile,
                        disabled: false,
                    }],
                    emails: Vec::new(),
                    address: None,
                    preferred_channel: None,
                    opted_out: Vec::new(),
                };
                contacts.push(Change::of(&contact, Op::Create, &actor)?);
            }
        }
        memberships.push(Membership {
            meta: meta(RecordId::from_uuid(Uuid::now_v7())),
            group_id: household_id,
            individual_id: id,
            kind: person.relationship,
            start_date: today,
            end_date: None,
        });
    }
    if !errors.is_empty() {
        return Err(VaultError::Invalid(errors).into());
    }
    validate_memberships(&group, &memberships, today).map_err(VaultError::Invalid)?;
    for membership in &memberships {
        changes.push(Change::of(membership, Op::Create, &actor)?);
    }
    changes.extend(contacts);
    for (document, owner) in documents_of(&registration, &people)? {
        let body = partition.document_record_for(document, owner, &actor, None)?;
        changes.push(Change {
            kind: RecordKind::Document.as_str().to_owned(),
            id: document,
            op: Op::Create,
            body,
            actor: actor.clone(),
        });
        attach.push((document, owner));
    }
    if let Some(input) = &registration.account {
        let account = account_of(
            input,
            head.individual.meta.id,
            meta(RecordId::from_uuid(Uuid::now_v7())),
        )?;
        changes.push(Change::of(&account, Op::Create, &actor)?);
    }
    partition.apply_batch_and_discard_draft(
        &changes,
        &draft_key(*household_id.as_uuid()),
        &attach,
    )?;
    Ok(RegistrationSaved::Saved {
        household_id: household_id.to_string(),
        head_id: head.individual.meta.id.to_string(),
        people: people.len() as u32,
    })
}

/// Each document of the registration with the record it will belong to (a person linked to an
/// existing record gives that record). A document of someone no longer in the household (a
/// member removed after their card was photographed) is a problem to answer, not dropped.
fn documents_of(
    registration: &Registration,
    people: &[Person],
) -> Result<Vec<(Uuid, Uuid)>, AppError> {
    let mut errors = ValidationErrors::new();
    let mut out = Vec::new();
    for (n, d) in registration.documents.iter().enumerate() {
        let owner = people.iter().find(|p| p.key == d.person_key);
        match (d.document.parse::<Uuid>(), owner) {
            (Ok(document), Some(owner)) => {
                out.push((document, *owner.individual.meta.id.as_uuid()))
            }
            _ => errors.push(
                format!("documents[{n}].person_key"),
                code::NOT_ALLOWED,
                format!(
                    "{} belongs to someone no longer in this household. Remove it, or add the person back.",
                    d.file_name
                ),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(VaultError::Invalid(errors).into());
    }
    Ok(out)
}

/// What the registry is asked before the household is saved (online only): one check per
/// person typed in (not one linked to an existing record).
pub struct RegistryAsk {
    pub person_key: String,
    pub check: doorstep_domain::api::DuplicateCheck,
}

/// The registry's checks to make for registration `id`; none when it still has problems (saving
/// reports those).
pub fn registry_asks(partition: &Partition, id: &str) -> Result<Vec<RegistryAsk>, AppError> {
    let registration = load(partition, id)?;
    let Ok(people) = build_people(&registration, RegistrationStep::Review, today(), Ok(())) else {
        return Ok(Vec::new());
    };
    Ok(people
        .into_iter()
        .filter(|p| !p.linked)
        .map(|p| RegistryAsk {
            person_key: p.key,
            check: doorstep_domain::api::DuplicateCheck {
                person: serde_json::to_value(&p.individual).expect("a person serialises"),
                phones: p.phone.into_iter().collect(),
            },
        })
        .collect())
}

/// "Is this the same person?" for the first person the registry finds likely to be someone
/// this device does not hold (someone on the device was asked about already, from the
/// caseload), leaving out those the agent said are someone else.
pub fn registry_question(
    partition: &Partition,
    id: &str,
    found: Vec<(String, Vec<Match>)>,
) -> Result<Option<RegistrationSaved>, AppError> {
    let registration = load(partition, id)?;
    for (key, matches) in found {
        let Some(person) = people_of(&registration).find(|p| p.key == key) else {
            continue;
        };
        let Ok((typed, phone)) = person_of(person, today()) else {
            continue;
        };
        let mut candidates = Vec::new();
        for m in matches {
            let other = *m.id.as_uuid();
            if person.not_duplicate_of.contains(&other.to_string())
                || partition.get::<Individual>(other)?.is_some()
            {
                continue;
            }
            let mut fields = compare_fields(&typed, phone.as_deref(), &typed, None);
            for field in &mut fields {
                field.existing = None;
                field.differs = false;
            }
            candidates.push(DuplicateCandidate {
                id: other.to_string(),
                name: String::new(),
                on_device: false,
                score: m.score,
                reasons: m.reasons,
                fields,
            });
        }
        if !candidates.is_empty() {
            candidates.truncate(5);
            return Ok(Some(RegistrationSaved::SamePerson {
                registration,
                question: DuplicateQuestion {
                    person_key: key,
                    candidates,
                },
            }));
        }
    }
    Ok(None)
}

/// Give every person a key (their future record id) the first time they are saved.
fn mint_keys(registration: &mut Registration) {
    for person in std::iter::once(&mut registration.head)
        .chain(registration.members.iter_mut().map(|m| &mut m.person))
    {
        if person.key.parse::<Uuid>().is_err() {
            person.key = Uuid::now_v7().to_string();
        }
    }
}

fn name_of(person: &PersonInput) -> String {
    [person.given_name.trim(), person.family_name.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A person of the registration, checked and turned into the record they will be.
struct Person {
    /// `head` or `members[<n>].person`: where their fields' problems are reported.
    path: String,
    key: String,
    individual: Individual,
    /// E.164.
    phone: Option<String>,
    relationship: MembershipKind,
    /// An existing record the agent said this person is.
    linked: bool,
    not_duplicate_of: Vec<Uuid>,
}

/// The people entered up to `step` (the head alone before the members step), each checked;
/// every problem of every person is reported at once, by field path, with the address's areas'
/// (`areas`, from [`super::areas::check`]): the head's step shows both.
fn build_people(
    registration: &Registration,
    step: RegistrationStep,
    today: Date,
    areas: Result<(), ValidationErrors>,
) -> Result<Vec<Person>, AppError> {
    let mut errors = ValidationErrors::new();
    errors.merge(areas);
    let mut people = Vec::new();
    let head = std::iter::once(("head".to_owned(), &registration.head, MembershipKind::Head));
    let members = registration
        .members
        .iter()
        .enumerate()
        .map(|(n, m)| (format!("members[{n}].person"), &m.person, m.relationship));
    let entered: Vec<_> = if step == RegistrationStep::Head {
        head.collect()
    } else {
        head.chain(members).collect()
    };
    for (n, (path, input, relationship)) in entered.into_iter().enumerate() {
        if n > 0 && relationship == MembershipKind::Head {
            errors.push(
                format!("members[{}].relationship", n - 1),
                code::MULTIPLE_HEADS,
                "A household has one head, entered first. Choose how this member is related to the head.",
            );
        }
        match person_of(input, today) {
            Ok((individual, phone)) => people.push(Person {
                path,
                key: input.key.clone(),
                individual,
                phone,
                relationship,
                linked: input.same_as.is_some(),
                not_duplicate_of: input
                    .not_duplicate_of
                    .iter()
                    .filter_map(|id| id.parse().ok())
                    .collect(),
            }),
            Err(problems) => errors.nest(&path, Err(problems)),
        }
    }
    // The same ID number twice in one household is a typing slip or one person entered twice.
    let mut seen = HashSet::new();
    for person in &people {
        for id in &person.individual.reg_ids {
            if !seen.insert((id.id_type.clone(), id.value.clone())) {
                errors.push(
                    format!("{}.national_id", person.path),
                    code::DUPLICATE,
                    "Two people of this household have the same ID number. Check it against their card.",
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(VaultError::Invalid(errors).into());
    }
    Ok(people)
}

/// The record `input` describes, or every problem with it (field names as the record's).
fn person_of(
    input: &PersonInput,
    today: Date,
) -> Result<(Individual, Option<String>), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let id = match input
        .same_as
        .as_deref()
        .unwrap_or(&input.key)
        .parse::<Uuid>()
    {
        Ok(id) => id,
        Err(_) => {
            errors.push(
                "key",
                code::INVALID_FORMAT,
                "Save the person again: their record id is missing.",
            );
            Uuid::nil()
        }
    };
    let meta = RecordMeta::new(
        RecordId::from_uuid(id),
        OffsetDateTime::now_utc(),
        ActorId::new("agent"),
    );
    let mut person = Individual::new(meta, input.given_name.trim(), input.family_name.trim());
    person.addl_name = input
        .addl_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    person.gender = input.gender;
    person.disability = input.disability;
    person.birthdate_not_exact = input.birthdate_not_exact;
    match input
        .birthdate
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => {}
        Some(text) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            match Date::parse(text, &format) {
                Ok(date) if date > today => errors.push(
                    "birthdate",
                    code::OUT_OF_RANGE,
                    "The date of birth cannot be in the future.",
                ),
                Ok(date) if today.year() - date.year() > 130 => errors.push(
                    "birthdate",
                    code::OUT_OF_RANGE,
                    "The date of birth is more than 130 years ago. Check the year.",
                ),
                Ok(date) => person.birthdate = Some(date),
                Err(_) => errors.push(
                    "birthdate",
                    code::INVALID_FORMAT,
                    "Write the date of birth as year-month-day, for example 1988-04-12.",
                ),
            }
        }
    }
    let ids = input
        .national_id
        .iter()
        .map(|v| (NATIONAL_ID, v.as_str(), "national_id".to_owned()))
        .chain(input.other_ids.iter().enumerate().map(|(n, id)| {
            (
                id.id_type.as_str(),
                id.value.as_str(),
                format!("other_ids[{n}].value"),
            )
        }));
    for (id_type, value, field) in ids {
        match normalize_id_number(value) {
            Ok(None) => {}
            Ok(Some(number)) => person.reg_ids.push(RegistrantId {
                id_type: IdTypeCode::new(id_type.trim()),
                value: number,
                expiry_date: None,
                // Typed by the agent from the card in hand; the office verifies.
                status: IdStatus::Unverified,
            }),
            Err(code) => errors.push(
                field,
                code,
                "Write the ID number as printed: letters and digits (spaces and dashes are left out).",
            ),
        }
    }
    let phone = match input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match normalize_phone_number(text, None) {
            Some(number) => Some(number),
            None => {
                errors.push(
                    "phone",
                    code::INVALID_FORMAT,
                    "Write the phone number with + and the country code, for example +254712345678.",
                );
                None
            }
        },
    };
    person.not_duplicate_of = input
        .not_duplicate_of
        .iter()
        .filter_map(|id| id.parse().ok())
        .map(RecordId::from_uuid)
        .collect();
    errors.merge(person.validate());
    errors.into_result().map(|()| (person, phone))
}

fn check_account(registration: &Registration) -> Result<(), AppError> {
    if registration.step < RegistrationStep::Account {
        return Ok(());
    }
    if let Some(input) = &registration.account {
        let meta = RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            OffsetDateTime::now_utc(),
            ActorId::new("agent"),
        );
        account_of(input, RecordId::from_uuid(Uuid::now_v7()), meta)?;
    }
    Ok(())
}

/// The head's payment account from what was typed, checked by the domain's rules.
fn account_of(
    input: &AccountInput,
    owner: RecordId,
    meta: RecordMeta,
) -> Result<FinancialAccount, AppError> {
    let number = input.account_number.trim();
    let account_number = match input.kind {
        AccountKind::MobileWallet => normalize_phone_number(number, None).ok_or_else(|| {
            let mut errors = ValidationErrors::new();
            errors.push("account.account_number", code::INVALID_FORMAT, "Write the wallet's phone number with + and the country code, for example +254712345678.");
            AppError::from(VaultError::Invalid(errors))
        })?,
        AccountKind::BankAccount => number.replace(' ', "").to_uppercase(),
        AccountKind::EmailWallet => number.to_owned(),
    };
    let account = FinancialAccount {
        meta,
        registrant_id: owner,
        kind: input.kind,
        provider_code: input.provider_code.trim().to_owned(),
        account_number,
        holder_name: input.holder_name.trim().to_owned(),
        verification_status: VerificationStatus::Unverified,
        preferred_for_payments: true,
        review: None,
    };
    let mut errors = ValidationErrors::new();
    errors.nest("account", account.validate());
    errors.into_result().map_err(VaultError::Invalid)?;
    Ok(account)
}

fn address_of(details: &AddressDetails) -> Address {
    let text = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Address {
        line1: text(&details.line1),
        line2: text(&details.line2),
        locality: text(&details.locality),
        admin_areas: details.admin_areas.clone(),
        postal_code: text(&details.postal_code),
        country: details.country.trim().to_uppercase(),
        geo: None,
    }
}

/// The first person (head first) who looks like someone on this device and has not been
/// answered for, with everyone they look like.
fn question(
    partition: &Partition,
    caseload: &Caseload,
    people: &[Person],
) -> Result<Option<DuplicateQuestion>, AppError> {
    for person in people.iter().filter(|p| !p.linked) {
        let facts = PersonFacts::new(&person.individual, person.phone.as_slice());
        let mut except = person.not_duplicate_of.clone();
        except.push(*person.individual.meta.id.as_uuid());
        let found: Vec<Match> = caseload.likely_duplicates(&facts, &except);
        if found.is_empty() {
            continue;
        }
        let mut candidates = Vec::new();
        for m in found.into_iter().take(5) {
            let Some(existing) = partition.get::<Individual>(*m.id.as_uuid())? else {
                continue;
            };
            let phone = caseload
                .summary(*m.id.as_uuid())
                .and_then(|s| s.phone.clone());
            candidates.push(DuplicateCandidate {
                id: m.id.to_string(),
                name: existing.display_name(),
                on_device: true,
                score: m.score,
                reasons: m.reasons,
                fields: compare_fields(
                    &person.individual,
                    person.phone.as_deref(),
                    &existing,
                    phone.as_deref(),
                ),
            });
        }
        if !candidates.is_empty() {
            return Ok(Some(DuplicateQuestion {
                person_key: person.key.clone(),
                candidates,
            }));
        }
    }
    Ok(None)
}

fn compare_fields(
    typed: &Individual,
    typed_phone: Option<&str>,
    existing: &Individual,
    existing_phone: Option<&str>,
) -> Vec<ComparedField> {
    let national = |p: &Individual| {
        p.id_of_type(&IdTypeCode::new(NATIONAL_ID))
            .map(|r| r.value.clone())
    };
    let gender = |p: &Individual| {
        p.gender
            .and_then(|g| serde_json::to_value(g).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let rows = [
        (
            "givenName",
            text(&typed.given_name),
            text(&existing.given_name),
        ),
        (
            "familyName",
            text(&typed.family_name),
            text(&existing.family_name),
        ),
        (
            "birthdate",
            typed.birthdate.map(|d| d.to_string()),
            existing.birthdate.map(|d| d.to_string()),
        ),
        ("nationalId", national(typed), national(existing)),
        (
            "phone",
            typed_phone.map(str::to_owned),
            existing_phone.map(str::to_owned),
        ),
        ("gender", gender(typed), gender(existing)),
    ];
    rows.into_iter()
        .map(|(field, typed, existing)| ComparedField {
            field: field.to_owned(),
            differs: typed.as_deref().map(str::to_lowercase)
                != existing.as_deref().map(str::to_lowercase),
            typed,
            existing,
        })
        .collect()
}

#[cfg(test)]
mod tests;
