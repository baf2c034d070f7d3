//! Applications to programmes and their review workflow.
//!
//! The workflow is an explicit table ([`TRANSITIONS`]) of which status may follow which, and who
//! may make each move, so the app can offer only the buttons that will work and the server can
//! refuse anything else. Every move is appended to the application's history: decisions about
//! people's support must be explainable afterwards.
//!
//! ```text
//! draft ──► submitted ──► under_review ──► approved  (final)
//!               ▲              │      └──► rejected  (final)
//!               │              ▼
//!               └──── more_information_needed
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::ids::{ActorId, RecordId};
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::MAX_TEXT_CHARS;
use crate::validate::{code, indexed, Validate, ValidationErrors};

/// Where an application is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ApplicationStatus {
    /// Being filled in; only the applicant sees it.
    Draft,
    /// Sent, waiting for a reviewer to pick it up.
    Submitted,
    /// A reviewer is assessing it.
    UnderReview,
    /// The reviewer asked the applicant for more information or documents.
    MoreInformationNeeded,
    /// Accepted into the programme. Final.
    Approved,
    /// Not accepted. Final.
    Rejected,
}

/// The part someone plays in an application's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ActorRole {
    /// The registrant applying, or a field agent filling the form in with them on their behalf.
    Applicant,
    /// Programme staff who assess applications.
    Reviewer,
    /// An automatic process (e.g. an eligibility check) acting under the programme's rules.
    System,
}

use ActorRole::{Applicant, Reviewer, System};
use ApplicationStatus::{Approved, Draft, MoreInformationNeeded, Rejected, Submitted, UnderReview};

/// Every allowed move: from, to, and who may make it. Anything not listed is refused.
pub const TRANSITIONS: &[(ApplicationStatus, ApplicationStatus, &[ActorRole])] = &[
    (Draft, Submitted, &[Applicant]),
    (Submitted, UnderReview, &[Reviewer, System]),
    (UnderReview, MoreInformationNeeded, &[Reviewer]),
    (UnderReview, Approved, &[Reviewer, System]),
    (UnderReview, Rejected, &[Reviewer, System]),
    (MoreInformationNeeded, Submitted, &[Applicant]),
];

impl ApplicationStatus {
    /// Every status, in workflow order.
    pub const ALL: [ApplicationStatus; 6] = [
        Draft,
        Submitted,
        UnderReview,
        MoreInformationNeeded,
        Approved,
        Rejected,
    ];

    /// The wire name, e.g. `more_information_needed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Draft => "draft",
            Submitted => "submitted",
            UnderReview => "under_review",
            MoreInformationNeeded => "more_information_needed",
            Approved => "approved",
            Rejected => "rejected",
        }
    }

    /// Whether no move leads out of this status.
    pub fn is_final(self) -> bool {
        matches!(self, Approved | Rejected)
    }

    /// Who may move an application from this status to `to`; empty if nobody may.
    pub fn allowed_roles(self, to: ApplicationStatus) -> &'static [ActorRole] {
        TRANSITIONS
            .iter()
            .find(|(from, target, _)| *from == self && *target == to)
            .map_or(&[], |(_, _, roles)| roles)
    }

    /// Whether anyone may move an application from this status to `to`.
    pub fn can_transition_to(self, to: ApplicationStatus) -> bool {
        !self.allowed_roles(to).is_empty()
    }

    /// Statuses reachable in one move by someone in `role`, for offering the right actions.
    pub fn next_for(self, role: ActorRole) -> impl Iterator<Item = ApplicationStatus> {
        TRANSITIONS
            .iter()
            .filter(move |(from, _, roles)| *from == self && roles.contains(&role))
            .map(|(_, to, _)| *to)
    }

    /// Whether moving *to* this status needs a note for the applicant: what to provide, or why
    /// the application was refused.
    pub fn needs_note(self) -> bool {
        matches!(self, MoreInformationNeeded | Rejected)
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ActorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Applicant => "applicant",
            Reviewer => "reviewer",
            System => "system",
        })
    }
}

/// Who made a change, and in what role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Actor {
    pub id: ActorId,
    pub role: ActorRole,
}

impl Actor {
    /// An actor in a role.
    pub fn new(id: impl Into<ActorId>, role: ActorRole) -> Self {
        Self {
            id: id.into(),
            role,
        }
    }
}

/// One move in an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StatusChange {
    pub from: ApplicationStatus,
    pub to: ApplicationStatus,
    /// When the move was made, by the clock of the device that made it.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
    /// Message for the applicant or the record, e.g. which document is missing.
    #[serde(default)]
    pub note: Option<String>,
}

/// An application by a registrant to a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Application {
    #[serde(flatten)]
    pub meta: RecordMeta,
    pub programme_id: RecordId,
    /// The individual (or group) applying.
    pub applicant_id: RecordId,
    /// Version of the programme's [`crate::programme::FormDefinition`] the answers belong to.
    pub form_version: u32,
    /// The Form.io submission data: an object of answers keyed by component. A draft's are
    /// kept as typed; any other application's must pass its form version
    /// ([`crate::formio::validate_submission`]: refusals name `data.<component key>`) and are
    /// stored cleaned (answers of hidden or unknown fields dropped, calculations done again).
    pub data: serde_json::Value,
    pub status: ApplicationStatus,
    /// Every status change, oldest first.
    #[serde(default)]
    pub status_history: Vec<StatusChange>,
}

impl_record!(Application, RecordKind::Application);

impl Application {
    /// A new draft with the answers given so far.
    pub fn new(
        meta: RecordMeta,
        programme_id: RecordId,
        applicant_id: RecordId,
        form_version: u32,
        data: serde_json::Value,
    ) -> Self {
        Self {
            meta,
            programme_id,
            applicant_id,
            form_version,
            data,
            status: Draft,
            status_history: Vec::new(),
        }
    }

    /// Moves the application to `to` and records the move, or refuses if the workflow does not
    /// allow it: a step not in [`TRANSITIONS`], a role that may not take it, or a missing note
    /// where [`ApplicationStatus::needs_note`]. On success `meta.updated_at` becomes `at`.
    pub fn transition(
        &mut self,
        to: ApplicationStatus,
        at: OffsetDateTime,
        by: Actor,
        note: Option<String>,
    ) -> Result<(), DomainError> {
        let from = self.status;
        let roles = from.allowed_roles(to);
        if roles.is_empty() {
            return Err(DomainError::TransitionNotAllowed { from, to });
        }
        if !roles.contains(&by.role) {
            return Err(DomainError::RoleNotAllowed {
                from,
                to,
                role: by.role,
            });
        }
        let note = note.filter(|note| !note.trim().is_empty());
        if to.needs_note() && note.is_none() {
            return Err(DomainError::NoteRequired { to });
        }
        self.status_history.push(StatusChange {
            from,
            to,
            at,
            by,
            note,
        });
        self.status = to;
        self.meta.touch(at);
        Ok(())
    }

    /// When the application was first submitted, if it has been.
    pub fn submitted_at(&self) -> Option<OffsetDateTime> {
        self.status_history
            .iter()
            .find(|change| change.to == Submitted)
            .map(|change| change.at)
    }

    /// Whether this application keeps its programme from taking another one by the same
    /// applicant (where the programme takes one per person): every live application does until
    /// it is rejected.
    pub fn holds_programme_place(&self) -> bool {
        !self.meta.is_deleted() && self.status != Rejected
    }

    /// Whether the applicant may still change the answers (a draft, or when asked for more).
    pub fn is_editable_by_applicant(&self) -> bool {
        matches!(self.status, Draft | MoreInformationNeeded)
    }

    /// Whether the office has this application and has not turned it down: sent (waiting,
    /// under review or asked for more) or approved, and not deleted. The programme's rules for
    /// its applicants — how often their liveness is checked — hold for such an applicant; a
    /// draft binds nobody yet.
    pub fn is_active(&self) -> bool {
        !self.meta.is_deleted()
            && matches!(
                self.status,
                Submitted | UnderReview | MoreInformationNeeded | Approved
            )
    }
}

impl Validate for Application {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.programme_id.is_nil() {
            errors.push("programme_id", code::REQUIRED, "Choose the programme.");
        }
        if self.applicant_id.is_nil() {
            errors.push("applicant_id", code::REQUIRED, "Choose who is applying.");
        }
        if self.form_version == 0 {
            errors.push(
                "form_version",
                code::OUT_OF_RANGE,
                "Form versions start at 1.",
            );
        }
        if !self.data.is_object() {
            errors.push(
                "data",
                code::INVALID_FORMAT,
                "The answers must be a Form.io submission (an object of answers).",
            );
        }

        // The history must replay, step by allowed step, from a draft to the current status.
        let mut replayed = Draft;
        for (index, change) in self.status_history.iter().enumerate() {
            let path = indexed("status_history", index);
            if change.from != replayed {
                errors.push(
                    format!("{path}.from"),
                    code::INCONSISTENT,
                    format!("This change starts from {} but the application was {replayed} at that point.", change.from),
                );
            }
            let roles = change.from.allowed_roles(change.to);
            if roles.is_empty() {
                errors.push(
                    format!("{path}.to"),
                    code::NOT_ALLOWED,
                    format!(
                        "An application cannot move from {} to {}.",
                        change.from, change.to
                    ),
                );
            } else if !roles.contains(&change.by.role) {
                errors.push(
                    format!("{path}.by.role"),
                    code::NOT_ALLOWED,
                    format!(
                        "A {} cannot move an application from {} to {}.",
                        change.by.role, change.from, change.to
                    ),
                );
            }
            if change.by.id.as_str().trim().is_empty() {
                errors.push(
                    format!("{path}.by.id"),
                    code::REQUIRED,
                    "Record who made the change.",
                );
            }
            match change.note.as_deref() {
                Some(note) if note.chars().count() > MAX_TEXT_CHARS => errors.push(
                    format!("{path}.note"),
                    code::TOO_LONG,
                    format!("Shorten the note to at most {MAX_TEXT_CHARS} characters."),
                ),
                Some(note) if !note.trim().is_empty() => {}
                _ if change.to.needs_note() => errors.push(
                    format!("{path}.note"),
                    code::REQUIRED,
                    "Tell the applicant what to do or why, in a note.",
                ),
                _ => {}
            }
            replayed = change.to;
        }
        if self.status != replayed {
            errors.push(
                "status",
                code::INCONSISTENT,
                format!(
                    "The status is {} but its history ends at {replayed}.",
                    self.status
                ),
            );
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::id;
    use serde_json::json;
    use time::macros::datetime;
    use time::Duration;

    const T0: OffsetDateTime = datetime!(2024-05-01 8:00 UTC);

    fn draft() -> Application {
        Application::new(
            RecordMeta::new(id(1), T0, ActorId::new("agent:wanjiru")),
            id(2),
            id(3),
            1,
            json!({"household_size": 5}),
        )
    }

    fn applicant() -> Actor {
        Actor::new("esignet:8f2c", Applicant)
    }

    fn reviewer() -> Actor {
        Actor::new("staff:otieno", Reviewer)
    }

    #[test]
    fn full_happy_path_is_recorded() {
        let mut app = draft();
        assert!(app.is_editable_by_applicant());
        app.transition(Submitted, T0 + Duration::hours(1), applicant(), None)
            .unwrap();
        app.transition(UnderReview, T0 + Duration::hours(2), reviewer(), None)
            .unwrap();
        app.transition(
            MoreInformationNeeded,
            T0 + Duration::hours(3),
            reviewer(),
            Some("Please add a proof of address.".into()),
        )
        .unwrap();
        assert!(app.is_editable_by_applicant());
        app.transition(Submitted, T0 + Duration::hours(4), applicant(), None)
            .unwrap();
        app.transition(
            UnderReview,
            T0 + Duration::hours(5),
            Actor::new("system:triage", System),
            None,
        )
        .unwrap();
        app.transition(Approved, T0 + Duration::hours(6), reviewer(), None)
            .unwrap();

        assert_eq!(app.status, Approved);
        assert_eq!(app.status_history.len(), 6);
        assert_eq!(app.submitted_at(), Some(T0 + Duration::hours(1)));
        assert_eq!(app.meta.updated_at, T0 + Duration::hours(6));
        assert_eq!(app.validate(), Ok(()));
    }

    #[test]
    fn allowed_transitions() {
        let allowed = [
            (Draft, Submitted),
            (Submitted, UnderReview),
            (UnderReview, MoreInformationNeeded),
            (UnderReview, Approved),
            (UnderReview, Rejected),
            (MoreInformationNeeded, Submitted),
        ];
        for from in ApplicationStatus::ALL {
            for to in ApplicationStatus::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for status in [Approved, Rejected] {
            assert!(status.is_final());
            for to in ApplicationStatus::ALL {
                assert!(!status.can_transition_to(to));
            }
        }
        let mut app = draft();
        app.transition(Submitted, T0, applicant(), None).unwrap();
        app.transition(UnderReview, T0, reviewer(), None).unwrap();
        app.transition(Rejected, T0, reviewer(), Some("Over the age limit.".into()))
            .unwrap();
        assert_eq!(
            app.transition(UnderReview, T0, reviewer(), None),
            Err(DomainError::TransitionNotAllowed {
                from: Rejected,
                to: UnderReview
            })
        );
    }

    #[test]
    fn forbidden_transitions_leave_the_application_unchanged() {
        let mut app = draft();
        let before = app.clone();
        assert_eq!(
            app.transition(Approved, T0, reviewer(), None),
            Err(DomainError::TransitionNotAllowed {
                from: Draft,
                to: Approved
            })
        );
        assert_eq!(
            app.transition(Draft, T0, applicant(), None),
            Err(DomainError::TransitionNotAllowed {
                from: Draft,
                to: Draft
            })
        );
        assert_eq!(app, before);
    }

    #[test]
    fn only_the_applicant_resubmits() {
        let mut app = draft();
        assert_eq!(
            app.transition(Submitted, T0, reviewer(), None),
            Err(DomainError::RoleNotAllowed {
                from: Draft,
                to: Submitted,
                role: Reviewer
            })
        );
        app.transition(Submitted, T0, applicant(), None).unwrap();
        assert!(matches!(
            app.transition(UnderReview, T0, applicant(), None),
            Err(DomainError::RoleNotAllowed { .. })
        ));
        app.transition(UnderReview, T0, reviewer(), None).unwrap();
        app.transition(
            MoreInformationNeeded,
            T0,
            reviewer(),
            Some("Add an ID.".into()),
        )
        .unwrap();
        assert_eq!(
            app.transition(Submitted, T0, reviewer(), None),
            Err(DomainError::RoleNotAllowed {
                from: MoreInformationNeeded,
                to: Submitted,
                role: Reviewer
            })
        );
        assert_eq!(
            app.transition(Submitted, T0, Actor::new("system:x", System), None),
            Err(DomainError::RoleNotAllowed {
                from: MoreInformationNeeded,
                to: Submitted,
                role: System
            })
        );
        app.transition(Submitted, T0, applicant(), None).unwrap();
        assert_eq!(app.status, Submitted);
    }

    #[test]
    fn asking_for_information_or_rejecting_needs_a_note() {
        let mut app = draft();
        app.transition(Submitted, T0, applicant(), None).unwrap();
        app.transition(UnderReview, T0, reviewer(), None).unwrap();
        assert_eq!(
            app.transition(Rejected, T0, reviewer(), Some("   ".into())),
            Err(DomainError::NoteRequired { to: Rejected })
        );
        assert_eq!(
            app.transition(MoreInformationNeeded, T0, reviewer(), None),
            Err(DomainError::NoteRequired {
                to: MoreInformationNeeded
            })
        );
    }

    #[test]
    fn actions_offered_per_role() {
        let reviewer_moves: Vec<_> = UnderReview.next_for(Reviewer).collect();
        assert_eq!(reviewer_moves, [MoreInformationNeeded, Approved, Rejected]);
        assert_eq!(UnderReview.next_for(Applicant).count(), 0);
        assert_eq!(
            MoreInformationNeeded
                .next_for(Applicant)
                .collect::<Vec<_>>(),
            [Submitted]
        );
    }

    #[test]
    fn tampered_history_is_refused() {
        let mut app = draft();
        app.transition(Submitted, T0, applicant(), None).unwrap();
        app.status = Approved;
        let errors = app.validate().unwrap_err();
        assert!(errors.has("status", code::INCONSISTENT));

        let mut app = draft();
        app.status = Approved;
        app.status_history.push(StatusChange {
            from: Draft,
            to: Approved,
            at: T0,
            by: applicant(),
            note: None,
        });
        let errors = app.validate().unwrap_err();
        assert!(errors.has("status_history[0].to", code::NOT_ALLOWED));

        let mut app = draft();
        app.status = Submitted;
        app.status_history.push(StatusChange {
            from: Draft,
            to: Submitted,
            at: T0,
            by: reviewer(),
            note: None,
        });
        assert!(app
            .validate()
            .unwrap_err()
            .has("status_history[0].by.role", code::NOT_ALLOWED));
    }

    #[test]
    fn data_must_be_an_object() {
        let mut app = draft();
        app.data = json!("answers");
        app.form_version = 0;
        let errors = app.validate().unwrap_err();
        assert!(errors.has("data", code::INVALID_FORMAT));
        assert!(errors.has("form_version", code::OUT_OF_RANGE));
    }

    #[test]
    fn errors_read_well() {
        let err = DomainError::RoleNotAllowed {
            from: Draft,
            to: Submitted,
            role: Reviewer,
        };
        assert_eq!(
            err.to_string(),
            "a reviewer cannot move an application from draft to submitted"
        );
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            json!({"error": "role_not_allowed", "from": "draft", "to": "submitted", "role": "reviewer"})
        );
    }
}
