//! The form builder's core against the real registry (SQLite, and PostgreSQL when the test
//! scripts provide one): an administrator creates and changes a programme, keeps designs on two
//! devices and publishes versions; the registry's refusals come back worded for them (a taken
//! code, a stale change, a version someone else published first, a non-administrator, no
//! network), and a design is kept until a publish succeeds.

mod common;

use std::sync::Arc;
use std::time::Duration;

use doorstep_client::app::builder::{design, programmes, publish, DesignOf, RegistryAdmin};
use doorstep_client::app::{AppError, ProgrammeInput};
use doorstep_client::registry::RegistryClient;
use doorstep_client::vault::{KdfParams, NoKeyStore, Partition, Vault, VaultError};
use doorstep_domain::document::DocumentKind;
use doorstep_domain::ids::{ActorId, RecordId};
use doorstep_domain::programme::FormDefinition;
use doorstep_domain::record::RecordMeta;
use doorstep_registry::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use common::{Registry, PASS};

fn token(registry: &Registry, role: Role, subject: &str) -> String {
    doorstep_registry::auth::dev_token(
        registry.data.path(),
        role,
        subject,
        None,
        None,
        Duration::from_secs(3600),
    )
    .unwrap()
}

fn admin(url: &str, token: &str) -> RegistryAdmin {
    RegistryAdmin::new(RegistryClient::new(url::Url::parse(url).unwrap()), token)
}

/// An administrator's device: a vault partition of its own.
fn device() -> (tempfile::TempDir, Arc<Partition>) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition(PASS, KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    (dir, Arc::new(partition))
}

/// The refusal's key and values, or a panic naming what came instead.
fn refusal<T: std::fmt::Debug>(
    result: Result<T, AppError>,
) -> (&'static str, Vec<(&'static str, String)>) {
    match result {
        Err(AppError::InvalidInput(r)) => (r.key, r.params),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn form(label: &str) -> Value {
    json!({
        "display": "form",
        "components": [
            {"type": "textfield", "key": "name", "label": label, "input": true, "validate": {"required": true}},
            {"type": "number", "key": "children", "label": "Children", "input": true},
            {"type": "textfield", "key": "school", "label": "School", "input": true,
             "conditional": {"json": {">": [{"var": "data.children"}, 0]}}}
        ],
        "i18n": {"fr": {"School": "École"}}
    })
}

#[tokio::test]
async fn an_administrator_creates_a_programme_and_publishes_versions_of_its_form() {
    for (backend, database) in common::backends().await {
        let registry = Registry::start(&database).await;
        let url = registry.url();
        let boss = admin(&url, &token(&registry, Role::Admin, "admin-1"));
        let other = admin(&url, &token(&registry, Role::Admin, "admin-2"));

        // A programme, created once; its code is then taken.
        let input = ProgrammeInput {
            id: None,
            rev: None,
            code: "school_meals".into(),
            name: "School meals".into(),
            description: Some("A hot meal every school day.".into()),
            allow_multiple_applications: false,
            required_documents: vec![DocumentKind::IdCard],
            requires_consent: false,
            applications_close_on: Some("2030-06-30".into()),
            liveness_interval_days: Some(180),
            liveness_grace_days: None,
        };
        let created = boss
            .save_programme(&programmes::record(&input, "admin-1").unwrap(), None)
            .await
            .unwrap();
        assert_eq!(created.meta.rev, Some(1), "{backend}");
        assert_eq!(created.required_documents, vec![DocumentKind::IdCard]);
        assert_eq!(
            created.applications_close_on,
            Some(time::macros::date!(2030 - 06 - 30))
        );
        assert_eq!(created.liveness_interval_days, Some(180));
        let again = boss
            .save_programme(&programmes::record(&input, "admin-1").unwrap(), None)
            .await;
        assert_eq!(
            refusal(again),
            (
                "programmeCodeTaken",
                vec![("code", "school_meals".to_owned())]
            ),
            "{backend}"
        );

        // A change made on revision 1, then another made on revision 1 too: the second is stale.
        let id = *created.meta.id.as_uuid();
        let change = ProgrammeInput {
            id: Some(id.to_string()),
            rev: Some(1),
            name: "School meals for all".into(),
            ..input.clone()
        };
        let changed = other
            .save_programme(&programmes::record(&change, "admin-2").unwrap(), Some(1))
            .await
            .unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.meta.rev),
            ("School meals for all", Some(2))
        );
        let stale = boss
            .save_programme(&programmes::record(&change, "admin-1").unwrap(), Some(1))
            .await;
        assert_eq!(refusal(stale).0, "programmeChanged", "{backend}");

        let of = DesignOf {
            code: "school_meals".into(),
            name: "School meals".into(),
        };
        // Version 1 from the first device; its design is gone once published.
        let (_a, first) = device();
        let (_b, second) = device();
        design::keep(&first, id, &of, &form("Name"), None).unwrap();
        let v1 = publish::publish(first.clone(), &boss, id, None, "admin-1")
            .await
            .unwrap();
        assert_eq!(v1.version, 1, "{backend}");
        assert_eq!(design::kept(&first, id).unwrap(), None);
        assert_eq!(
            refusal(publish::publish(first.clone(), &boss, id, None, "admin-1").await).0,
            "formNothingToPublish"
        );

        // Both devices start from version 1; the first publishes version 2 first.
        design::keep(&first, id, &of, &form("Full name"), Some(1)).unwrap();
        design::keep(&second, id, &of, &form("Your name"), Some(1)).unwrap();
        let v2 = publish::publish(first.clone(), &boss, id, None, "admin-1")
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        let meanwhile = publish::publish(second.clone(), &other, id, None, "admin-2").await;
        assert_eq!(
            refusal(meanwhile),
            ("formPublishedMeanwhile", vec![("version", "2".to_owned())]),
            "{backend}"
        );
        assert_eq!(
            design::kept(&second, id).unwrap().unwrap().schema,
            form("Your name"),
            "the refused design is kept"
        );
        // Told, the second administrator publishes theirs after version 2.
        let v3 = publish::publish(second.clone(), &other, id, Some(2), "admin-2")
            .await
            .unwrap();
        assert_eq!(v3.version, 3);

        // A version number taken between the read and the write (a race): a conflict.
        let racing = FormDefinition {
            meta: RecordMeta::new(
                RecordId::from_uuid(Uuid::now_v7()),
                time::OffsetDateTime::now_utc(),
                ActorId::new("admin-1"),
            ),
            programme_id: RecordId::from_uuid(id),
            version: 3,
            schema: form("Late"),
        };
        assert_eq!(
            refusal(boss.publish(&racing).await),
            ("formVersionTaken", vec![("version", "3".to_owned())]),
            "{backend}"
        );

        // A publish whose answer was lost: published again, it is found done, not doubled.
        design::keep(&first, id, &of, &form("Given name"), Some(3)).unwrap();
        let v4 = publish::publish(first.clone(), &boss, id, None, "admin-1")
            .await
            .unwrap();
        design::keep(&first, id, &of, &form("Given name"), Some(3)).unwrap();
        let replay = publish::publish(first.clone(), &boss, id, None, "admin-1")
            .await
            .unwrap();
        assert_eq!((v4.version, replay.version), (4, 4), "{backend}");
        assert_eq!(replay.id, v4.id);

        // Every version is at the registry, each as published.
        let forms = boss.forms(Some(id)).await.unwrap();
        let mut published: Vec<(u32, String)> = forms
            .iter()
            .map(|f| {
                (
                    f.version,
                    f.schema["components"][0]["label"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        published.sort();
        assert_eq!(
            published,
            [
                (1, "Name"),
                (2, "Full name"),
                (3, "Your name"),
                (4, "Given name")
            ]
            .map(|(v, l)| (v, l.to_owned()))
            .to_vec(),
            "{backend}"
        );
        assert_eq!(forms[0].schema["i18n"]["fr"]["School"], "École");
        assert_eq!(boss.latest_form(id).await.unwrap().unwrap().version, 4);

        // A form outside the registry's subset is named before it is sent, and kept; sent
        // anyway (another client), the registry refuses it with the same naming.
        let scripted = json!({"display": "form", "components": [
            {"type": "textfield", "key": "a", "label": "A", "input": true, "customConditional": "show = true;"}
        ]});
        let (_d, fourth) = device();
        design::keep(&fourth, id, &of, &scripted, Some(4)).unwrap();
        match publish::publish(fourth.clone(), &boss, id, None, "admin-1").await {
            Err(AppError::Vault(VaultError::Invalid(errors))) => assert!(
                errors
                    .errors
                    .iter()
                    .any(|e| e.field == "schema.components[0].customConditional"),
                "{errors:?}"
            ),
            other => panic!("expected the definition check, got {other:?}"),
        }
        assert!(design::kept(&fourth, id).unwrap().is_some());
        let mut sent = racing.clone();
        sent.meta.id = RecordId::from_uuid(Uuid::now_v7());
        sent.version = 5;
        sent.schema = scripted;
        let (key, params) = refusal(boss.publish(&sent).await);
        assert_eq!(key, "registryRefused", "{backend}");
        assert!(params[0].1.contains("customConditional"), "{params:?}");

        // Not an administrator: refused, said plainly, the design kept.
        let citizen = admin(&url, &token(&registry, Role::Citizen, "citizen-1"));
        let mut theirs = input.clone();
        theirs.code = "citizens_own".into();
        assert_eq!(
            refusal(
                citizen
                    .save_programme(&programmes::record(&theirs, "citizen-1").unwrap(), None)
                    .await
            )
            .0,
            "adminOnly",
            "{backend}"
        );
        let (_c, third) = device();
        design::keep(&third, id, &of, &form("Mine"), Some(4)).unwrap();
        assert_eq!(
            refusal(publish::publish(third.clone(), &citizen, id, None, "citizen-1").await).0,
            "adminOnly"
        );
        assert!(design::kept(&third, id).unwrap().is_some());

        // No registry at that address: offline, the design kept.
        let nowhere = admin(
            "http://127.0.0.1:9",
            &token(&registry, Role::Admin, "admin-1"),
        );
        assert_eq!(refusal(nowhere.programmes().await).0, "adminOffline");
        assert_eq!(
            refusal(publish::publish(third.clone(), &nowhere, id, None, "admin-1").await).0,
            "adminOffline"
        );
        assert!(design::kept(&third, id).unwrap().is_some());

        // The list an administrator sees: the programme with its latest version.
        let listed = programmes::list(
            true,
            boss.programmes().await.unwrap(),
            boss.forms(None).await.unwrap(),
            &design::kept_designs(&third).unwrap(),
        );
        let ours = listed
            .programmes
            .iter()
            .find(|p| p.code == "school_meals")
            .unwrap();
        assert_eq!(ours.latest_version, Some(4), "{backend}");
        assert!(ours.draft_saved_at.is_some());
        registry.stop().await;
    }
}
