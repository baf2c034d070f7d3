//! Programmes as the administrator's list shows them, and their creation or change.

use std::collections::HashMap;

use doorstep_domain::document::DocumentKind;
use doorstep_domain::ids::{ActorId, RecordId};
use doorstep_domain::programme::{FormDefinition, Programme};
use doorstep_domain::record::RecordMeta;
use doorstep_domain::Validate;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::refusal::refused;
use super::super::AppError;
use super::design::KeptDesign;
use super::online::latest;
use crate::vault::VaultError;

/// One programme in the administrator's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AdminProgramme {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub allow_multiple_applications: bool,
    pub required_documents: Vec<DocumentKind>,
    pub requires_consent: bool,
    /// `YYYY-MM-DD`: the last day applications are taken, if set.
    pub applications_close_on: Option<String>,
    /// Days between liveness checks for its applicants, if it sets its own.
    pub liveness_interval_days: Option<u32>,
    /// Days of grace after a missed liveness check, if it sets its own.
    pub liveness_grace_days: Option<u32>,
    /// The registry's revision of the programme, sent back with a change (None: never stored).
    pub rev: Option<u64>,
    /// The newest published version of its form; None: no form yet (it takes no applications).
    pub latest_version: Option<u32>,
    /// When a design of its form was last kept on this device (RFC 3339), if there is one.
    pub draft_saved_at: Option<String>,
}

/// The administrator's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AdminProgrammes {
    /// Read from the registry just now. False: the registry could not be reached, so the list
    /// is what this device had at its last sync (nothing can be changed or published).
    pub live: bool,
    /// By name.
    pub programmes: Vec<AdminProgramme>,
}

/// A programme as the administrator fills it in: `id` and `rev` None for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProgrammeInput {
    pub id: Option<String>,
    pub rev: Option<u64>,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub allow_multiple_applications: bool,
    pub required_documents: Vec<DocumentKind>,
    pub requires_consent: bool,
    /// `YYYY-MM-DD` (as a date field gives it); None or empty: applications stay open.
    pub applications_close_on: Option<String>,
    pub liveness_interval_days: Option<u32>,
    pub liveness_grace_days: Option<u32>,
}

/// The list from `programmes` and `forms` (all versions), with the designs kept on the device.
pub fn list(
    live: bool,
    programmes: Vec<Programme>,
    forms: Vec<FormDefinition>,
    kept: &[KeptDesign],
) -> AdminProgrammes {
    let mut by_programme: HashMap<RecordId, Vec<FormDefinition>> = HashMap::new();
    for form in forms {
        by_programme
            .entry(form.programme_id)
            .or_default()
            .push(form);
    }
    let mut programmes: Vec<AdminProgramme> = programmes
        .into_iter()
        .filter(|p| p.meta.deleted_at.is_none())
        .map(|p| {
            let id = *p.meta.id.as_uuid();
            AdminProgramme {
                latest_version: latest(by_programme.remove(&p.meta.id).into_iter().flatten())
                    .map(|f| f.version),
                draft_saved_at: kept
                    .iter()
                    .find(|k| k.programme == id)
                    .map(|k| k.saved_at.clone()),
                id: id.to_string(),
                code: p.code,
                name: p.name,
                description: p.description,
                allow_multiple_applications: p.allow_multiple_applications,
                required_documents: p.required_documents,
                requires_consent: p.requires_consent,
                applications_close_on: p
                    .applications_close_on
                    .map(doorstep_domain::date_format::format),
                liveness_interval_days: p.liveness_interval_days,
                liveness_grace_days: p.liveness_grace_days,
                rev: p.meta.rev,
            }
        })
        .collect();
    programmes.sort_by_key(|p| p.name.to_lowercase());
    AdminProgrammes { live, programmes }
}

/// Without the registry: the programmes whose forms are being designed on this device, as far as
/// the designs tell (their published version is the one each design started from). Nothing
/// else of them can be changed offline.
pub fn offline(kept: &[KeptDesign]) -> AdminProgrammes {
    let mut programmes: Vec<AdminProgramme> = kept
        .iter()
        .map(|k| AdminProgramme {
            id: k.programme.to_string(),
            code: k.of.code.clone(),
            name: k.of.name.clone(),
            description: None,
            allow_multiple_applications: false,
            required_documents: Vec::new(),
            requires_consent: false,
            applications_close_on: None,
            liveness_interval_days: None,
            liveness_grace_days: None,
            rev: None,
            latest_version: k.based_on,
            draft_saved_at: Some(k.saved_at.clone()),
        })
        .collect();
    programmes.sort_by_key(|p| p.name.to_lowercase());
    AdminProgrammes {
        live: false,
        programmes,
    }
}

/// The programme record `input` describes, checked by the domain's rules (problems by field).
pub fn record(input: &ProgrammeInput, actor: &str) -> Result<Programme, AppError> {
    let id = match &input.id {
        None => RecordId::from_uuid(Uuid::now_v7()),
        Some(text) => text.parse::<Uuid>().map(RecordId::from_uuid).map_err(|_| {
            refused(
                "programmeNotFound",
                "That programme is not at the registry.",
            )
        })?,
    };
    if input.id.is_some() != input.rev.is_some() {
        return Err(refused(
            "programmeChanged",
            "Someone else changed this programme since you opened it. Go back to the list to see their changes, then make yours again.",
        ));
    }
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let mut required_documents = Vec::new();
    for kind in &input.required_documents {
        if !required_documents.contains(kind) {
            required_documents.push(*kind);
        }
    }
    let applications_close_on = match input
        .applications_close_on
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(day) => Some(doorstep_domain::date_format::parse(day).map_err(|_| {
            let mut errors = doorstep_domain::ValidationErrors::new();
            errors.push(
                "applications_close_on",
                doorstep_domain::validate::code::INVALID_FORMAT,
                "Enter the closing day as a date, such as 2026-06-30.",
            );
            AppError::Vault(VaultError::Invalid(errors))
        })?),
    };
    let mut meta = RecordMeta::new(id, OffsetDateTime::now_utc(), ActorId::new(actor));
    meta.rev = input.rev;
    let programme = Programme {
        meta,
        code: input.code.trim().to_owned(),
        name: input.name.trim().to_owned(),
        description,
        allow_multiple_applications: input.allow_multiple_applications,
        required_documents,
        requires_consent: input.requires_consent,
        applications_close_on,
        liveness_interval_days: input.liveness_interval_days,
        liveness_grace_days: input.liveness_grace_days,
    };
    programme
        .validate()
        .map_err(|errors| AppError::Vault(VaultError::Invalid(errors)))?;
    Ok(programme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input() -> ProgrammeInput {
        ProgrammeInput {
            id: None,
            rev: None,
            code: " food_support ".into(),
            name: "Food support".into(),
            description: Some("  ".into()),
            allow_multiple_applications: false,
            required_documents: vec![DocumentKind::IdCard, DocumentKind::IdCard],
            requires_consent: true,
            applications_close_on: Some(" 2026-06-30 ".into()),
            liveness_interval_days: Some(90),
            liveness_grace_days: None,
        }
    }

    #[test]
    fn a_programme_is_checked_before_it_is_sent() {
        let p = record(&input(), "admin-1").unwrap();
        assert_eq!(p.code, "food_support");
        assert_eq!(p.description, None);
        assert_eq!(p.required_documents, vec![DocumentKind::IdCard]);
        assert_eq!(p.meta.rev, None);
        assert_eq!(
            p.applications_close_on,
            Some(time::macros::date!(2026 - 06 - 30))
        );
        assert_eq!(p.liveness_interval_days, Some(90));
        let mut open = input();
        open.applications_close_on = Some(String::new());
        assert_eq!(record(&open, "a").unwrap().applications_close_on, None);
        let mut day = input();
        day.applications_close_on = Some("30/06/2026".into());
        match record(&day, "a").unwrap_err() {
            AppError::Vault(VaultError::Invalid(errors)) => assert!(errors.has(
                "applications_close_on",
                doorstep_domain::validate::code::INVALID_FORMAT
            )),
            other => panic!("{other}"),
        }
        let mut bad = input();
        bad.code = "Food Support".into();
        bad.name = String::new();
        match record(&bad, "admin-1").unwrap_err() {
            AppError::Vault(VaultError::Invalid(errors)) => {
                assert!(errors.has("code", doorstep_domain::validate::code::INVALID_FORMAT));
                assert!(errors.has("name", doorstep_domain::validate::code::REQUIRED));
            }
            other => panic!("{other}"),
        }
        let mut change = input();
        change.id = Some(Uuid::now_v7().to_string());
        assert!(
            record(&change, "a").is_err(),
            "a change names the revision it was made on"
        );
        change.rev = Some(4);
        assert_eq!(record(&change, "a").unwrap().meta.rev, Some(4));
    }

    fn programme(name: &str, id: Uuid) -> Programme {
        let mut input = input();
        input.name = name.into();
        input.id = Some(id.to_string());
        input.rev = Some(1);
        record(&input, "a").unwrap()
    }

    fn form(programme: Uuid, version: u32, deleted: bool) -> FormDefinition {
        let mut meta = RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            OffsetDateTime::now_utc(),
            ActorId::new("a"),
        );
        if deleted {
            meta.deleted_at = Some(OffsetDateTime::now_utc());
        }
        FormDefinition {
            meta,
            programme_id: RecordId::from_uuid(programme),
            version,
            schema: json!({"components": []}),
        }
    }

    #[test]
    fn the_list_names_each_programmes_latest_version_and_kept_design() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let kept = [KeptDesign {
            programme: b,
            of: super::super::design::DesignOf {
                code: "apples".into(),
                name: "Apples".into(),
            },
            based_on: None,
            saved_at: "2024-05-01T08:00:00Z".into(),
        }];
        let listed = list(
            true,
            vec![programme("zinc", a), programme("Apples", b)],
            vec![
                form(a, 1, false),
                form(a, 3, false),
                form(a, 4, true),
                form(a, 2, false),
            ],
            &kept,
        );
        assert!(listed.live);
        let names: Vec<_> = listed.programmes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Apples", "zinc"]);
        assert_eq!(listed.programmes[1].latest_version, Some(3));
        assert_eq!(listed.programmes[0].latest_version, None);
        assert_eq!(
            listed.programmes[0].draft_saved_at.as_deref(),
            Some("2024-05-01T08:00:00Z")
        );
        assert_eq!(listed.programmes[1].draft_saved_at, None);
        // Offline, the designs on the device are what is listed.
        let alone = offline(&kept);
        assert!(!alone.live);
        assert_eq!(alone.programmes.len(), 1);
        assert_eq!(alone.programmes[0].id, b.to_string());
        assert_eq!(alone.programmes[0].code, "apples");
    }
}
