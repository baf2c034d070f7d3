//! The one error type of operations in this crate that can be refused.
//!
//! Checking a record's fields returns [`ValidationErrors`] (a list, so a form can show every
//! problem at once). [`DomainError`] is for everything else: a refused state change, an id that
//! does not parse, a deployment setting that is broken. It is serialisable so the server and the
//! app's IPC layer can pass it on unchanged.

use serde::{Deserialize, Serialize};

use crate::application::{ActorRole, ApplicationStatus};
use crate::validate::ValidationErrors;

/// Why an operation on the domain model was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DomainError {
    /// Text that should have been a record id (a UUID) is not one.
    #[error("`{input}` is not a record id: expected a UUID such as 0190b6a2-8a3e-7c1d-9f00-1234567890ab")]
    InvalidRecordId {
        /// The text as received.
        input: String,
    },
    /// The application workflow has no step from `from` to `to`.
    #[error("an application cannot move from {from} to {to}")]
    TransitionNotAllowed {
        from: ApplicationStatus,
        to: ApplicationStatus,
    },
    /// The step exists, but someone in `role` may not take it.
    #[error("a {role} cannot move an application from {from} to {to}")]
    RoleNotAllowed {
        from: ApplicationStatus,
        to: ApplicationStatus,
        role: ActorRole,
    },
    /// The step needs a note for the applicant (what to send, or why it was refused).
    #[error(
        "moving an application to {to} needs a note that tells the applicant what to do or why"
    )]
    NoteRequired { to: ApplicationStatus },
    /// An ID type's validation pattern is not a usable regular expression: a configuration
    /// mistake by whoever set the ID type up, not something the person registering can fix.
    #[error(
        "the validation pattern of ID type `{id_type}` is not a valid regular expression: {reason}"
    )]
    InvalidIdPattern {
        /// Code of the misconfigured ID type.
        id_type: String,
        /// What the regular-expression compiler objected to.
        reason: String,
    },
    /// A record's fields broke one or more rules.
    #[error(transparent)]
    Invalid(ValidationErrors),
}

impl From<ValidationErrors> for DomainError {
    fn from(errors: ValidationErrors) -> Self {
        DomainError::Invalid(errors)
    }
}
