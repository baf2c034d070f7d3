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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use doorstep_domain::formio::{self, CompiledForm};
use doorstep_domain::validate::code;
use doorstep_domain::{Application, ApplicationStatus, FieldError, RecordId, RecordKind};
use serde_json::Value;

use super::ApiError;
use crate::problem::ProblemKind;
use crate::resources::{BodyError, Typed};
use crate::state::AppState;
use crate::storage::{ListQuery, StoredRecord, Visibility};

/// Form versions kept read (compiled), most recently used last. Reading a 200-field form costs
/// about ten times checking one submission against it (benches/form_validation.rs), and a
/// form version is written once and then read for every submission.
const KEPT_FORMS: usize = 64;

/// A form version as read from the store: its record id and revision (a changed form is a new
/// revision, so a stale reading is never used).
type FormKey = (uuid::Uuid, u64);

static READ_FORMS: Mutex<VecDeque<(FormKey, Arc<CompiledForm>)>> = Mutex::new(VecDeque::new());

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
) -> Result<Arc<CompiledForm>, ApiError> {
    let (programme, version) = (application.programme_id, application.form_version);
    let Some(record) = stored_form(state, programme, version).await? else {
        return Err(form_version_error(
            code::UNKNOWN_REFERENCE,
            format!(
                "The programme has no form version {version}. Give the version the answers were given on (the programme's forms are listed at /v1/forms?parent={programme})."
            ),
        ));
    };
    let key = (record.id, record.rev);
    if let Some(form) = kept(key) {
        return Ok(form);
    }
    let Some(schema) = record.body.get("schema") else {
        return Err(ApiError::new(
            ProblemKind::Internal,
            format!("stored form {} has no schema", record.id),
        ));
    };
    let form = CompiledForm::compile(schema).map_err(|errors| {
        tracing::warn!(%programme, version, problems = errors.len(), "stored form version outside the supported subset");
        form_version_error(
            code::MISCONFIGURED,
            format!(
                "Form version {version} of this programme uses what the registry cannot check ({errors}). An administrator must publish a corrected version."
            ),
        )
    })?;
    let form = Arc::new(form);
    keep(key, form.clone());
    Ok(form)
}

fn kept(key: FormKey) -> Option<Arc<CompiledForm>> {
    let mut forms = READ_FORMS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let at = forms.iter().position(|(k, _)| *k == key)?;
    let entry = forms.remove(at).expect("found");
    let form = entry.1.clone();
    forms.push_back(entry);
    Some(form)
}

fn keep(key: FormKey, form: Arc<CompiledForm>) {
    let mut forms = READ_FORMS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if forms.iter().any(|(k, _)| *k == key) {
        return;
    }
    if forms.len() == KEPT_FORMS {
        forms.pop_front();
    }
    forms.push_back((key, form));
}

fn form_version_error(code: &str, message: String) -> ApiError {
    BodyError::Invalid(vec![FieldError {
        field: "form_version".into(),
        code: code.into(),
        message,
    }])
    .into()
}

/// A programme's live form version, found by its unique index key.
async fn stored_form(
    state: &AppState,
    programme: RecordId,
    version: u32,
) -> Result<Option<StoredRecord>, ApiError> {
    let mut query = ListQuery::new(RecordKind::FormDefinition, Visibility::All, 1);
    query.key = Some(format!(
        "{}form:{programme}:{version}",
        crate::storage::model::UNIQUE_KEY_PREFIX
    ));
    Ok(state.storage.list(&query).await?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_forms_are_kept_by_record_and_revision_and_the_least_used_goes_first() {
        let form = |n: usize| {
            let schema = serde_json::json!({"components": [{"type": "textfield", "key": format!("f{n}"), "input": true}]});
            Arc::new(CompiledForm::compile(&schema).unwrap())
        };
        let id = |n: u128| uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n);
        for n in 0..KEPT_FORMS {
            keep((id(n as u128), 1), form(n));
        }
        assert!(
            kept((id(0), 1)).is_some(),
            "read again: now the most recently used"
        );
        assert!(
            kept((id(0), 2)).is_none(),
            "another revision is another form"
        );
        keep((id(999), 1), form(999));
        assert!(
            kept((id(1), 1)).is_none(),
            "the least recently used made room"
        );
        assert!(kept((id(0), 1)).is_some());
        assert!(kept((id(999), 1)).is_some());
        assert!(READ_FORMS.lock().unwrap().len() <= KEPT_FORMS);
    }
}
