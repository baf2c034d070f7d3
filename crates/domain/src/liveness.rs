//! Liveness checks: periodic proof that a registrant is alive and is who they say they are,
//! usually a face check through an identity provider such as eSignet.
//!
//! Programmes pay only people who have passed one recently, so the interval is a programme rule
//! passed in by the caller, and "today" is passed in too: this crate never reads a clock.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::required_code;
use crate::validate::{code, Validate, ValidationErrors};

/// One liveness check of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LivenessCheck {
    #[serde(flatten)]
    pub meta: RecordMeta,
    pub individual_id: RecordId,
    #[serde(with = "time::serde::rfc3339")]
    pub performed_at: OffsetDateTime,
    /// Code of the service that ran the check, e.g. `esignet`.
    pub provider: String,
    pub outcome: LivenessOutcome,
    /// When the next check is due, if the programme set one.
    #[serde(default, with = "crate::date_format::option")]
    pub next_due: Option<Date>,
    /// The authentication context the identity provider vouched for (its `acr`, e.g.
    /// `mosip:idp:acr:biometrics`), for a check the registry verified as a step-up sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// When the person authenticated at the provider (its `auth_time`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub auth_time: Option<OffsetDateTime>,
    /// The agent (actor id, e.g. `agent:otieno`) who ran the check with the person, when it
    /// was assisted; the person authenticated themself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assisted_by: Option<String>,
}

impl_record!(LivenessCheck, RecordKind::LivenessCheck);

impl LivenessCheck {
    /// Whether this check proves liveness; only a pass updates
    /// [`crate::individual::Individual::last_liveness_check`].
    pub fn is_passed(&self) -> bool {
        self.outcome == LivenessOutcome::Passed
    }
}

impl Validate for LivenessCheck {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.individual_id.is_nil() {
            errors.push(
                "individual_id",
                code::REQUIRED,
                "Choose whose check this is.",
            );
        }
        required_code(&mut errors, "provider", "liveness provider", &self.provider);
        if self
            .next_due
            .is_some_and(|due| due < self.performed_at.date())
        {
            errors.push(
                "next_due",
                code::DATE_ORDER,
                "The next check cannot be due before this one was done; check the date.",
            );
        }
        errors.into_result()
    }
}

/// Result of a liveness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum LivenessOutcome {
    Passed,
    Failed,
    /// The check could not decide (poor light, lost connection); it should be repeated.
    Inconclusive,
}

/// The day a check done at `performed_at` needs repeating, `interval_days` later. Days are
/// counted on the calendar of the offset the time was recorded in (the local day of the check).
/// `None` if the date would be beyond the calendar's range.
pub fn next_due_date(performed_at: OffsetDateTime, interval_days: u32) -> Option<Date> {
    performed_at
        .date()
        .checked_add(Duration::days(i64::from(interval_days)))
}

/// Whether a person whose last passed check was `last` needs a new one on `today`, when checks
/// must be repeated every `interval_days`. Someone never checked is always due; someone checked
/// is due from the day the interval has elapsed.
pub fn liveness_due(last: Option<OffsetDateTime>, interval_days: u32, today: Date) -> bool {
    match last {
        None => true,
        Some(last) => next_due_date(last, interval_days).is_some_and(|due| today >= due),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use time::macros::{date, datetime};

    #[test]
    fn never_checked_is_due() {
        assert!(liveness_due(None, 365, date!(2024 - 01 - 01)));
    }

    #[test]
    fn due_once_interval_has_elapsed() {
        let last = Some(datetime!(2024-01-10 15:00 +03:00));
        assert!(!liveness_due(last, 30, date!(2024 - 02 - 08)));
        assert!(liveness_due(last, 30, date!(2024 - 02 - 09)));
        assert!(liveness_due(last, 30, date!(2025 - 01 - 01)));
        assert!(liveness_due(last, 0, date!(2024 - 01 - 10)));
    }

    #[test]
    fn local_day_of_the_check_counts() {
        // 01:00 in Nairobi is still the previous day in UTC; the person's day is what counts.
        let last = datetime!(2024-03-01 01:00 +03:00);
        assert_eq!(next_due_date(last, 1), Some(date!(2024 - 03 - 02)));
    }

    #[test]
    fn interval_past_the_calendar_is_never_due() {
        let last = Some(datetime!(9999-12-01 0:00 UTC));
        assert!(!liveness_due(last, u32::MAX, date!(9999 - 12 - 31)));
    }

    #[test]
    fn check_rules() {
        let mut check = LivenessCheck {
            meta: RecordMeta::new(
                "0190b6a2-8a3e-7c1d-9f00-000000000001".parse().unwrap(),
                datetime!(2024-05-01 8:00 UTC),
                ActorId::new("esignet:8f2c"),
            ),
            individual_id: "0190b6a2-8a3e-7c1d-9f00-000000000002".parse().unwrap(),
            performed_at: datetime!(2024-05-01 8:00 UTC),
            provider: "esignet".into(),
            outcome: LivenessOutcome::Passed,
            next_due: Some(date!(2025 - 05 - 01)),
            acr: None,
            auth_time: None,
            assisted_by: None,
        };
        assert!(check.is_passed());
        assert_eq!(check.validate(), Ok(()));
        check.next_due = Some(date!(2024 - 04 - 30));
        check.provider = "eSignet".into();
        let errors = check.validate().unwrap_err();
        assert!(errors.has("next_due", code::DATE_ORDER));
        assert!(errors.has("provider", code::INVALID_FORMAT));
    }
}
