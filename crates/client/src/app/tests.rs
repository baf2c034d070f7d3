//! Life-cycle rules that need no identity provider. Sign-in flows are tested against a real
//! provider in `crates/system-tests/tests/app.rs`.

use std::sync::Arc;

use url::Url;

use super::*;
use crate::vault::Choice;
use crate::vault::NoKeyStore;

fn core(dir: &std::path::Path, signin: bool) -> Doorstep {
    let registry = Url::parse("http://127.0.0.1:9").unwrap();
    let mut config = AppConfig::resolve(&registry, |_| None).unwrap();
    if signin {
        config.signin = Some(crate::signin::SignInConfig::new(
            "http://127.0.0.1:9",
            "doorstep",
            crate::signin::TokenExchange::Direct,
        ));
    }
    let settings = Settings::resolve(dir.to_owned(), None, None).unwrap();
    Doorstep::open_with_kdf(
        settings,
        config,
        Arc::new(NoKeyStore),
        Arc::new(NoKeyStore),
        KdfParams::FAST_INSECURE_FOR_TESTS,
    )
    .unwrap()
}

#[tokio::test]
async fn a_fresh_device_is_signed_out_with_nothing_to_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let app = core(dir.path(), false);
    assert_eq!(
        app.view().await,
        SessionView::SignedOut {
            mode: DeviceMode::Personal,
            sign_in_available: false,
            profiles: vec![],
            wiped: None,
        }
    );
    assert!(matches!(
        app.unlock(None, "whatever".into()).await,
        Err(AppError::WrongStage(_))
    ));
    assert!(matches!(app.home().await, Err(AppError::WrongStage(_))));
    assert!(matches!(app.sync_now().await, Err(AppError::WrongStage(_))));
    assert!(matches!(
        app.choose_passphrase("long enough".into()).await,
        Err(AppError::WrongStage(_))
    ));
}

#[tokio::test]
async fn sign_in_without_a_provider_says_so_and_an_unreachable_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let browser = crate::signin::SystemBrowser;
    let err = core(dir.path(), false)
        .sign_in(&browser, false)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SignInNotConfigured), "{err}");
    let err = core(dir.path(), true)
        .sign_in(&browser, false)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SignIn(_)), "{err}");
}

#[test]
fn conflict_choices_are_checked() {
    let ok = field_choices(vec![
        FieldChoice::Mine { field: "a".into() },
        FieldChoice::Value {
            field: "b".into(),
            value: "merged".into(),
        },
    ])
    .unwrap();
    assert_eq!(ok["b"], Choice::Value(serde_json::json!("merged")));
    assert!(field_choices(vec![]).is_err());
    assert!(field_choices(vec![
        FieldChoice::Mine { field: "a".into() },
        FieldChoice::Theirs { field: "a".into() },
    ])
    .is_err());
}
