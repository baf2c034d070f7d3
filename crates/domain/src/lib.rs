//! The registry's shared vocabulary.
//!
//! Everything in this crate is pure data and pure functions: no files, no network, no clock
//! reads, no randomness. Callers pass in ids, timestamps and "today". Both the desktop app
//! (`doorstep-client`) and the registry server (`doorstep-registry`) depend on it, so a type
//! defined here means the same thing on both ends of the wire.
//!
//! The model stays close to OpenG2P's social registry (field names such as `given_name`,
//! `addl_name`, `birthdate_not_exact`, `reg_ids`, `is_partial_group`) so records can be exchanged
//! with it.
//!
//! # Modules
//!
//! Identity and bookkeeping:
//! - [`ids`]: [`RecordId`] (UUID, minted by the caller), [`ActorId`], [`IdTypeCode`].
//! - [`record`]: [`RecordMeta`] carried by every record, [`RecordKind`], the [`Record`] trait.
//! - [`date_format`]: `YYYY-MM-DD` serde for calendar dates; [`timestamp`]: instants as RFC 3339 UTC text.
//!
//! Registrants:
//! - [`individual`]: [`Individual`], gender, civil status, Washington Group disability answers.
//! - [`id_type`]: [`IdType`] (with a validation pattern) and the IDs a person holds.
//! - [`contact`]: phones (E.164), e-mails, [`Address`], preferred channel.
//! - [`gazetteer`]: the registry's administrative areas and the rules tying an address to them.
//! - [`group`]: households and families, [`Membership`] and the one-head rule.
//! - [`duplicates`]: "Is this the same person?": same ID, or a like name with a birth date or
//!   phone that agrees.
//! - [`finance`]: bank accounts (IBAN-checked) and mobile/e-mail wallets.
//! - [`document`]: attached files, file-name sanitising.
//! - [`mime`]: file types from content, the upload allow-list.
//!
//! Programmes:
//! - [`programme`]: [`Programme`] and versioned Form.io [`FormDefinition`]s.
//! - [`formio`]: the Form.io subset Doorstep offers: a definition's check
//!   ([`formio::check_definition`]) and a submission's ([`formio::validate_submission`]), with the
//!   results the citizen's browser gives (conditions, calculations, JSON logic, patterns).
//! - [`application`]: [`Application`] and its review workflow.
//! - [`notification`]: messages to registrants.
//! - [`review`]: reviewers' decisions on documents and accounts, the languages the registry
//!   writes in, and the review desk's wire types.
//! - [`liveness`]: liveness checks and when the next one is due.
//!
//! Rules and errors:
//! - [`validate`]: the [`Validate`] trait, [`ValidationErrors`], and format checks (E.164, IBAN,
//!   e-mail, BCP 47, ID patterns, codes).
//! - [`error`]: [`DomainError`] for refused operations.
//!
//! Wire:
//! - [`api`]: the HTTP API contract: every route's path, its headers, and the request and
//!   response bodies not defined below (transitions, token exchange, pages, `me`).
//! - [`wire`]: types of the service-level HTTP endpoints (health).
//! - [`sync`]: push/pull wire types and the field-level three-way merge.
//! - [`strict_json`]: JSON parsing that refuses an object with a repeated key.
//!
//! # Features
//! - `openapi`: derives `utoipa::ToSchema` on every model type.
//! - `specta`: derives `specta::Type` on every model type, for TypeScript bindings.

pub mod api;
pub mod application;
pub mod contact;
pub mod date_format;
pub mod document;
pub mod duplicates;
pub mod error;
pub mod finance;
pub mod formio;
pub mod gazetteer;
pub mod group;
pub mod id_type;
pub mod ids;
pub mod individual;
pub mod liveness;
pub mod mime;
pub mod notification;
pub mod programme;
pub mod record;
pub mod review;
pub mod strict_json;
pub mod sync;
pub mod timestamp;
pub mod validate;
pub mod wire;

pub use application::{Actor, ActorRole, Application, ApplicationStatus, StatusChange};
pub use contact::{Address, AdminArea, Contact, ContactChannel, GeoPoint, Phone, PhoneKind};
pub use document::{sanitize_file_name, Document, DocumentKind, DocumentStatus};
pub use error::DomainError;
pub use finance::{AccountKind, FinancialAccount, VerificationStatus};
pub use group::{validate_memberships, Group, GroupKind, Membership, MembershipKind};
pub use id_type::{IdStatus, IdType, RegistrantId};
pub use ids::{ActorId, IdTypeCode, RecordId};
pub use individual::{CivilStatus, DifficultyLevel, Disability, Gender, Individual};
pub use liveness::{liveness_due, LivenessCheck, LivenessOutcome};
pub use mime::sniff_mime;
pub use notification::{Notification, NotificationKind};
pub use programme::{FormDefinition, Programme};
pub use record::{Record, RecordKind, RecordMeta};
pub use review::{Language, Review};
pub use validate::{FieldError, Validate, ValidationErrors};

/// Version of this build of Doorstep, shared by the app and the server so either can report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod test_support;
