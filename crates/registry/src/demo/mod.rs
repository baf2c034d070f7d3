//! Demo data for trying Doorstep out: a few social programmes with their Form.io forms.
//!
//! Loaded by `serve --demo` (the README's run command does so). Loading is idempotent: records are
//! keyed by fixed ids, so restarting the demo server never duplicates them, and a programme an
//! operator changed is left as it is.

pub mod areas;
pub mod households;

use doorstep_domain::RecordKind;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::resources;
use crate::storage::{CommitError, Expect, StorageError, Store, Write, WriteContext};

/// The demo programmes, shipped inside the binary so `--demo` works from any directory.
const DEMO_PROGRAMMES: &str = include_str!("../../demo/programmes.json");

/// Actor id demo records are written as.
pub const DEMO_ACTOR: &str = "system:demo";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoProgramme {
    id: String,
    form_id: String,
    code: String,
    name: String,
    description: String,
    /// Document kinds an application needs (`id_card`, `proof_of_address`…).
    #[serde(default)]
    required_documents: Vec<String>,
    /// The Form.io form; its `i18n` member holds the French and Arabic wording.
    form: serde_json::Value,
    /// Answers the demo households' applications carry: valid on `form`, so a demo draft can
    /// be submitted as it is.
    demo_answers: serde_json::Value,
}

/// What [`load`] did, for the start-up log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub programmes_added: u64,
    pub programmes_present: u64,
}

/// Ids of the shipped demo programmes.
pub fn programme_ids() -> Vec<uuid::Uuid> {
    let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES)
        .expect("demo/programmes.json is valid (checked by tests)");
    programmes
        .iter()
        .map(|p| p.id.parse().expect("demo programme ids are UUIDs"))
        .collect()
}

/// The answers demo applications to `programme` carry (`{}` for a programme not in the demo).
pub fn answers_for(programme: uuid::Uuid) -> serde_json::Value {
    let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES)
        .expect("demo/programmes.json is valid (checked by tests)");
    programmes
        .into_iter()
        .find(|p| p.id.parse::<uuid::Uuid>().ok() == Some(programme))
        .map_or_else(|| json!({}), |p| p.demo_answers)
}

/// Add the demo programmes that are not there yet (each with its form, atomically).
pub async fn load(store: &dyn Store) -> Result<DemoSummary, StorageError> {
    let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES)
        .expect("demo/programmes.json is valid (checked by tests)");
    let mut summary = DemoSummary::default();
    let now = OffsetDateTime::now_utc();
    let stamp = doorstep_domain::timestamp::format(now);
    for p in programmes {
        let programme = json!({
            "id": p.id, "created_at": stamp, "updated_at": stamp, "created_by": DEMO_ACTOR,
            "code": p.code, "name": p.name, "description": p.description,
            "required_documents": p.required_documents,
        });
        let form = json!({
            "id": p.form_id, "created_at": stamp, "updated_at": stamp, "created_by": DEMO_ACTOR,
            "programme_id": p.id, "version": 1, "schema": p.form,
        });
        let programme = config_write(RecordKind::Programme, programme);
        let form_index_ref = [programme.index.clone()];
        let form = config_write_with(RecordKind::FormDefinition, form, &form_index_ref);
        let ctx = WriteContext {
            at: now,
            ..WriteContext::by(DEMO_ACTOR)
        };
        match store.commit(vec![programme, form], &ctx).await {
            Ok(_) => summary.programmes_added += 1,
            Err(CommitError::Exists { .. } | CommitError::Duplicate { .. }) => {
                summary.programmes_present += 1
            }
            Err(CommitError::Storage(e)) => return Err(e),
            Err(other) => panic!("demo programme refused: {other}"),
        }
    }
    Ok(summary)
}

fn config_write(kind: RecordKind, body: serde_json::Value) -> Write {
    config_write_with(kind, body, &[])
}

/// A new record from the shipped demo data (validated like any API write).
fn config_write_with(
    kind: RecordKind,
    body: serde_json::Value,
    referenced: &[crate::storage::RecordIndex],
) -> Write {
    let (typed, body) = resources::parse(kind, body)
        .unwrap_or_else(|e| panic!("shipped demo {kind} is invalid: {e:?}"));
    let mut index = typed.index(referenced, None);
    index.creator = DEMO_ACTOR.into();
    Write {
        kind,
        id: typed.id(),
        expect: Expect::Absent,
        body,
        index,
        deleted: false,
        duplicate_check: None,
        outbound: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loading_twice_adds_once() {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::sqlite::SqliteStore::open(dir.path())
            .await
            .unwrap();
        let first = load(&storage).await.unwrap();
        assert!(first.programmes_added >= 2);
        assert_eq!(first.programmes_present, 0);

        let second = load(&storage).await.unwrap();
        assert_eq!(second.programmes_added, 0);
        assert_eq!(second.programmes_present, first.programmes_added);

        let forms: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE kind = 'form_definition'")
                .fetch_one(storage.pool())
                .await
                .unwrap();
        assert_eq!(
            forms as u64, first.programmes_added,
            "one form version per programme"
        );
        storage.close().await;
    }

    /// The registry checks every form definition written through the API; the demo's are
    /// written straight to the store, so they are held to the same check here, and their demo
    /// answers to the forms.
    #[test]
    fn every_demo_form_keeps_to_the_checked_subset_and_its_answers_pass_it() {
        let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES).unwrap();
        for p in programmes {
            doorstep_domain::formio::check_definition(&p.form)
                .unwrap_or_else(|e| panic!("demo form of {}: {e}", p.code));
            let cleaned = doorstep_domain::formio::validate_submission(&p.form, &p.demo_answers)
                .unwrap_or_else(|e| panic!("demo answers of {}: {e}", p.code));
            assert_eq!(
                cleaned, p.demo_answers,
                "{}: the demo answers are kept as they are",
                p.code
            );
            assert_eq!(answers_for(p.id.parse().unwrap()), p.demo_answers);
        }
    }

    /// The demo households' applications are drafts; submitted as they are, they pass too.
    #[test]
    fn demo_households_applications_would_pass_their_form_when_submitted() {
        let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES).unwrap();
        let mut seen = 0;
        for (kind, body, _) in households::generate(30, 7, &programme_ids())
            .into_iter()
            .flatten()
        {
            if kind != RecordKind::Application {
                continue;
            }
            let programme = programmes
                .iter()
                .find(|p| p.id == body["programme_id"])
                .unwrap();
            assert_eq!(body["form_version"], 1, "the demo forms are at version 1");
            // Written straight to the store: only drafts, which the registry keeps as typed.
            assert_eq!(body["status"], "draft");
            doorstep_domain::formio::validate_submission(&programme.form, &body["data"])
                .unwrap_or_else(|e| panic!("{}: {e}", programme.code));
            seen += 1;
        }
        assert!(seen > 0, "the demo has applications");
    }

    #[test]
    fn every_demo_form_has_a_submit_button() {
        let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES).unwrap();
        for p in programmes {
            let components = p.form["components"].as_array().expect("components array");
            assert!(
                components.iter().any(|c| c["action"] == "submit"),
                "programme {} has no submit button",
                p.code
            );
        }
    }
}
