//! A forgotten passphrase: after signing in, the person starts afresh. The app says what only
//! this device held (counted while the data was open: here a phone number changed while the
//! registry was away), erases the locked data keys first, and the registry's copy comes back
//! with the first sync under a new passphrase. Real identity provider, real registry, over
//! loopback.

mod common;

use common::app::*;
use common::oidc::{start_provider, HeadlessLogin, PERSON};
use doorstep_client::app::{AppError, MyDetails, SessionView};
use doorstep_registry::server;
use doorstep_registry::storage::DatabaseLocation;

fn details(phone: &str) -> MyDetails {
    MyDetails {
        given_name: "Amina".into(),
        family_name: "Njoroge".into(),
        birthdate: Some("1988-04-12".into()),
        phone: Some(phone.into()),
        email: None,
        preferred_language: Some("en".into()),
        address: None,
        opted_out: Vec::new(),
    }
}

#[tokio::test]
async fn a_person_who_forgot_the_passphrase_starts_afresh_and_gets_the_registrys_copy_back() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = registry_trusting(&provider, registry_dir.path()).await;
    let data = tempfile::tempdir().unwrap();
    let app = app(
        &provider,
        &format!("http://{}", registry.addr),
        data.path(),
        "personal",
    );

    // Registered and synced: the registry holds the person's record.
    app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    app.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    let before = mark(&app);
    app.save_my_details(details("+254712345678")).await.unwrap();
    wait_synced_since(&app, "registration synced", before).await;
    let old_partition = std::fs::read_dir(data.path().join("partitions"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // The registry goes away; a new phone number waits on this device only.
    let addr = registry.addr;
    registry.shutdown().await.unwrap();
    app.save_my_details(details("+254700000001")).await.unwrap();
    // The counts reach profiles.json while the data is open (bounded wait).
    let profiles = data.path().join("profiles.json");
    let counted = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        v["profiles"][0]["unsent"]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    };
    for _ in 0..100 {
        if counted(&std::fs::read_to_string(&profiles).unwrap()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&profiles).unwrap();
    assert!(counted(&text), "{text}");
    app.sign_out(false).await.unwrap();
    let mut config = trusting_config(
        &provider,
        registry_dir.path(),
        &DatabaseLocation::EmbeddedSqlite,
    );
    config.listen = addr;
    let _registry = server::start(&config).await.unwrap();

    // Not signed in: starting afresh is refused (the passphrase is all that proves who it is).
    assert!(app.start_afresh().await.is_err());

    // Signed in again, the data is locked; the passphrase is forgotten.
    let view = app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    assert!(
        matches!(
            view,
            SessionView::Locked {
                signed_in: true,
                ..
            }
        ),
        "{view:?}"
    );
    assert!(app.unlock(None, "not my passphrase".into()).await.is_err());
    let preview = app.start_afresh_preview().await.unwrap();
    let unsent = preview.unsent.expect("the counts were kept");
    assert!(
        unsent
            .changes
            .iter()
            .any(|c| c.kind == "contact" || c.kind == "individual"),
        "the new phone number is listed: {unsent:?}"
    );
    assert_eq!(
        (unsent.submissions, unsent.documents, unsent.drafts),
        (0, 0, 0)
    );
    assert!(preview.as_of.is_some());

    let view = app.start_afresh().await.unwrap();
    assert!(
        matches!(view, SessionView::ChoosePassphrase { .. }),
        "{view:?}"
    );
    assert!(!old_partition.exists(), "the old partition is erased");
    assert!(
        matches!(app.start_afresh().await, Err(AppError::WrongStage(_))),
        "nothing left to start afresh"
    );

    // A new passphrase; the first sync brings the record back from the registry.
    let before = mark(&app);
    app.choose_passphrase("a new river stone 7".into())
        .await
        .unwrap();
    wait_synced_since(&app, "pulled after starting afresh", before).await;
    let home = app.home().await.unwrap();
    assert!(home.registered, "{home:?}");
    assert_eq!(
        home.details.phone.as_deref(),
        Some("+254712345678"),
        "the registry's copy; the unsent number was only on the erased data"
    );

    // Signed in again, the new passphrase opens the data (the sign-in's own unlock path).
    app.sign_out(false).await.unwrap();
    let view = app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    assert!(
        matches!(
            view,
            SessionView::Locked {
                signed_in: true,
                ..
            }
        ),
        "{view:?}"
    );
    let view = app
        .unlock(None, "a new river stone 7".into())
        .await
        .unwrap();
    assert!(
        matches!(
            view,
            SessionView::Ready {
                signed_in: true,
                ..
            }
        ),
        "{view:?}"
    );
}
