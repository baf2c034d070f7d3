//! Programmes and the person's applications to them.
//!
//! Programmes and their Form.io forms are configuration the registry sends to every device;
//! applications are the person's own records. Answers typed into a form are kept as a local
//! draft (encrypted, on this device only) until the person submits; submitting writes the
//! application and queues the request to submit it in one vault transaction, so it works offline
//! and is sent with the next sync (see `vault/transitions.rs` for why the status move travels
//! apart from the record).

use std::collections::BTreeSet;

use doorstep_domain::application::{ActorRole, Application, ApplicationStatus};
use doorstep_domain::document::DocumentKind;
use doorstep_domain::ids::{ActorId, RecordId};
use doorstep_domain::programme::{FormDefinition, Programme};
use doorstep_domain::record::{RecordKind, RecordMeta};
use doorstep_domain::timestamp;
use doorstep_domain::Document;
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::details::{actor_of, find_me, new_id};
use super::records::live;
use super::refusal::{refused, Refusal};
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition};

/// Largest answers a form may send (a Form.io submission is small; this stops a runaway one).
const MAX_ANSWERS_BYTES: usize = 1024 * 1024;

/// A programme as the programmes screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProgrammeView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// Documents an application needs, one of each kind.
    pub required_documents: Vec<DocumentKind>,
    /// Required documents the person has not sent yet.
    pub missing_documents: Vec<DocumentKind>,
    /// The programme has a form, so it takes applications.
    pub open: bool,
    /// Whether the person may start (or continue) an application now.
    pub can_apply: bool,
    /// Answers typed on this device and not submitted yet.
    pub has_draft: bool,
    /// The person's applications to it, newest first.
    pub applications: Vec<ApplicationView>,
    /// `YYYY-MM-DD`: the last day a draft may be submitted, if the programme has one.
    pub applications_close_on: Option<String>,
}

/// One of the person's applications, with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationView {
    pub id: String,
    pub programme_id: String,
    pub programme_name: String,
    pub status: ApplicationStatus,
    pub updated_at: String,
    /// Submitted on this device; the registry has not had it yet.
    pub waiting_to_send: bool,
    /// The registry refused the submission, and why (English).
    pub refused: Option<String>,
    /// The person may change the answers (a draft, or the office asked for more).
    pub editable: bool,
    /// What the office asked for, while the status is "more information needed".
    pub request: Option<String>,
    /// Every step, oldest first, starting with the creation of the application.
    pub timeline: Vec<TimelineEntry>,
}

/// One step of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub status: ApplicationStatus,
    /// RFC 3339.
    pub at: String,
    pub note: Option<String>,
    /// Made by the office (a reviewer or the registry itself), not by the applicant.
    pub by_office: bool,
}

/// What the application screen needs to show a programme's form.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationForm {
    pub programme: ProgrammeView,
    /// The form version the answers will be recorded against.
    pub version: u32,
    /// The Form.io form definition, as the programme's administrators designed it. Its
    /// optional `i18n` member carries translations by language code.
    pub schema: Value,
    /// The answers so far: the local draft, else the editable application's answers.
    pub data: Value,
    /// The application being continued, if any.
    pub application_id: Option<String>,
    /// When the draft was last saved on this device (RFC 3339).
    pub draft_saved_at: Option<String>,
    /// What the office asked for, when answering a request for more information.
    pub request: Option<String>,
}

/// Vault drafts of application answers: this prefix and the programme's id.
pub(super) const DRAFT_PREFIX: &str = "application:";

fn draft_key(programme: Uuid) -> String {
    format!("{DRAFT_PREFIX}{programme}")
}

fn now_text() -> String {
    timestamp::format(OffsetDateTime::now_utc())
}

fn format_time(at: OffsetDateTime) -> String {
    timestamp::format(at)
}

/// Everything the screens derive from, read once.
struct Snapshot {
    me: Option<RecordId>,
    programmes: Vec<Programme>,
    forms: Vec<FormDefinition>,
    applications: Vec<Application>,
    documents: Vec<Document>,
}

impl Snapshot {
    fn read(partition: &Partition, session: Who<'_>) -> Result<Self, AppError> {
        let me = find_me(partition, session)?.map(|m| m.meta.id);
        let mut programmes: Vec<Programme> = live(partition, RecordKind::Programme)?;
        programmes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut applications: Vec<Application> = live(partition, RecordKind::Application)?;
        applications.retain(|a| Some(a.applicant_id) == me);
        applications.sort_by_key(|a| std::cmp::Reverse(a.meta.created_at));
        let mut documents: Vec<Document> = live(partition, RecordKind::Document)?;
        let linked: BTreeSet<RecordId> = me
            .into_iter()
            .chain(applications.iter().map(|a| a.meta.id))
            .collect();
        documents.retain(|d| linked.contains(&d.linked_record));
        Ok(Snapshot {
            me,
            programmes,
            forms: live(partition, RecordKind::FormDefinition)?,
            applications,
            documents,
        })
    }

    fn latest_form(&self, programme: RecordId) -> Option<&FormDefinition> {
        self.forms
            .iter()
            .filter(|f| f.programme_id == programme)
            .max_by_key(|f| f.version)
    }

    fn programme(&self, id: RecordId) -> Result<&Programme, AppError> {
        self.programmes
            .iter()
            .find(|p| p.meta.id == id)
            .ok_or_else(|| {
                refused(
                    "programmeUnknown",
                    "This programme is not on this device. Sync, then try again.",
                )
            })
    }

    fn applications_to(&self, programme: RecordId) -> impl Iterator<Item = &Application> {
        self.applications
            .iter()
            .filter(move |a| a.programme_id == programme)
    }

    /// The application the person is still working on, if any.
    fn editable(&self, programme: RecordId) -> Option<&Application> {
        self.applications_to(programme)
            .find(|a| a.is_editable_by_applicant())
    }

    /// Whether a new application is allowed: once per programme unless it allows several
    /// (a rejected one may be followed by a new one). The registry holds the same rule.
    fn may_start(&self, programme: &Programme) -> bool {
        programme.admits_another_application(&self.applications)
    }

    /// The rule the registry checks before it takes an application as submitted.
    fn missing_documents(&self, programme: &Programme) -> Vec<DocumentKind> {
        programme.missing_documents(&self.documents)
    }

    fn view(
        &self,
        partition: &Partition,
        programme: &Programme,
    ) -> Result<ProgrammeView, AppError> {
        let id = *programme.meta.id.as_uuid();
        let applications = self
            .applications_to(programme.meta.id)
            .map(|a| application_view(partition, a, &programme.name))
            .collect::<Result<Vec<_>, _>>()?;
        let open = self.latest_form(programme.meta.id).is_some();
        Ok(ProgrammeView {
            id: id.to_string(),
            code: programme.code.clone(),
            name: programme.name.clone(),
            description: programme.description.clone(),
            required_documents: programme.required_documents.clone(),
            missing_documents: self.missing_documents(programme),
            open,
            can_apply: open
                && self.me.is_some()
                && (self.editable(programme.meta.id).is_some() || self.may_start(programme)),
            has_draft: partition.draft(&draft_key(id))?.is_some(),
            applications,
            applications_close_on: programme
                .applications_close_on
                .map(doorstep_domain::date_format::format),
        })
    }
}

fn application_view(
    partition: &Partition,
    a: &Application,
    programme_name: &str,
) -> Result<ApplicationView, AppError> {
    let id = *a.meta.id.as_uuid();
    let transition = partition.transition_of(id)?;
    let mut timeline = vec![TimelineEntry {
        status: ApplicationStatus::Draft,
        at: format_time(a.meta.created_at),
        note: None,
        by_office: false,
    }];
    timeline.extend(a.status_history.iter().map(|c| TimelineEntry {
        status: c.to,
        at: format_time(c.at),
        note: c.note.clone(),
        by_office: c.by.role != ActorRole::Applicant,
    }));
    let request = (a.status == ApplicationStatus::MoreInformationNeeded)
        .then(|| {
            a.status_history
                .iter()
                .rev()
                .find(|c| c.to == ApplicationStatus::MoreInformationNeeded)
                .and_then(|c| c.note.clone())
        })
        .flatten();
    Ok(ApplicationView {
        id: id.to_string(),
        programme_id: a.programme_id.as_uuid().to_string(),
        programme_name: programme_name.to_owned(),
        status: a.status,
        updated_at: format_time(a.meta.updated_at),
        waiting_to_send: transition.as_ref().is_some_and(|t| t.refusal.is_none()),
        refused: transition.and_then(|t| t.refusal),
        editable: a.is_editable_by_applicant(),
        request,
        timeline,
    })
}

/// Every programme on the device with the person's applications to it.
pub fn programmes(partition: &Partition, session: Who<'_>) -> Result<Vec<ProgrammeView>, AppError> {
    let snapshot = Snapshot::read(partition, session)?;
    snapshot
        .programmes
        .iter()
        .map(|p| snapshot.view(partition, p))
        .collect()
}

/// The person's applications to every programme, newest first (for the home screen).
pub fn applications(
    partition: &Partition,
    session: Who<'_>,
) -> Result<Vec<ApplicationView>, AppError> {
    let snapshot = Snapshot::read(partition, session)?;
    snapshot
        .applications
        .iter()
        .map(|a| {
            let name = snapshot
                .programme(a.programme_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            application_view(partition, a, &name)
        })
        .collect()
}

/// The form to apply to `programme` (or to continue the application in progress).
pub fn form(
    partition: &Partition,
    session: Who<'_>,
    programme: Uuid,
) -> Result<ApplicationForm, AppError> {
    let snapshot = Snapshot::read(partition, session)?;
    let p = snapshot.programme(RecordId::from_uuid(programme))?;
    let view = snapshot.view(partition, p)?;
    if !view.can_apply {
        return Err(cannot_apply(&snapshot, p));
    }
    let editable = snapshot.editable(p.meta.id);
    let form = snapshot
        .latest_form(p.meta.id)
        .expect("can_apply implies a form");
    let draft = partition.draft(&draft_key(programme))?;
    let (data, draft_saved_at) = match draft {
        Some(d) => (d["data"].clone(), d["savedAt"].as_str().map(str::to_owned)),
        None => (
            editable
                .map(|a| a.data.clone())
                .unwrap_or_else(|| json!({})),
            None,
        ),
    };
    let request = editable
        .map(|a| application_view(partition, a, &p.name))
        .transpose()?
        .and_then(|v| v.request);
    Ok(ApplicationForm {
        version: editable.map(|a| a.form_version).unwrap_or(form.version),
        schema: form.schema.clone(),
        data,
        application_id: editable.map(|a| a.meta.id.as_uuid().to_string()),
        draft_saved_at,
        request,
        programme: view,
    })
}

fn cannot_apply(snapshot: &Snapshot, programme: &Programme) -> AppError {
    if snapshot.me.is_none() {
        refused(
            "registerFirst",
            "Register your details first; applications belong to your registration.",
        )
    } else if snapshot.latest_form(programme.meta.id).is_none() {
        Refusal::new(
            "programmeClosed",
            format!("{} does not take applications yet.", programme.name),
        )
        .with("programme", &programme.name)
        .into()
    } else {
        Refusal::new(
            "alreadyApplied",
            format!(
                "You have already applied to {}. Its status is under Programmes.",
                programme.name
            ),
        )
        .with("programme", &programme.name)
        .into()
    }
}

fn check_answers(data: &Value) -> Result<(), AppError> {
    if !data.is_object() {
        return Err(refused(
            "answersShape",
            "The answers must be the form's answers (an object).",
        ));
    }
    if data.to_string().len() > MAX_ANSWERS_BYTES {
        return Err(refused(
            "answersTooLong",
            "The answers are too long to keep. Shorten the longest answers.",
        ));
    }
    Ok(())
}

/// Keep the answers typed so far on this device (the form calls this as the person types).
/// Returns when it was saved.
pub fn save_draft(
    partition: &Partition,
    session: Who<'_>,
    programme: Uuid,
    data: &Value,
) -> Result<String, AppError> {
    check_answers(data)?;
    let snapshot = Snapshot::read(partition, session)?;
    snapshot.programme(RecordId::from_uuid(programme))?;
    let saved_at = now_text();
    partition.save_draft(
        &draft_key(programme),
        &json!({ "data": data, "savedAt": saved_at }),
    )?;
    Ok(saved_at)
}

/// Forget the local draft (the person chose to start over).
pub fn discard_draft(partition: &Partition, programme: Uuid) -> Result<(), AppError> {
    partition.discard_draft(&draft_key(programme))?;
    Ok(())
}

/// Submit the answers: the application is created (or its answers updated) and the request to
/// submit it queued, in one vault transaction. Works offline; sync sends both.
pub fn submit(
    partition: &Partition,
    session: Who<'_>,
    programme: Uuid,
    data: Value,
) -> Result<ApplicationView, AppError> {
    check_answers(&data)?;
    let snapshot = Snapshot::read(partition, session)?;
    let p = snapshot.programme(RecordId::from_uuid(programme))?;
    let view = snapshot.view(partition, p)?;
    if !view.can_apply {
        return Err(cannot_apply(&snapshot, p));
    }
    let me = snapshot.me.expect("can_apply implies a registration");
    let actor = actor_of(session);
    let now = OffsetDateTime::now_utc();
    // The registry refuses a first submission after the closing day (answers the office asked
    // for still go in): say so now, offline too, rather than at the next sync.
    let first_submission = snapshot
        .editable(p.meta.id)
        .is_none_or(|a| a.status == ApplicationStatus::Draft);
    if first_submission && !p.takes_submissions_at(now) {
        let last = p
            .applications_close_on
            .map(doorstep_domain::date_format::format)
            .unwrap_or_default();
        return Err(Refusal::new(
            "applicationsClosed",
            format!(
                "{} stopped taking applications on {last}. Your answers are kept as a draft.",
                p.name
            ),
        )
        .with("programme", &p.name)
        .with("date", last)
        .into());
    }
    let (application, op) = match snapshot.editable(p.meta.id) {
        Some(existing) => {
            let mut a = existing.clone();
            a.data = data;
            a.meta.touch(now);
            (a, Op::Update)
        }
        None => {
            let form = snapshot
                .latest_form(p.meta.id)
                .expect("can_apply implies a form");
            let a = Application::new(
                RecordMeta::new(new_id(), now, ActorId::new(actor.clone())),
                p.meta.id,
                me,
                form.version,
                data,
            );
            (a, Op::Create)
        }
    };
    let id = *application.meta.id.as_uuid();
    let change = Change::of(&application, op, &actor)?;
    partition.apply_and_request_transition(
        &[change],
        id,
        ApplicationStatus::Submitted.as_str(),
        None,
    )?;
    partition.discard_draft(&draft_key(programme))?;
    let stored = partition
        .get::<Application>(id)?
        .expect("the application was just written");
    application_view(partition, &stored, &p.name)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use doorstep_domain::individual::Individual;

    use super::*;
    use crate::app::details::ME_KEY;
    use crate::vault::{KdfParams, NoKeyStore, Vault};

    /// A registered person and a programme with a form that closed `closed_days_ago` days ago.
    fn closed_programme(closed_days_ago: i64) -> (tempfile::TempDir, Partition, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
        let (partition, _) = vault
            .create_partition("sunflower-42", KdfParams::FAST_INSECURE_FOR_TESTS)
            .unwrap();
        let now = OffsetDateTime::now_utc();
        let me = Individual::new(
            RecordMeta::new(new_id(), now, ActorId::new("t")),
            "Amina",
            "Njoroge",
        );
        let programme: Programme = serde_json::from_value(json!({
            "id": Uuid::now_v7(), "created_at": "2027-01-01T08:30:00Z",
            "updated_at": "2027-01-01T08:30:00Z", "created_by": "admin",
            "code": "school_meals", "name": "School meals",
            "applications_close_on": (now.date() - time::Duration::days(closed_days_ago)).to_string(),
        }))
        .unwrap();
        let form: FormDefinition = serde_json::from_value(json!({
            "id": Uuid::now_v7(), "created_at": "2027-01-01T08:30:00Z",
            "updated_at": "2027-01-01T08:30:00Z", "created_by": "admin",
            "programme_id": programme.meta.id, "version": 1,
            "schema": { "display": "form", "components": [] },
        }))
        .unwrap();
        partition
            .apply_batch(&[
                Change::of(&me, Op::Create, "t").unwrap(),
                Change::of(&programme, Op::Create, "t").unwrap(),
                Change::of(&form, Op::Create, "t").unwrap(),
            ])
            .unwrap();
        partition
            .save_draft(ME_KEY, &json!({ "individual": me.meta.id }))
            .unwrap();
        (dir, partition, *programme.meta.id.as_uuid())
    }

    #[test]
    fn a_first_submission_after_the_closing_day_is_refused_on_the_device_and_nothing_is_queued() {
        // Two days after: past the closing day everywhere on Earth.
        let (_dir, partition, programme) = closed_programme(2);
        let queued = partition.pending_count().unwrap();
        let err = submit(&partition, Who::default(), programme, json!({})).unwrap_err();
        match err {
            AppError::InvalidInput(r) => {
                assert_eq!(r.key, "applicationsClosed");
                assert!(r
                    .english
                    .contains("School meals stopped taking applications"));
            }
            other => panic!("{other}"),
        }
        assert_eq!(partition.pending_count().unwrap(), queued);
        // On the closing day itself it goes.
        let (_dir, partition, programme) = closed_programme(0);
        let queued = partition.pending_count().unwrap();
        submit(&partition, Who::default(), programme, json!({})).unwrap();
        assert!(partition.pending_count().unwrap() > queued);
    }
}
