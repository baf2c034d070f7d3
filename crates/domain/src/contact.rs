//! How to reach a registrant: phone numbers, e-mail addresses, a postal or geographic address
//! and the channel they prefer.
//!
//! Kept as one record per registrant (individual or group) rather than inside the individual so
//! that updating a phone number, the most frequent edit, does not conflict with other changes to
//! the person made on another device. Phone numbers follow OpenG2P's `phone_number_ids`
//! (`phone_no` in E.164, `date_collected`, `disabled`).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{optional_line, required_line, MAX_LINE_CHARS, MAX_NAME_CHARS};
use crate::validate::{
    code, indexed, is_e164, is_valid_country_code, is_valid_email, Validate, ValidationErrors,
};

/// Deepest administrative level recorded (1 = region/province … 6 = village/ward).
pub const MAX_ADMIN_LEVEL: u8 = 6;
/// Longest postal code accepted; the longest national formats are 10 characters.
pub const MAX_POSTAL_CODE_CHARS: usize = 16;
/// Longest administrative area code accepted.
pub const MAX_ADMIN_CODE_CHARS: usize = 64;

/// A registrant's contact details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Contact {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The individual or group these details belong to.
    pub registrant_id: RecordId,
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// E-mail addresses, most used first.
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub address: Option<Address>,
    /// How the registrant wants to be told about their applications and payments.
    #[serde(default)]
    pub preferred_channel: Option<ContactChannel>,
    /// Channels the registrant asked the registry not to send them messages by (each at most
    /// once). The registry's messages beyond the app — e-mail, and SMS through a gateway — are
    /// never sent through these; notifications in the app are always kept, so `in_app` is not
    /// one to leave, and the preferred channel cannot be left while it stays preferred.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opted_out: Vec<ContactChannel>,
}

impl_record!(Contact, RecordKind::Contact);

impl Contact {
    /// Phone numbers still in use (not disabled).
    pub fn active_phones(&self) -> impl Iterator<Item = &Phone> {
        self.phones.iter().filter(|phone| !phone.disabled)
    }

    /// Whether the registrant asked not to be sent messages through `channel`.
    pub fn opted_out_of(&self, channel: ContactChannel) -> bool {
        self.opted_out.contains(&channel)
    }

    /// Whether the details allow reaching the registrant through `channel`.
    pub fn can_reach_by(&self, channel: ContactChannel) -> bool {
        match channel {
            ContactChannel::Sms => self.active_phones().any(|phone| phone.kind.receives_sms()),
            ContactChannel::PhoneCall => self.active_phones().next().is_some(),
            ContactChannel::Email => !self.emails.is_empty(),
            ContactChannel::Post => self.address.as_ref().is_some_and(Address::is_postal),
            // Reachability in the app depends on the person having signed in, not on these
            // details.
            ContactChannel::InApp => true,
        }
    }
}

impl Validate for Contact {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());

        for (index, phone) in self.phones.iter().enumerate() {
            let path = indexed("phones", index);
            errors.nest(&path, phone.validate());
            let earlier = &self.phones[..index];
            if earlier.iter().any(|other| other.id == phone.id) {
                errors.push(
                    format!("{path}.id"),
                    code::DUPLICATE,
                    "Two phone entries share an id; remove the copy.",
                );
            }
            if earlier
                .iter()
                .any(|other| other.number_e164 == phone.number_e164)
            {
                errors.push(
                    format!("{path}.number_e164"),
                    code::DUPLICATE,
                    "This number is already listed; remove the copy.",
                );
            }
        }

        for (index, email) in self.emails.iter().enumerate() {
            let path = indexed("emails", index);
            if !is_valid_email(email) {
                errors.push(
                    &path,
                    code::INVALID_FORMAT,
                    "Write the e-mail address in full, for example amina@example.org.",
                );
            } else if self.emails[..index]
                .iter()
                .any(|other| other.eq_ignore_ascii_case(email))
            {
                errors.push(
                    &path,
                    code::DUPLICATE,
                    "This e-mail address is already listed; remove the copy.",
                );
            }
        }

        if let Some(address) = &self.address {
            errors.nest("address", address.validate());
        }

        if let Some(channel) = self.preferred_channel {
            if !self.can_reach_by(channel) {
                errors.push(
                    "preferred_channel",
                    code::INCONSISTENT,
                    channel.missing_detail(),
                );
            }
        }

        for (index, channel) in self.opted_out.iter().enumerate() {
            let path = indexed("opted_out", index);
            if *channel == ContactChannel::InApp {
                errors.push(
                    &path,
                    code::NOT_ALLOWED,
                    "Messages in the app cannot be turned off; remove in_app from the list.",
                );
            } else if self.opted_out[..index].contains(channel) {
                errors.push(
                    &path,
                    code::DUPLICATE,
                    "This channel is already listed; remove the copy.",
                );
            } else if self.preferred_channel == Some(*channel) {
                errors.push(
                    &path,
                    code::INCONSISTENT,
                    "This is the preferred way to be contacted; choose another one first, or keep it.",
                );
            }
        }
        errors.into_result()
    }
}

/// One phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Phone {
    /// Identifies this entry within the contact, so edits on two devices merge entry by entry.
    pub id: RecordId,
    /// The number in E.164 form, e.g. `+254712345678` (see
    /// [`crate::validate::normalize_phone_number`] to get there from what people type).
    pub number_e164: String,
    /// When the number was given to the registry; numbers get reassigned, so old ones are
    /// trusted less.
    #[serde(default, with = "crate::date_format::option")]
    pub date_collected: Option<Date>,
    #[serde(default)]
    pub kind: PhoneKind,
    /// The number no longer reaches the registrant but is kept for history and de-duplication.
    #[serde(default)]
    pub disabled: bool,
}

impl Validate for Phone {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.id.is_nil() {
            errors.push("id", code::REQUIRED, "Give the phone entry an id.");
        }
        if self.number_e164.is_empty() {
            errors.push("number_e164", code::REQUIRED, "Enter the phone number.");
        } else if !is_e164(&self.number_e164) {
            errors.push(
                "number_e164",
                code::INVALID_FORMAT,
                "Write the number with + and the country code, for example +254712345678.",
            );
        }
        errors.into_result()
    }
}

/// What kind of line a number is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum PhoneKind {
    /// A mobile phone: can receive SMS and be used for mobile money.
    #[default]
    Mobile,
    /// A fixed line: calls only.
    Landline,
    /// Unknown or shared (e.g. a neighbour's or community phone).
    Other,
}

impl PhoneKind {
    /// Whether an SMS sent to this kind of number may arrive (landlines cannot take SMS).
    pub fn receives_sms(self) -> bool {
        !matches!(self, PhoneKind::Landline)
    }
}

/// Ways to reach a registrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ContactChannel {
    Sms,
    Email,
    PhoneCall,
    Post,
    /// A notification in the Doorstep app.
    InApp,
}

impl ContactChannel {
    /// What to add when this channel is preferred but the details do not support it.
    fn missing_detail(self) -> &'static str {
        match self {
            ContactChannel::Sms => "Add a mobile number that is in use, or choose another way to be contacted.",
            ContactChannel::PhoneCall => "Add a phone number that is in use, or choose another way to be contacted.",
            ContactChannel::Email => "Add an e-mail address, or choose another way to be contacted.",
            ContactChannel::Post => "Add a postal address (street, town or postal code), or choose another way to be contacted.",
            ContactChannel::InApp => "Choose another way to be contacted.",
        }
    }
}

/// A postal and/or geographic address. In places without street addresses a village, its
/// administrative areas and a GPS point are the address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Address {
    /// Street and number, plot, or building.
    #[serde(default)]
    pub line1: Option<String>,
    /// Anything else: flat, landmark ("behind the market"), P.O. box.
    #[serde(default)]
    pub line2: Option<String>,
    /// Town or village.
    #[serde(default)]
    pub locality: Option<String>,
    /// Administrative areas from largest (level 1) to smallest, e.g. county, sub-county, ward.
    #[serde(default)]
    pub admin_areas: Vec<AdminArea>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `KE`.
    pub country: String,
    /// Where the dwelling is, as captured by the device.
    #[serde(default)]
    pub geo: Option<GeoPoint>,
}

impl Address {
    /// Whether post can be addressed with these details.
    pub fn is_postal(&self) -> bool {
        [&self.line1, &self.locality, &self.postal_code]
            .into_iter()
            .flatten()
            .any(|part| !part.trim().is_empty())
    }

    /// The administrative area at `level`, if recorded.
    pub fn admin_area(&self, level: u8) -> Option<&AdminArea> {
        self.admin_areas.iter().find(|area| area.level == level)
    }
}

impl Validate for Address {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !self.is_postal() && self.admin_areas.is_empty() && self.geo.is_none() {
            errors.push(
                "",
                code::REQUIRED,
                "Enter at least a street, a village or town, an area, or a GPS location.",
            );
        }
        optional_line(
            &mut errors,
            "line1",
            "address line",
            self.line1.as_deref(),
            MAX_LINE_CHARS,
        );
        optional_line(
            &mut errors,
            "line2",
            "second address line",
            self.line2.as_deref(),
            MAX_LINE_CHARS,
        );
        optional_line(
            &mut errors,
            "locality",
            "town or village",
            self.locality.as_deref(),
            MAX_LINE_CHARS,
        );

        for (index, area) in self.admin_areas.iter().enumerate() {
            let path = indexed("admin_areas", index);
            errors.nest(&path, area.validate());
            if self.admin_areas[..index]
                .iter()
                .any(|other| other.level == area.level)
            {
                errors.push(
                    format!("{path}.level"),
                    code::DUPLICATE,
                    "This area level is already filled in; keep one area per level.",
                );
            }
        }

        if let Some(postal_code) = &self.postal_code {
            let shape_ok = !postal_code.trim().is_empty()
                && postal_code.chars().count() <= MAX_POSTAL_CODE_CHARS
                && postal_code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
            if !shape_ok {
                errors.push(
                    "postal_code",
                    code::INVALID_FORMAT,
                    format!("Write the postal code with letters, digits, spaces and hyphens only (at most {MAX_POSTAL_CODE_CHARS})."),
                );
            }
        }
        if !is_valid_country_code(&self.country) {
            errors.push(
                "country",
                code::INVALID_FORMAT,
                "Choose the country from the list (a two-letter code such as KE).",
            );
        }
        if let Some(geo) = &self.geo {
            errors.nest("geo", geo.validate());
        }
        errors.into_result()
    }
}

/// A named administrative division (OpenG2P's region/district), e.g. level 1 "Kisumu County".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AdminArea {
    /// 1 for the largest division below the country, up to [`MAX_ADMIN_LEVEL`].
    pub level: u8,
    /// The government's code for the area (e.g. `KE-042`), used for matching and reporting.
    pub code: String,
    /// The area's name, for people.
    pub name: String,
}

impl Validate for AdminArea {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(1..=MAX_ADMIN_LEVEL).contains(&self.level) {
            errors.push(
                "level",
                code::OUT_OF_RANGE,
                format!("Use an area level from 1 to {MAX_ADMIN_LEVEL}."),
            );
        }
        required_line(
            &mut errors,
            "code",
            "area code",
            &self.code,
            MAX_ADMIN_CODE_CHARS,
        );
        required_line(&mut errors, "name", "area name", &self.name, MAX_NAME_CHARS);
        errors.into_result()
    }
}

/// A WGS 84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GeoPoint {
    /// −90 (south pole) to 90 (north pole).
    pub latitude: f64,
    /// −180 to 180, east positive.
    pub longitude: f64,
}

impl Validate for GeoPoint {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        // `contains` is false for NaN, so non-numbers are refused too.
        if !(-90.0..=90.0).contains(&self.latitude) {
            errors.push(
                "latitude",
                code::OUT_OF_RANGE,
                "Latitude must be between -90 and 90 degrees; capture the location again.",
            );
        }
        if !(-180.0..=180.0).contains(&self.longitude) {
            errors.push(
                "longitude",
                code::OUT_OF_RANGE,
                "Longitude must be between -180 and 180 degrees; capture the location again.",
            );
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use crate::test_support::id;
    use time::macros::{date, datetime};

    fn phone(n: u8, number: &str) -> Phone {
        Phone {
            id: id(n),
            number_e164: number.into(),
            date_collected: Some(date!(2024 - 05 - 01)),
            kind: PhoneKind::Mobile,
            disabled: false,
        }
    }

    fn village() -> Address {
        Address {
            line1: None,
            line2: Some("Behind the market".into()),
            locality: Some("Kombewa".into()),
            admin_areas: vec![
                AdminArea {
                    level: 1,
                    code: "KE-017".into(),
                    name: "Kisumu".into(),
                },
                AdminArea {
                    level: 2,
                    code: "KE-017-03".into(),
                    name: "Kisumu West".into(),
                },
            ],
            postal_code: Some("40102".into()),
            country: "KE".into(),
            geo: Some(GeoPoint {
                latitude: -0.1,
                longitude: 34.5,
            }),
        }
    }

    fn contact() -> Contact {
        Contact {
            meta: RecordMeta::new(id(1), datetime!(2024-05-01 8:00 UTC), ActorId::new("agent")),
            registrant_id: id(2),
            phones: vec![phone(3, "+254712345678")],
            emails: vec!["amina@example.org".into()],
            address: Some(village()),
            preferred_channel: Some(ContactChannel::Sms),
            opted_out: vec![ContactChannel::Email],
        }
    }

    #[test]
    fn opting_out_is_per_channel_and_checked() {
        let mut contact = contact();
        assert!(contact.opted_out_of(ContactChannel::Email));
        assert!(!contact.opted_out_of(ContactChannel::Sms));
        contact.opted_out = vec![
            ContactChannel::InApp,
            ContactChannel::Email,
            ContactChannel::Email,
            ContactChannel::Sms,
        ];
        let errors = contact.validate().unwrap_err();
        assert!(errors.has("opted_out[0]", code::NOT_ALLOWED));
        assert!(!errors.has("opted_out[1]", code::DUPLICATE));
        assert!(errors.has("opted_out[2]", code::DUPLICATE));
        assert!(
            errors.has("opted_out[3]", code::INCONSISTENT),
            "SMS is preferred"
        );
        contact.preferred_channel = None;
        contact.opted_out = vec![ContactChannel::Sms, ContactChannel::Email];
        assert_eq!(contact.validate(), Ok(()));
        // Read from a body that never had the field (older devices).
        let mut json = serde_json::to_value(&contact).unwrap();
        json.as_object_mut().unwrap().remove("opted_out");
        let old: Contact = serde_json::from_value(json).unwrap();
        assert!(old.opted_out.is_empty());
    }

    #[test]
    fn full_contact_is_valid() {
        assert_eq!(contact().validate(), Ok(()));
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        let mut contact = contact();
        contact.phones.push(phone(4, "0712345678"));
        let errors = contact.validate().unwrap_err();
        assert!(errors.has("phones[1].number_e164", code::INVALID_FORMAT));
        let message = &errors
            .for_field("phones[1].number_e164")
            .next()
            .unwrap()
            .message;
        assert!(
            message.contains("+254712345678"),
            "message shows an example"
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let mut contact = contact();
        contact.phones.push(phone(3, "+254712345678"));
        contact.emails.push("AMINA@example.org".into());
        let errors = contact.validate().unwrap_err();
        assert!(errors.has("phones[1].id", code::DUPLICATE));
        assert!(errors.has("phones[1].number_e164", code::DUPLICATE));
        assert!(errors.has("emails[1]", code::DUPLICATE));
    }

    #[test]
    fn bad_email_is_refused() {
        let mut contact = contact();
        contact.emails = vec!["amina.example.org".into()];
        assert!(contact
            .validate()
            .unwrap_err()
            .has("emails[0]", code::INVALID_FORMAT));
    }

    #[test]
    fn preferred_channel_needs_matching_details() {
        let mut contact = contact();
        contact.phones[0].kind = PhoneKind::Landline;
        assert!(contact
            .validate()
            .unwrap_err()
            .has("preferred_channel", code::INCONSISTENT));
        contact.preferred_channel = Some(ContactChannel::PhoneCall);
        assert_eq!(contact.validate(), Ok(()));
        contact.phones[0].disabled = true;
        assert!(!contact.can_reach_by(ContactChannel::PhoneCall));
        contact.emails.clear();
        assert!(!contact.can_reach_by(ContactChannel::Email));
        assert!(contact.can_reach_by(ContactChannel::Post));
        assert!(contact.can_reach_by(ContactChannel::InApp));
    }

    #[test]
    fn address_rules() {
        let mut address = village();
        address.country = "Kenya".into();
        address.admin_areas.push(AdminArea {
            level: 2,
            code: "X".into(),
            name: "Dup".into(),
        });
        address.admin_areas.push(AdminArea {
            level: 9,
            code: "Y".into(),
            name: "Deep".into(),
        });
        address.postal_code = Some("40102/".into());
        address.geo = Some(GeoPoint {
            latitude: 91.0,
            longitude: f64::NAN,
        });
        let errors = address.validate().unwrap_err();
        assert!(errors.has("country", code::INVALID_FORMAT));
        assert!(errors.has("admin_areas[2].level", code::DUPLICATE));
        assert!(errors.has("admin_areas[3].level", code::OUT_OF_RANGE));
        assert!(errors.has("postal_code", code::INVALID_FORMAT));
        assert!(errors.has("geo.latitude", code::OUT_OF_RANGE));
        assert!(errors.has("geo.longitude", code::OUT_OF_RANGE));
    }

    #[test]
    fn empty_address_is_refused() {
        let address = Address {
            line1: None,
            line2: None,
            locality: None,
            admin_areas: Vec::new(),
            postal_code: None,
            country: "KE".into(),
            geo: None,
        };
        assert!(address.validate().unwrap_err().has("", code::REQUIRED));
        let mut contact = contact();
        contact.address = Some(address);
        assert!(contact
            .validate()
            .unwrap_err()
            .has("address", code::REQUIRED));
    }

    #[test]
    fn geo_point_edges_are_valid() {
        for (latitude, longitude) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)] {
            assert_eq!(
                GeoPoint {
                    latitude,
                    longitude
                }
                .validate(),
                Ok(())
            );
        }
    }
}
