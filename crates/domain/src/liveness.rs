//! Liveness checks: periodic proof that a registrant is alive and is who they say they are,
//! usually a face check through an identity provider such as eSignet.
//!
//! Programmes pay only people who have passed one recently, so the interval is a programme rule
//! passed in by the caller, and "today" is passed in too: this crate never reads a clock.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::application::Application;
use crate::ids::RecordId;
use crate::programme::Programme;
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
    /// The last day of grace after `next_due`: from the next day on, the check is overdue
    /// ([`LivenessCheck::is_overdue`]). The registry fills it in from the person's programmes
    /// (or its own setting) when a passed check is recorded without it, so its reminders and
    /// the app's home screen say "overdue" from the same day.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::date_format::option"
    )]
    pub overdue_after: Option<Date>,
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

    /// Whether the next check is overdue on `today`: after the grace period (`overdue_after`),
    /// or, for a check recorded without one, after the due day itself. The day itself is not
    /// overdue yet.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.overdue_after
            .or(self.next_due)
            .is_some_and(|last| today > last)
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
        match (self.next_due, self.overdue_after) {
            (Some(due), Some(overdue)) if overdue < due => errors.push(
                "overdue_after",
                code::DATE_ORDER,
                "The grace period cannot end before the check is due; check the date.",
            ),
            (None, Some(_)) => errors.push(
                "overdue_after",
                code::INCONSISTENT,
                "A grace period follows a due day: enter next_due too, or leave both empty.",
            ),
            _ => {}
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

/// How often someone's liveness is checked, and how long a missed check may wait before it is
/// overdue: the registry's setting, or the strictest of the programmes the person applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivenessRule {
    /// Days from one passed check to the next due day.
    pub interval_days: u32,
    /// Days after the due day before the check is overdue.
    pub grace_days: u32,
}

/// A passed check's two days, as [`LivenessRule::dates`] works them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivenessDates {
    pub next_due: Date,
    pub overdue_after: Date,
}

impl LivenessRule {
    /// The rule for an applicant: among the programmes of their active applications
    /// ([`Application::is_active`]; drafts and rejections do not count), the shortest interval
    /// and the shortest grace, each programme without its own value following `default` (the
    /// registry's). Someone with no active application follows `default`.
    pub fn for_applicant<'a>(
        default: LivenessRule,
        applications: impl IntoIterator<Item = &'a Application>,
        programmes: &[Programme],
    ) -> LivenessRule {
        let mut rule: Option<LivenessRule> = None;
        for application in applications.into_iter().filter(|a| a.is_active()) {
            let Some(programme) = programmes
                .iter()
                .find(|p| p.meta.id == application.programme_id && !p.meta.is_deleted())
            else {
                continue;
            };
            let theirs = LivenessRule {
                interval_days: programme
                    .liveness_interval_days
                    .unwrap_or(default.interval_days),
                grace_days: programme.liveness_grace_days.unwrap_or(default.grace_days),
            };
            rule = Some(match rule {
                None => theirs,
                Some(r) => LivenessRule {
                    interval_days: r.interval_days.min(theirs.interval_days),
                    grace_days: r.grace_days.min(theirs.grace_days),
                },
            });
        }
        rule.unwrap_or(default)
    }

    /// The due day and last day of grace of a check passed at `performed_at`; `None` beyond the
    /// calendar.
    pub fn dates(self, performed_at: OffsetDateTime) -> Option<LivenessDates> {
        let next_due = next_due_date(performed_at, self.interval_days)?;
        Some(LivenessDates {
            next_due,
            overdue_after: self.overdue_after(next_due),
        })
    }

    /// The first check of a registrant none of whose checks has passed yet: registering counts
    /// as the starting point (the person was seen, or signed in at the identity provider, to
    /// register), so the first check is due one interval after the day they were registered
    /// (`registered_at`: when the registry first recorded them), or `within_days` after it when
    /// the registry asks for a first check sooner (0: on the day of registering), with the same
    /// grace. `None` beyond the calendar.
    pub fn first_check(
        self,
        registered_at: OffsetDateTime,
        within_days: Option<u32>,
    ) -> Option<LivenessDates> {
        let days = within_days.map_or(self.interval_days, |w| w.min(self.interval_days));
        LivenessRule {
            interval_days: days,
            ..self
        }
        .dates(registered_at)
    }

    /// The last day of grace for a check due on `next_due` (the calendar's last day, beyond it).
    pub fn overdue_after(self, next_due: Date) -> Date {
        next_due
            .checked_add(Duration::days(i64::from(self.grace_days)))
            .unwrap_or(Date::MAX)
    }
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

    fn programme(n: u8, interval: Option<u32>, grace: Option<u32>) -> Programme {
        let mut p: Programme = serde_json::from_value(serde_json::json!({
            "id": format!("0190b6a2-8a3e-7c1d-9f00-0000000001{n:02x}"),
            "created_at": "2024-05-01T08:00:00Z", "updated_at": "2024-05-01T08:00:00Z",
            "created_by": "admin", "code": format!("p{n}"), "name": format!("P{n}"),
        }))
        .unwrap();
        p.liveness_interval_days = interval;
        p.liveness_grace_days = grace;
        p
    }

    fn application(programme: &Programme, status: ApplicationStatus) -> Application {
        let mut a = Application::new(
            RecordMeta::new(
                crate::test_support::id(90),
                datetime!(2024-05-01 8:00 UTC),
                ActorId::new("app"),
            ),
            programme.meta.id,
            crate::test_support::id(91),
            1,
            serde_json::json!({}),
        );
        a.status = status;
        a
    }

    use crate::application::ApplicationStatus;

    /// The rule a person follows, for a table of programme settings and application statuses:
    /// the shortest interval and grace among active applications' programmes, each without its
    /// own value following the registry's.
    #[test]
    fn the_strictest_active_programme_sets_the_rule() {
        use ApplicationStatus::*;
        let default = LivenessRule {
            interval_days: 365,
            grace_days: 30,
        };
        let yearly_short_grace = programme(1, None, Some(7));
        let quarterly = programme(2, Some(90), None);
        let biennial = programme(3, Some(730), Some(60));
        let mut deleted = programme(4, Some(10), Some(1));
        deleted.meta.soft_delete(datetime!(2024-06-01 8:00 UTC));
        let all = [
            yearly_short_grace.clone(),
            quarterly.clone(),
            biennial.clone(),
            deleted.clone(),
        ];
        let rule = |interval_days, grace_days| LivenessRule {
            interval_days,
            grace_days,
        };
        let cases: Vec<(Vec<(&Programme, ApplicationStatus)>, LivenessRule)> = vec![
            (vec![], default),
            // Drafts and rejections bind nobody.
            (vec![(&quarterly, Draft), (&quarterly, Rejected)], default),
            (vec![(&quarterly, Submitted)], rule(90, 30)),
            (vec![(&quarterly, UnderReview)], rule(90, 30)),
            (vec![(&quarterly, MoreInformationNeeded)], rule(90, 30)),
            (vec![(&quarterly, Approved)], rule(90, 30)),
            // A longer interval than the registry's is the programme's to set.
            (vec![(&biennial, Approved)], rule(730, 60)),
            (
                vec![(&biennial, Approved), (&yearly_short_grace, Submitted)],
                rule(365, 7),
            ),
            (
                vec![(&biennial, Approved), (&quarterly, Approved)],
                rule(90, 30),
            ),
            (
                vec![
                    (&biennial, Approved),
                    (&quarterly, Draft),
                    (&yearly_short_grace, Rejected),
                ],
                rule(730, 60),
            ),
            // A deleted programme sets nothing.
            (vec![(&deleted, Approved)], default),
        ];
        for (held, expected) in cases {
            let applications: Vec<Application> =
                held.iter().map(|(p, s)| application(p, *s)).collect();
            assert_eq!(
                LivenessRule::for_applicant(default, &applications, &all),
                expected,
                "{held:?}"
            );
        }
        // A deleted application binds nobody either.
        let mut gone = application(&quarterly, Approved);
        gone.meta.soft_delete(datetime!(2024-06-01 8:00 UTC));
        assert_eq!(LivenessRule::for_applicant(default, [&gone], &all), default);
    }

    #[test]
    fn a_passed_check_gets_its_due_day_and_last_day_of_grace() {
        let done = datetime!(2026-01-31 10:00 +03:00);
        for (interval_days, grace_days, due, last) in [
            (365, 30, date!(2027 - 01 - 31), date!(2027 - 03 - 02)),
            (90, 0, date!(2026 - 05 - 01), date!(2026 - 05 - 01)),
            (1, 7, date!(2026 - 02 - 01), date!(2026 - 02 - 08)),
            (29, 1, date!(2026 - 03 - 01), date!(2026 - 03 - 02)),
        ] {
            let rule = LivenessRule {
                interval_days,
                grace_days,
            };
            assert_eq!(
                rule.dates(done),
                Some(LivenessDates {
                    next_due: due,
                    overdue_after: last
                }),
                "{rule:?}"
            );
        }
        let far = LivenessRule {
            interval_days: 1,
            grace_days: u32::MAX,
        };
        assert_eq!(far.overdue_after(date!(2026 - 01 - 01)), Date::MAX);
        assert_eq!(
            far.dates(datetime!(9999-12-31 0:00 UTC)),
            None,
            "beyond the calendar"
        );
    }

    /// A registrant never checked: due one interval after registering (or sooner, when the
    /// registry asks for a first check within some days), overdue after the grace, for a table
    /// of rules (the registry's, a quarterly programme's, a check at once).
    #[test]
    fn a_first_check_is_due_one_interval_after_registering() {
        let registered = datetime!(2026-02-10 23:30 +03:00);
        #[rustfmt::skip]
        let cases = [
            // (interval, grace, within, due, last day of grace, today, due?, overdue?)
            // The registry's rule: a year, a month of grace.
            (365, 30, None, date!(2027 - 02 - 10), date!(2027 - 03 - 12), date!(2026 - 12 - 31), false, false),
            (365, 30, None, date!(2027 - 02 - 10), date!(2027 - 03 - 12), date!(2027 - 02 - 10), true, false),
            (365, 30, None, date!(2027 - 02 - 10), date!(2027 - 03 - 12), date!(2027 - 03 - 13), true, true),
            // A quarterly programme.
            (90, 7, None, date!(2026 - 05 - 11), date!(2026 - 05 - 18), date!(2026 - 05 - 18), true, false),
            // A first check within 30 days; a quarterly programme's 90 do not delay it.
            (90, 7, Some(30), date!(2026 - 03 - 12), date!(2026 - 03 - 19), date!(2026 - 03 - 20), true, true),
            // ... and within a year does not delay a quarterly programme's.
            (90, 7, Some(365), date!(2026 - 05 - 11), date!(2026 - 05 - 18), date!(2026 - 05 - 10), false, false),
            // A check at once: due on the (local) day of registering.
            (365, 0, Some(0), date!(2026 - 02 - 10), date!(2026 - 02 - 10), date!(2026 - 02 - 10), true, false),
            (365, 0, Some(0), date!(2026 - 02 - 10), date!(2026 - 02 - 10), date!(2026 - 02 - 11), true, true),
        ];
        for (interval_days, grace_days, within, due, last, today, is_due, overdue) in cases {
            let rule = LivenessRule {
                interval_days,
                grace_days,
            };
            let dates = rule.first_check(registered, within).unwrap();
            assert_eq!(
                dates,
                LivenessDates {
                    next_due: due,
                    overdue_after: last
                },
                "{rule:?} within {within:?}"
            );
            assert_eq!(today >= dates.next_due, is_due, "{rule:?} on {today}");
            assert_eq!(today > dates.overdue_after, overdue, "{rule:?} on {today}");
        }
        let never = LivenessRule {
            interval_days: u32::MAX,
            grace_days: 0,
        };
        assert_eq!(
            never.first_check(registered, None),
            None,
            "beyond the calendar"
        );
    }

    #[test]
    fn overdue_after_the_grace_or_else_after_the_due_day() {
        let mut check: LivenessCheck = serde_json::from_value(serde_json::json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "created_at": "2026-01-01T08:00:00Z", "updated_at": "2026-01-01T08:00:00Z",
            "created_by": "staff:x", "individual_id": "0190b6a2-8a3e-7c1d-9f00-000000000002",
            "performed_at": "2026-01-01T08:00:00Z", "provider": "esignet", "outcome": "passed",
            "next_due": "2026-06-01", "overdue_after": "2026-06-08",
        }))
        .unwrap();
        assert_eq!(check.validate(), Ok(()));
        for (today, overdue) in [
            (date!(2026 - 06 - 01), false),
            (date!(2026 - 06 - 08), false),
            (date!(2026 - 06 - 09), true),
        ] {
            assert_eq!(check.is_overdue(today), overdue, "{today}");
        }
        check.overdue_after = None;
        assert!(!check.is_overdue(date!(2026 - 06 - 01)));
        assert!(check.is_overdue(date!(2026 - 06 - 02)));
        check.next_due = None;
        assert!(!check.is_overdue(date!(2030 - 01 - 01)));

        check.next_due = Some(date!(2026 - 06 - 01));
        check.overdue_after = Some(date!(2026 - 05 - 31));
        assert!(check
            .validate()
            .unwrap_err()
            .has("overdue_after", code::DATE_ORDER));
        check.next_due = None;
        assert!(check
            .validate()
            .unwrap_err()
            .has("overdue_after", code::INCONSISTENT));
        // Sent without it, nothing is written for it (older apps see no new field).
        check.overdue_after = None;
        assert!(serde_json::to_value(&check)
            .unwrap()
            .get("overdue_after")
            .is_none());
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
            overdue_after: None,
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
