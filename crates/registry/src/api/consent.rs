//! Consent before an agent acts for someone (issue 16). Where the registry's configuration
//! (`[agents] require_consent`) or the programme applied to (`requires_consent`) asks for it, a
//! field agent's write about a person is refused unless that person's consent is on record: a
//! document of kind `consent` linked to the person, or to a household they belong to (the
//! head signs for the household) — or, for a membership, to the household it puts them in.
//!
//! Checked in [`super::write::prepare`], so REST and sync push obey it alike. Left out, because
//! they are how consent comes to be on record: the consent document itself, and creating the
//! person's own record (registering someone is the act they consent to; nothing else about them
//! can be written before their consent follows). Records about nobody (a household's own
//! record, the catalogue) are not about a person and are not checked.

use doorstep_domain::document::DocumentKind;
use doorstep_domain::RecordKind;
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::ProblemKind;
use crate::resources::Typed;
use crate::state::AppState;
use crate::storage::{ListQuery, RecordIndex, Visibility};

/// The index key of a consent document linked to `record` (a person or a household).
pub fn consent_key(record: impl std::fmt::Display) -> String {
    format!("consent:{record}")
}

/// Refuse an agent's write about a person whose consent is required and not on record.
pub async fn check(
    state: &AppState,
    caller: &Caller,
    typed: &Typed,
    index: &RecordIndex,
    creating: bool,
) -> Result<(), ApiError> {
    if caller.role() != Role::Agent {
        return Ok(());
    }
    let exempt = match typed {
        Typed::Individual(_) => creating,
        Typed::Document(d) => d.kind == DocumentKind::Consent,
        _ => false,
    };
    let Some(person) = index.owner_id.filter(|_| !exempt) else {
        return Ok(());
    };
    if !state.agents.require_consent && !programme_requires_it(state, typed).await? {
        return Ok(());
    }
    let (households, _) = state.storage.household_of(person).await?;
    let on_record = std::iter::once(person)
        .chain(index.group_id)
        .chain(households);
    for record in on_record {
        if holds_consent(state, record).await? {
            return Ok(());
        }
    }
    Err(ApiError::new(
        ProblemKind::ConsentRequired,
        "This person's consent is not on record. Capture their consent (the statement, their tick and their signature) and send it first; then this change can be sent.",
    ))
}

async fn programme_requires_it(state: &AppState, typed: &Typed) -> Result<bool, ApiError> {
    let Typed::Application(application) = typed else {
        return Ok(false);
    };
    Ok(state
        .storage
        .get(*application.programme_id.as_uuid())
        .await?
        .filter(|p| p.kind == RecordKind::Programme && !p.deleted)
        .is_some_and(|p| p.body["requires_consent"] == true))
}

async fn holds_consent(state: &AppState, record: Uuid) -> Result<bool, ApiError> {
    let mut query = ListQuery::new(RecordKind::Document, Visibility::All, 1);
    query.key = Some(consent_key(record));
    Ok(!state.storage.list(&query).await?.is_empty())
}
