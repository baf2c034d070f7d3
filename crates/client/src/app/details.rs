//! The person's own record: their registration the first time, their profile afterwards.
//!
//! "Me" is the individual whose national ID the identity provider vouched for (eSignet's
//! `individual_id`), or the one this device created for them; its id is remembered in the vault
//! (encrypted) under [`ME_KEY`] so an offline unlock, without the provider's claims, finds it.

use doorstep_domain::contact::{Address, AdminArea, Contact, ContactChannel, Phone, PhoneKind};
use doorstep_domain::id_type::{IdStatus, RegistrantId};
use doorstep_domain::ids::{ActorId, IdTypeCode, RecordId};
use doorstep_domain::individual::Individual;
use doorstep_domain::record::{RecordKind, RecordMeta};
use doorstep_domain::validate::email::is_valid_email;
use doorstep_domain::validate::normalize_phone_number;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition};

/// Vault key (in the drafts table) holding `{"individual": "<uuid>"}`.
pub const ME_KEY: &str = "app:me";
/// ID type under which the provider's `individual_id` is recorded.
pub const NATIONAL_ID: &str = "national_id";

/// What the person fills in on the profile screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MyDetails {
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    /// As typed; stored in E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// BCP 47 tag, e.g. `en`, `fr`, `ar`.
    pub preferred_language: Option<String>,
    /// Where the person lives; `None` leaves no address (or removes it).
    #[serde(default)]
    pub address: Option<AddressDetails>,
    /// Channels the person does not want the registry's messages sent through, of the two the
    /// form offers (`email`, `sms`: "Send me messages by e-mail / by text message" unticked).
    /// The registry honours it when it writes a notification's outbox rows; messages in the
    /// app are always kept. Opt-outs of other channels recorded by the office stay as they are.
    #[serde(default)]
    pub opted_out: Vec<ContactChannel>,
}

/// The channels the details form lets the person turn off.
pub const FORM_CHANNELS: [ContactChannel; 2] = [ContactChannel::Email, ContactChannel::Sms];

/// The part of an address a person types or picks. A GPS point recorded by the office is kept
/// as it is when the person edits the rest, and so are the office's administrative areas when
/// none are given (the profile form does not offer them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AddressDetails {
    /// Street and number, plot or building.
    pub line1: Option<String>,
    /// Flat, landmark ("behind the market"), P.O. box.
    pub line2: Option<String>,
    /// Town or village.
    pub locality: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `KE`.
    pub country: String,
    /// Administrative areas, largest first, as picked from the registry's list (registration's
    /// area picker). Absent in drafts kept before the picker existed.
    #[serde(default)]
    pub admin_areas: Vec<AdminArea>,
}

impl AddressDetails {
    fn is_empty(&self) -> bool {
        self.admin_areas.is_empty()
            && [&self.line1, &self.line2, &self.locality, &self.postal_code]
                .into_iter()
                .all(|part| part.as_deref().is_none_or(|p| p.trim().is_empty()))
    }
}

/// What the profile form shows for `person`, from their records.
pub fn details_of(person: &Individual, contact: Option<&Contact>) -> MyDetails {
    MyDetails {
        given_name: person.given_name.clone(),
        family_name: person.family_name.clone(),
        birthdate: person.birthdate.map(|d| d.to_string()),
        phone: contact.and_then(|c| c.active_phones().next().map(|p| p.number_e164.clone())),
        email: contact.and_then(|c| c.emails.first().cloned()),
        preferred_language: person.preferred_language.clone(),
        address: contact
            .and_then(|c| c.address.as_ref())
            .map(|a| AddressDetails {
                line1: a.line1.clone(),
                line2: a.line2.clone(),
                locality: a.locality.clone(),
                postal_code: a.postal_code.clone(),
                country: a.country.clone(),
                admin_areas: a.admin_areas.clone(),
            }),
        opted_out: contact
            .map(|c| {
                c.opted_out
                    .iter()
                    .copied()
                    .filter(|ch| FORM_CHANNELS.contains(ch))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The opt-outs to record: the office's of other channels kept, the form's two as chosen. A
/// channel the person leaves stops being their preferred one (the registry refuses a preferred
/// channel they opted out of; their choice is the later word).
fn merged_opt_outs(contact: &mut Contact, chosen: &[ContactChannel]) {
    let mut opted: Vec<ContactChannel> = contact
        .opted_out
        .iter()
        .copied()
        .filter(|ch| !FORM_CHANNELS.contains(ch))
        .collect();
    for ch in FORM_CHANNELS {
        if chosen.contains(&ch) {
            opted.push(ch);
        }
    }
    // Kept in the stored order where unchanged, so an unchanged form changes nothing.
    let same = opted.len() == contact.opted_out.len()
        && opted.iter().all(|ch| contact.opted_out.contains(ch));
    if !same {
        contact.opted_out = opted;
    }
    if contact
        .preferred_channel
        .is_some_and(|p| contact.opted_out.contains(&p))
    {
        contact.preferred_channel = None;
    }
}

/// The address to record: the typed parts over what the office recorded (areas, GPS point).
fn merged_address(typed: Option<&AddressDetails>, old: Option<&Address>) -> Option<Address> {
    let typed = typed.filter(|a| !a.is_empty())?;
    let clean = |part: &Option<String>| {
        part.as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    };
    Some(Address {
        line1: clean(&typed.line1),
        line2: clean(&typed.line2),
        locality: clean(&typed.locality),
        postal_code: clean(&typed.postal_code),
        country: typed.country.trim().to_uppercase(),
        admin_areas: match typed.admin_areas.is_empty() {
            true => old.map(|a| a.admin_areas.clone()).unwrap_or_default(),
            false => typed.admin_areas.clone(),
        },
        geo: old.and_then(|a| a.geo),
    })
}

/// The person's individual record, if the vault has one.
pub fn find_me(partition: &Partition, session: Who<'_>) -> Result<Option<Individual>, AppError> {
    // An agent serving someone works on that person's records.
    if let Some(id) = session.acting_for {
        return match partition.get::<Individual>(id)? {
            Some(person) => Ok(Some(person)),
            None => Err(refused(
                "personUnknown",
                "That person is not on this device.",
            )),
        };
    }
    if let Some(id) = partition.draft(ME_KEY)?.and_then(|v| {
        v["individual"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
    }) {
        if let Some(me) = partition.get::<Individual>(id)? {
            return Ok(Some(me));
        }
    }
    let Some(national) = session.identity().and_then(|i| i.individual_id.clone()) else {
        return Ok(None);
    };
    for stored in partition.records(RecordKind::Individual.as_str())? {
        if stored.deleted_at.is_some() {
            continue;
        }
        let Ok(person) = serde_json::from_value::<Individual>(stored.body) else {
            continue;
        };
        if person.reg_ids.iter().any(|r| r.value == national) {
            partition.save_draft(ME_KEY, &json!({ "individual": stored.id }))?;
            return Ok(Some(person));
        }
    }
    Ok(None)
}

/// Create or update the signed-in person's own individual and contact records.
pub fn save(partition: &Partition, session: Who<'_>, details: &MyDetails) -> Result<(), AppError> {
    let actor = actor_of(session);
    // The provider vouched for the signed-in person's number, not for someone an agent serves.
    let national = match session.acting_for {
        Some(_) => None,
        None => session.identity().and_then(|i| i.individual_id.clone()),
    };
    let existing = find_me(partition, session)?;
    let created = existing.is_none();
    let id = save_individual(partition, &actor, existing, national, details)?;
    if created {
        partition.save_draft(ME_KEY, &json!({ "individual": id }))?;
    }
    Ok(())
}

/// A field agent updates the details of a person they serve. The registry records the change as
/// made by the agent on behalf of that person.
pub fn save_for(
    partition: &Partition,
    session: Who<'_>,
    individual: Uuid,
    details: &MyDetails,
) -> Result<(), AppError> {
    let existing = partition
        .get::<Individual>(individual)?
        .filter(|p| p.meta.deleted_at.is_none())
        .ok_or_else(|| refused("personUnknown", "That person is not on this device."))?;
    save_individual(partition, &actor_of(session), Some(existing), None, details)?;
    Ok(())
}

pub(super) fn actor_of(session: Who<'_>) -> String {
    session
        .identity()
        .map(|i| i.subject.clone())
        .unwrap_or_else(|| "device".into())
}

/// Create (`existing` = None, with `national` as a verified ID) or update an individual and
/// their contact record in one vault transaction; an unchanged form queues nothing. Returns the
/// individual's id.
fn save_individual(
    partition: &Partition,
    actor: &str,
    existing: Option<Individual>,
    national: Option<String>,
    details: &MyDetails,
) -> Result<Uuid, AppError> {
    let now = OffsetDateTime::now_utc();
    let birthdate = match details.birthdate.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_date(text)?),
    };
    let phone = match details.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(normalize_phone_number(text, None).ok_or_else(|| {
            refused(
                "phoneFormat",
                "Write the phone number with + and the country code, for example +254712345678.",
            )
        })?),
    };
    let email = details
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        return Err(refused(
            "emailFormat",
            "The e-mail address looks wrong: write it like name@example.org, with no spaces.",
        ));
    }

    let mut changes = Vec::new();
    let (me, op) = match existing {
        Some(me) => (me, Op::Update),
        None => {
            let meta = RecordMeta::new(new_id(), now, ActorId::new(actor));
            let mut me = Individual::new(meta, "", "");
            if let Some(national) = national {
                me.reg_ids.push(RegistrantId {
                    id_type: IdTypeCode::new(NATIONAL_ID),
                    value: national,
                    expiry_date: None,
                    // The provider checked it when the person signed in.
                    status: IdStatus::Valid,
                });
            }
            (me, Op::Create)
        }
    };
    let before = me.clone();
    let mut me = me;
    me.given_name = details.given_name.trim().to_owned();
    me.family_name = details.family_name.trim().to_owned();
    me.birthdate = birthdate;
    me.preferred_language = details
        .preferred_language
        .clone()
        .filter(|l| !l.trim().is_empty());
    // Saving an unchanged form queues nothing.
    if op == Op::Create || me != before {
        me.meta.touch(now);
        changes.push(Change::of(&me, op, actor)?);
    }

    let contact = contact_of(partition, me.meta.id)?;
    let contact_before = contact.clone();
    let (mut contact, contact_op) = match contact {
        Some(c) => (c, Op::Update),
        None => (
            Contact {
                meta: RecordMeta::new(new_id(), now, ActorId::new(actor)),
                registrant_id: me.meta.id,
                phones: Vec::new(),
                emails: Vec::new(),
                address: None,
                preferred_channel: None,
                opted_out: Vec::new(),
            },
            Op::Create,
        ),
    };
    match phone {
        Some(number) if !contact.phones.iter().any(|p| p.number_e164 == number) => {
            // The new number goes first; older ones stay, marked as no longer used, so the
            // registry keeps the history (numbers get reassigned).
            for old in &mut contact.phones {
                old.disabled = true;
            }
            contact.phones.insert(
                0,
                Phone {
                    id: new_id(),
                    number_e164: number,
                    date_collected: Some(now.date()),
                    kind: PhoneKind::Mobile,
                    disabled: false,
                },
            );
        }
        _ => {}
    }
    // The form shows the first address; typing another replaces it, clearing it removes it.
    match email {
        Some(email) if contact.emails.first() != Some(&email) => {
            if !contact.emails.is_empty() {
                contact.emails.remove(0);
            }
            contact.emails.retain(|e| *e != email);
            contact.emails.insert(0, email);
        }
        None if !contact.emails.is_empty() => {
            contact.emails.remove(0);
        }
        _ => {}
    }
    contact.address = merged_address(details.address.as_ref(), contact.address.as_ref());
    merged_opt_outs(&mut contact, &details.opted_out);
    let has_content =
        !contact.phones.is_empty() || !contact.emails.is_empty() || contact.address.is_some();
    if has_content && contact_before.as_ref() != Some(&contact) {
        contact.meta.touch(now);
        changes.push(Change::of(&contact, contact_op, actor)?);
    }
    if !changes.is_empty() {
        partition.apply_batch(&changes)?;
    }
    Ok(*me.meta.id.as_uuid())
}

/// The contact record of `registrant`, if any.
pub fn contact_of(
    partition: &Partition,
    registrant: RecordId,
) -> Result<Option<Contact>, AppError> {
    for stored in partition.records(RecordKind::Contact.as_str())? {
        if stored.deleted_at.is_some() {
            continue;
        }
        if let Ok(contact) = serde_json::from_value::<Contact>(stored.body) {
            if contact.registrant_id == registrant {
                return Ok(Some(contact));
            }
        }
    }
    Ok(None)
}

pub(super) fn new_id() -> RecordId {
    RecordId::from_uuid(Uuid::now_v7())
}

pub(super) fn parse_date(text: &str) -> Result<time::Date, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).map_err(|_| {
        refused(
            "dateFormat",
            "Write the date of birth as year-month-day, for example 1988-04-12.",
        )
    })?;
    if date > OffsetDateTime::now_utc().date() {
        return Err(refused(
            "dateFuture",
            "The date of birth cannot be in the future.",
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_domain::validate::Validate;
    use ContactChannel::*;

    fn contact(opted_out: Vec<ContactChannel>, preferred: Option<ContactChannel>) -> Contact {
        let mut c: Contact = serde_json::from_value(json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "created_at": "2026-01-01T08:00:00Z", "updated_at": "2026-01-01T08:00:00Z",
            "created_by": "agent:a", "registrant_id": "0190b6a2-8a3e-7c1d-9f00-000000000002",
            "emails": ["a@example.org"],
            "phones": [{"id": "0190b6a2-8a3e-7c1d-9f00-000000000003", "number_e164": "+254712345678", "kind": "mobile"}],
        }))
        .unwrap();
        c.opted_out = opted_out;
        c.preferred_channel = preferred;
        c
    }

    /// The form's two channels as chosen, the office's others kept, a left preferred channel
    /// no longer preferred, an unchanged choice leaving the record as it was.
    #[test]
    fn opt_outs_from_the_form() {
        // (stored, chosen in the form, recorded, preferred channel after)
        type Case = (
            Contact,
            Vec<ContactChannel>,
            Vec<ContactChannel>,
            Option<ContactChannel>,
        );
        let cases: Vec<Case> = vec![
            (contact(vec![], None), vec![Sms], vec![Sms], None),
            (contact(vec![Sms], None), vec![], vec![], None),
            (
                contact(vec![Post], None),
                vec![Email],
                vec![Post, Email],
                None,
            ),
            (contact(vec![Post, Sms], None), vec![], vec![Post], None),
            // Stored order kept when the choice did not change.
            (
                contact(vec![Sms, Email], None),
                vec![Email, Sms],
                vec![Sms, Email],
                None,
            ),
            (contact(vec![], Some(Sms)), vec![Sms], vec![Sms], None),
            (
                contact(vec![], Some(Sms)),
                vec![Email],
                vec![Email],
                Some(Sms),
            ),
        ];
        for (mut c, chosen, opted, preferred) in cases {
            merged_opt_outs(&mut c, &chosen);
            assert_eq!(
                (c.opted_out.clone(), c.preferred_channel),
                (opted, preferred),
                "{chosen:?}"
            );
            assert_eq!(c.validate(), Ok(()));
        }
        assert_eq!(
            details_of(
                &Individual::new(
                    RecordMeta::new(new_id(), OffsetDateTime::now_utc(), ActorId::new("a")),
                    "A",
                    "B"
                ),
                Some(&contact(vec![Post, Sms], None))
            )
            .opted_out,
            [Sms]
        );
    }
}
