//! From a JSON body to a checked record: which collection a URL names, parsing into the domain
//! type, validation, the records it points to, and the index the store keeps for it.
//!
//! Everything here is pure: lookups of referenced records are done by the caller
//! ([`crate::api::records`]) and passed back in.

use std::collections::BTreeSet;

use doorstep_domain::group::MembershipKind;
use doorstep_domain::{
    Application, Contact, Document, FieldError, FinancialAccount, Group, IdType, Individual,
    LivenessCheck, Membership, Notification, Programme, RecordKind, Validate,
};
use doorstep_domain::{FormDefinition, RecordMeta};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::storage::model::{RecordIndex, UNIQUE_KEY_PREFIX};

/// A collection of the `/v1` API and the record kind it holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Collection {
    Individuals,
    Contacts,
    Groups,
    Memberships,
    FinancialAccounts,
    Documents,
    IdTypes,
    Programmes,
    Forms,
    Applications,
    Notifications,
    LivenessChecks,
}

impl Collection {
    pub const ALL: [Collection; 12] = [
        Collection::Individuals,
        Collection::Contacts,
        Collection::Groups,
        Collection::Memberships,
        Collection::FinancialAccounts,
        Collection::Documents,
        Collection::IdTypes,
        Collection::Programmes,
        Collection::Forms,
        Collection::Applications,
        Collection::Notifications,
        Collection::LivenessChecks,
    ];

    pub fn kind(self) -> RecordKind {
        match self {
            Collection::Individuals => RecordKind::Individual,
            Collection::Contacts => RecordKind::Contact,
            Collection::Groups => RecordKind::Group,
            Collection::Memberships => RecordKind::Membership,
            Collection::FinancialAccounts => RecordKind::FinancialAccount,
            Collection::Documents => RecordKind::Document,
            Collection::IdTypes => RecordKind::IdType,
            Collection::Programmes => RecordKind::Programme,
            Collection::Forms => RecordKind::FormDefinition,
            Collection::Applications => RecordKind::Application,
            Collection::Notifications => RecordKind::Notification,
            Collection::LivenessChecks => RecordKind::LivenessCheck,
        }
    }

    pub fn of_kind(kind: RecordKind) -> Collection {
        *Collection::ALL
            .iter()
            .find(|c| c.kind() == kind)
            .expect("every kind has a collection")
    }

    /// The URL segment, e.g. `financial-accounts`.
    pub fn segment(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .expect("unit variants serialise to strings")
    }

    pub fn parse(segment: &str) -> Option<Collection> {
        serde_json::from_value(serde_json::Value::String(segment.to_owned())).ok()
    }
}

/// A parsed, validated record of any kind.
#[derive(Debug, Clone)]
pub enum Typed {
    Individual(Individual),
    Contact(Contact),
    Group(Group),
    Membership(Membership),
    FinancialAccount(FinancialAccount),
    Document(Document),
    IdType(IdType),
    Programme(Programme),
    FormDefinition(FormDefinition),
    Application(Application),
    Notification(Notification),
    LivenessCheck(LivenessCheck),
}

/// Why a body is not a record of the kind asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyError {
    /// Not an object, wrong types, missing fields: serde's message.
    Shape(String),
    /// Fields the record does not have (a typo would otherwise be silently dropped).
    UnknownFields(Vec<String>),
    /// Breaks a rule of the domain model.
    Invalid(Vec<FieldError>),
}

/// Parse `body` as a record of `kind` and validate it. Returns the record and its normalised
/// JSON (what the store keeps).
pub fn parse(
    kind: RecordKind,
    body: serde_json::Value,
) -> Result<(Typed, serde_json::Value), BodyError> {
    Ok(match kind {
        RecordKind::Individual => typed(body, Typed::Individual)?,
        RecordKind::Contact => typed(body, Typed::Contact)?,
        RecordKind::Group => typed(body, Typed::Group)?,
        RecordKind::Membership => typed(body, Typed::Membership)?,
        RecordKind::FinancialAccount => typed(body, Typed::FinancialAccount)?,
        RecordKind::Document => typed(body, Typed::Document)?,
        RecordKind::IdType => typed(body, Typed::IdType)?,
        RecordKind::Programme => typed(body, Typed::Programme)?,
        RecordKind::FormDefinition => typed(body, Typed::FormDefinition)?,
        RecordKind::Application => typed(body, Typed::Application)?,
        RecordKind::Notification => typed(body, Typed::Notification)?,
        RecordKind::LivenessCheck => typed(body, Typed::LivenessCheck)?,
    })
}

fn typed<T: DeserializeOwned + Serialize + Validate>(
    body: serde_json::Value,
    wrap: fn(T) -> Typed,
) -> Result<(Typed, serde_json::Value), BodyError> {
    if !body.is_object() {
        return Err(BodyError::Shape("the body must be a JSON object".into()));
    }
    let record: T =
        serde_json::from_value(body.clone()).map_err(|e| BodyError::Shape(e.to_string()))?;
    let normalised = serde_json::to_value(&record).expect("domain records serialise");
    // The domain types flatten their metadata, which rules out serde's deny_unknown_fields;
    // comparing top-level keys with what the type writes back finds the same mistakes.
    let unknown: Vec<String> = body
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| normalised.get(k.as_str()).is_none())
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(BodyError::UnknownFields(unknown));
    }
    record
        .validate()
        .map_err(|errors| BodyError::Invalid(errors.iter().cloned().collect()))?;
    Ok((wrap(record), normalised))
}

impl Typed {
    pub fn meta(&self) -> &RecordMeta {
        match self {
            Typed::Individual(r) => &r.meta,
            Typed::Contact(r) => &r.meta,
            Typed::Group(r) => &r.meta,
            Typed::Membership(r) => &r.meta,
            Typed::FinancialAccount(r) => &r.meta,
            Typed::Document(r) => &r.meta,
            Typed::IdType(r) => &r.meta,
            Typed::Programme(r) => &r.meta,
            Typed::FormDefinition(r) => &r.meta,
            Typed::Application(r) => &r.meta,
            Typed::Notification(r) => &r.meta,
            Typed::LivenessCheck(r) => &r.meta,
        }
    }

    pub fn id(&self) -> Uuid {
        *self.meta().id.as_uuid()
    }

    /// Records this one points to, which must exist (and which the writer must be allowed to
    /// see): a contact's registrant, a membership's group and individual, ….
    pub fn references(&self) -> Vec<Reference> {
        let r = |field: &'static str,
                 id: &doorstep_domain::RecordId,
                 kinds: &'static [RecordKind]| Reference {
            field,
            id: *id.as_uuid(),
            kinds,
        };
        const INDIVIDUAL: &[RecordKind] = &[RecordKind::Individual];
        match self {
            Typed::Individual(_) | Typed::Group(_) | Typed::IdType(_) | Typed::Programme(_) => {
                vec![]
            }
            Typed::Contact(c) => vec![r("registrant_id", &c.registrant_id, INDIVIDUAL)],
            Typed::Membership(m) => vec![
                r("group_id", &m.group_id, &[RecordKind::Group]),
                r("individual_id", &m.individual_id, INDIVIDUAL),
            ],
            Typed::FinancialAccount(f) => vec![r("registrant_id", &f.registrant_id, INDIVIDUAL)],
            Typed::Document(d) => vec![r(
                "linked_record",
                &d.linked_record,
                &[
                    RecordKind::Individual,
                    RecordKind::Group,
                    RecordKind::Application,
                ],
            )],
            Typed::FormDefinition(f) => {
                vec![r("programme_id", &f.programme_id, &[RecordKind::Programme])]
            }
            Typed::Application(a) => vec![
                r("programme_id", &a.programme_id, &[RecordKind::Programme]),
                r("applicant_id", &a.applicant_id, INDIVIDUAL),
            ],
            Typed::Notification(n) => vec![r("recipient_id", &n.recipient_id, INDIVIDUAL)],
            Typed::LivenessCheck(l) => vec![r("individual_id", &l.individual_id, INDIVIDUAL)],
        }
    }

    /// The store index of this record. `referenced` holds the index of each record in
    /// [`Typed::references`] (same order); `area` is where a new record is filed when none of
    /// them has an area.
    pub fn index(&self, referenced: &[RecordIndex], area: Option<String>) -> RecordIndex {
        let id = self.id();
        let first = referenced.first();
        let inherited_area = referenced.iter().find_map(|r| r.area.clone()).or(area);
        let mut index = RecordIndex {
            area: inherited_area,
            ..RecordIndex::default()
        };
        match self {
            Typed::Individual(i) => {
                index.owner_id = Some(id);
                index.search_text = search_text([
                    i.given_name.as_str(),
                    i.family_name.as_str(),
                    i.addl_name.as_deref().unwrap_or(""),
                ]);
                for reg in &i.reg_ids {
                    index
                        .keys
                        .push(format!("id:{}:{}", reg.id_type.as_str(), reg.value));
                    index.keys.push(format!("regid:{}", reg.value));
                    // One person per ID number and type.
                    index.keys.push(format!(
                        "{UNIQUE_KEY_PREFIX}id:{}:{}",
                        reg.id_type.as_str(),
                        reg.value
                    ));
                }
                // Where the registry's duplicate check finds this person.
                index.keys.extend(crate::duplicates::index_keys(i));
            }
            Typed::Contact(c) => {
                index.owner_id = Some(*c.registrant_id.as_uuid());
                for phone in &c.phones {
                    index.keys.push(format!("phone:{}", phone.number_e164));
                }
                for email in &c.emails {
                    index.keys.push(format!("email:{}", email.to_lowercase()));
                }
            }
            Typed::Group(g) => {
                index.group_id = Some(id);
                index.search_text = search_text([g.name.as_str()]);
            }
            Typed::Membership(m) => {
                index.owner_id = Some(*m.individual_id.as_uuid());
                index.group_id = Some(*m.group_id.as_uuid());
                if m.kind == MembershipKind::Head && m.end_date.is_none() {
                    index
                        .keys
                        .push(format!("{UNIQUE_KEY_PREFIX}head:{}", m.group_id));
                }
            }
            Typed::FinancialAccount(f) => {
                index.owner_id = Some(*f.registrant_id.as_uuid());
                if f.preferred_for_payments {
                    index
                        .keys
                        .push(format!("{UNIQUE_KEY_PREFIX}preferred:{}", f.registrant_id));
                }
            }
            Typed::Document(d) => {
                // A document is about whoever its linked record is about.
                index.owner_id = first.and_then(|r| r.owner_id);
                index.group_id = first.and_then(|r| r.group_id);
                index.parent_id = Some(*d.linked_record.as_uuid());
                index.keys.push(format!("blob:{}", d.sha256));
                if d.kind == doorstep_domain::document::DocumentKind::Consent {
                    index
                        .keys
                        .push(crate::api::consent::consent_key(d.linked_record));
                }
                index.state = Some(d.verification_status.as_str().to_owned());
            }
            Typed::IdType(t) => {
                index.area = None;
                index.search_text = search_text([t.name.as_str()]);
                index
                    .keys
                    .push(format!("{UNIQUE_KEY_PREFIX}id-type:{}", t.code.as_str()));
            }
            Typed::Programme(p) => {
                index.area = None;
                index.search_text = search_text([p.name.as_str(), p.code.as_str()]);
                index
                    .keys
                    .push(format!("{UNIQUE_KEY_PREFIX}code:{}", p.code));
                // Its closing day, for the scheduler's deadline reminders
                // (`Store::drafts_closing`).
                index.state = p
                    .applications_close_on
                    .map(doorstep_domain::date_format::format);
            }
            Typed::FormDefinition(f) => {
                index.area = None;
                index.parent_id = Some(*f.programme_id.as_uuid());
                index.keys.push(format!(
                    "{UNIQUE_KEY_PREFIX}form:{}:{}",
                    f.programme_id, f.version
                ));
            }
            Typed::Application(a) => {
                index.owner_id = Some(*a.applicant_id.as_uuid());
                index.parent_id = Some(*a.programme_id.as_uuid());
                index.area = referenced
                    .get(1)
                    .and_then(|r| r.area.clone())
                    .or(index.area);
                (index.state, index.state_since) = application_state(a);
            }
            Typed::Notification(n) => {
                index.owner_id = Some(*n.recipient_id.as_uuid());
                index.parent_id = n.related_record.map(|r| *r.as_uuid());
            }
            Typed::LivenessCheck(l) => {
                index.owner_id = Some(*l.individual_id.as_uuid());
                // A passed check's due day, for the scheduler's reminders (`Store::liveness_due`).
                if l.is_passed() {
                    index.state = l.next_due.map(doorstep_domain::date_format::format);
                }
            }
        }
        let unique: BTreeSet<String> = index.keys.drain(..).collect();
        index.keys = unique.into_iter().collect();
        index
    }
}

/// An application's place in the review queue: its status, and since when (its last status
/// change, made by the registry's clock in `POST /v1/applications/{id}/transitions`); a draft
/// has no such time and is never queued.
pub fn application_state(a: &Application) -> (Option<String>, Option<time::OffsetDateTime>) {
    (
        Some(a.status.as_str().to_owned()),
        a.status_history.last().map(|change| change.at),
    )
}

/// A field of a record that names another record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub id: Uuid,
    /// Kinds the referenced record may be.
    pub kinds: &'static [RecordKind],
}

fn search_text<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta() -> serde_json::Value {
        json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-1234567890ab",
            "created_at": "2024-05-01T08:30:00Z",
            "updated_at": "2024-05-01T08:30:00Z",
            "created_by": "agent:wanjiru"
        })
    }

    fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn the_domains_collection_names_are_the_registrys() {
        use doorstep_domain::api::collections;
        assert_eq!(
            Collection::parse(collections::PROGRAMMES),
            Some(Collection::Programmes)
        );
        assert_eq!(
            Collection::parse(collections::FORMS),
            Some(Collection::Forms)
        );
    }

    #[test]
    fn collections_round_trip_their_segments() {
        for c in Collection::ALL {
            assert_eq!(Collection::parse(&c.segment()), Some(c));
            assert_eq!(Collection::of_kind(c.kind()), c);
        }
        assert_eq!(
            Collection::FinancialAccounts.segment(),
            "financial-accounts"
        );
        assert_eq!(Collection::parse("../etc"), None);
    }

    #[test]
    fn unknown_fields_are_named() {
        let body = with(
            meta(),
            json!({"given_name": "Amina", "family_name": "Odhiambo", "shoe_size": 41}),
        );
        assert_eq!(
            parse(RecordKind::Individual, body).unwrap_err(),
            BodyError::UnknownFields(vec!["shoe_size".into()])
        );
    }

    #[test]
    fn wrong_types_and_rule_breaks_are_told_apart() {
        let body = with(meta(), json!({"given_name": 7, "family_name": "Odhiambo"}));
        assert!(matches!(
            parse(RecordKind::Individual, body),
            Err(BodyError::Shape(_))
        ));
        let body = with(meta(), json!({"given_name": "", "family_name": ""}));
        assert!(matches!(
            parse(RecordKind::Individual, body),
            Err(BodyError::Invalid(_))
        ));
        assert!(matches!(
            parse(RecordKind::Individual, json!([1])),
            Err(BodyError::Shape(_))
        ));
    }

    #[test]
    fn individuals_are_indexed_by_name_and_ids() {
        let body = with(
            meta(),
            json!({"given_name": "Amina", "family_name": "Odhiambo",
                   "reg_ids": [{"id_type": "national_id", "value": "12345678"}]}),
        );
        let (record, _) = parse(RecordKind::Individual, body).unwrap();
        let index = record.index(&[], Some("KE.30".into()));
        assert_eq!(index.owner_id, Some(record.id()));
        assert_eq!(index.search_text, "amina odhiambo");
        assert_eq!(index.area.as_deref(), Some("KE.30"));
        assert!(
            index.keys.contains(&"regid:12345678".to_string()),
            "{:?}",
            index.keys
        );
        assert!(index.keys.iter().any(|k| k.starts_with(UNIQUE_KEY_PREFIX)));
    }
}
