//! Programmes' forms and the answers given on them, held to Doorstep's Form.io subset
//! ([`doorstep_domain::formio`]) on every path that writes them.
//!
//! - A form definition written (REST or sync push) must pass
//!   [`formio::check_definition`]: a form that needs JavaScript, or an option the registry
//!   cannot check, is refused naming the component, instead of being published and then not
//!   doing in the app what its author meant.
//! - An application must name a form version its programme has (`form_version`). A draft is
//!   kept as typed (it may be incomplete). Any other application — being edited after the
//!   office asked for more, or moved to `submitted` through the transitions endpoint — must
//!   pass [`formio::validate_submission`] against that version, and what is stored is the
//!   cleaned answers: hidden answers dropped, calculations done again, answers to no field
//!   dropped.
//!
//! [`check`] is called by `write::prepare` (REST create/replace, sync create/update) and
//! [`submission`] by the transitions endpoint, so no write of an application that is not a
//! draft escapes the check (see ARCHITECTURE.md, "Invariants").

use doorstep_domain::formio::{self, CompiledForm};
use doorstep_domain::validate::code;
use doorstep_domain::{Application, ApplicationStatus, FieldError, RecordId, RecordKind};
use serde_json::Value;

use super::ApiError;
use crate::problem::ProblemKind;
use crate::resources::{BodyError, Typed};
use crate::state::AppState;
use crate::storage::{ListQuery, Visibility};

/// Checks a record about to be written: a form definition's schema, an application's form
/// version and (unless a draft) its answers, which are replaced by the cleaned answers in
/// `typed` and `body`.
pub async fn check(state: &AppState, typed: &mut Typed, body: &mut Value) -> Result<(), ApiError> {
    match typed {
        Typed::FormDefinition(form) => formio::check_definition(&form.schema)
            .map_err(|errors| BodyError::Invalid(errors.errors).into()),
        Typed::Application(application) => {
            let form = form_version(state, application).await?;
            if application.status != ApplicationStatus::Draft {
                let cleaned = validate(&form, application)?;
                body["data"] = cleaned.clone();
                application.data = cleaned;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The answers of `application`, checked against its form version and cleaned, for the move to
/// `submitted`.
pub async fn submission(state: &AppState, application: &Application) -> Result<Value, ApiError> {
    let form = form_version(state, application).await?;
    validate(&form, application)
}

fn validate(form: &CompiledForm, application: &Application) -> Result<Value, ApiError> {
    form.validate(&application.data)
        .map_err(|errors| BodyError::Invalid(errors.errors).into())
}

/// The form version the application's answers belong to, compiled; a missing version, or one
/// stored before the registry checked forms and outside the subset, is a field error on
/// `form_version`.
async fn form_version(
    state: &AppState,
    application: &Application,
) -> Result<CompiledForm, ApiError> {
    let (programme, version) = (application.programme_id, application.form_version);
    let schema = stored_schema(state, programme, version).await?;
    let Some(schema) = schema else {
        return Err(form_version_error(
            code::UNKNOWN_REFERENCE,
            format!(
                "The programme has no form version {version}. Give the version the answers were given on (the programme's forms are listed at /v1/forms?parent={programme})."
            ),
        ));
    };
    CompiledForm::compile(&schema).map_err(|errors| {
        tracing::warn!(%programme, version, problems = errors.len(), "stored form version outside the supported subset");
        form_version_error(
            code::MISCONFIGURED,
            format!(
                "Form version {version} of this programme uses what the registry cannot check ({errors}). An administrator must publish a corrected version."
            ),
        )
    })
}

fn form_version_error(code: &str, message: String) -> ApiError {
    BodyError::Invalid(vec![FieldError {
        field: "form_version".into(),
        code: code.into(),
        message,
    }])
    .into()
}

/// The schema of a programme's live form version, found by its unique index key.
async fn stored_schema(
    state: &AppState,
    programme: RecordId,
    version: u32,
) -> Result<Option<Value>, ApiError> {
    let mut query = ListQuery::new(RecordKind::FormDefinition, Visibility::All, 1);
    query.key = Some(format!(
        "{}form:{programme}:{version}",
        crate::storage::model::UNIQUE_KEY_PREFIX
    ));
    let found = state.storage.list(&query).await?;
    match found.into_iter().next() {
        None => Ok(None),
        Some(record) => match record.body.get("schema") {
            Some(schema) => Ok(Some(schema.clone())),
            None => Err(ApiError::new(
                ProblemKind::Internal,
                format!("stored form {} has no schema", record.id),
            )),
        },
    }
}
