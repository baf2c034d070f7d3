//! Demo data for trying Doorstep out: a few social programmes with their Form.io forms.
//!
//! Loaded by `serve --demo` (the README's run command does so). Loading is idempotent: records are
//! keyed by fixed ids, so restarting the demo server never duplicates them, and a programme an
//! operator changed is left as it is.

use serde::Deserialize;

use crate::storage::{NewProgramme, StorageError, Store};

/// The demo programmes, shipped inside the binary so `--demo` works from any directory.
const DEMO_PROGRAMMES: &str = include_str!("../demo/programmes.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoProgramme {
    id: String,
    code: String,
    name: String,
    description: String,
    form: serde_json::Value,
}

/// What [`load`] did, for the start-up log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub programmes_added: u64,
    pub programmes_present: u64,
}

/// Add the demo programmes that are not there yet (each with its form, atomically).
pub async fn load(store: &dyn Store) -> Result<DemoSummary, StorageError> {
    let programmes: Vec<DemoProgramme> = serde_json::from_str(DEMO_PROGRAMMES)
        .expect("demo/programmes.json is valid (checked by tests)");
    let mut summary = DemoSummary::default();
    for p in programmes {
        let programme = NewProgramme {
            id: p.id,
            code: p.code,
            name: p.name,
            description: p.description,
            form: p.form,
        };
        if store.add_programme_if_absent(&programme).await? {
            summary.programmes_added += 1;
        } else {
            summary.programmes_present += 1;
        }
    }
    Ok(summary)
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

        let forms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM form_definitions")
            .fetch_one(storage.pool())
            .await
            .unwrap();
        assert_eq!(
            forms as u64, first.programmes_added,
            "one form version per programme"
        );
        storage.close().await;
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
