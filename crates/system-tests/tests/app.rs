//! The app's life cycle (`doorstep_client::app::Doorstep`) against a real identity provider and
//! a real registry over loopback: first sign-in and passphrase, registration synced, offline
//! unlock, signing in again to send what was typed offline, and the kiosk that keeps nothing.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::oidc::{start_provider, HeadlessLogin, Provider, PERSON, PUBLIC_CLIENT};
use doorstep_client::app::config::{self as app_config, AppConfig};
use doorstep_client::app::{AppError, DeviceMode, Doorstep, MyDetails, SessionView};
use doorstep_client::settings::Settings;
use doorstep_client::sync::service::SyncStatus;
use doorstep_client::vault::{KdfParams, NoKeyStore, VaultError};
use doorstep_registry::auth::AuthConfig;
use doorstep_registry::config::Config;
use doorstep_registry::server::{self, RunningServer};
use url::Url;

const PASSPHRASE: &str = "river stone 42";

async fn registry_trusting(provider: &Provider, data: &std::path::Path) -> RunningServer {
    let mut config = Config::ephemeral(data);
    config.auth = AuthConfig {
        issuer: Some(provider.issuer.clone()),
        audience: Some(provider.audience.clone()),
        ..AuthConfig::default()
    };
    config.limits.requests_per_minute = 0;
    server::start(&config).await.unwrap()
}

/// The app core as the shell builds it, configured like `./dev run`: the provider's public
/// native client, registry-bound access tokens, claims in the ID token.
fn app(provider: &Provider, registry: &str, data: &std::path::Path, mode: &str) -> Doorstep {
    let registry = Url::parse(registry).unwrap();
    let vars: HashMap<&str, String> = HashMap::from([
        (app_config::ENV_MODE, mode.to_owned()),
        (app_config::ENV_OIDC_ISSUER, provider.issuer.clone()),
        (app_config::ENV_OIDC_CLIENT_ID, PUBLIC_CLIENT.to_owned()),
        (app_config::ENV_OIDC_REDEEM, "app".to_owned()),
        (app_config::ENV_OIDC_RESOURCE, provider.resource.clone()),
        (app_config::ENV_OIDC_CLAIMS_FROM, "id_token".to_owned()),
    ]);
    let config = AppConfig::resolve(&registry, |name| vars.get(name).cloned()).unwrap();
    let settings = Settings::resolve(data.to_owned(), None, Some(registry.to_string())).unwrap();
    Doorstep::open_with_kdf(
        settings,
        config,
        Arc::new(NoKeyStore),
        Arc::new(NoKeyStore),
        KdfParams::FAST_INSECURE_FOR_TESTS,
    )
    .unwrap()
}

/// Wait (bounded) until the sync status satisfies `done`.
async fn wait_for(app: &Doorstep, what: &str, done: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut rx = app.sync_status();
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let now = rx.borrow_and_update().clone();
            if done(&now) {
                return now;
            }
            rx.changed().await.unwrap();
        }
    })
    .await;
    waited.unwrap_or_else(|_| panic!("sync never reached: {what}; last {:?}", *rx.borrow()))
}

fn details(given: &str, phone: &str) -> MyDetails {
    MyDetails {
        given_name: given.into(),
        family_name: "Njoroge".into(),
        birthdate: Some("1988-04-12".into()),
        phone: Some(phone.into()),
        email: Some("amina@example.org".into()),
        preferred_language: Some("fr".into()),
    }
}

fn synced(s: &SyncStatus) -> bool {
    !s.running && s.pending == 0 && s.last_success.is_some() && s.last_error.is_none()
}

#[tokio::test]
async fn first_sign_in_registers_then_offline_unlock_then_sign_in_sends_the_offline_work() {
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

    // First sign-in: a new person chooses a passphrase; a short one is refused.
    let view = app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    assert!(
        matches!(view, SessionView::ChoosePassphrase { ref name, .. } if name.as_deref() == Some("Amina Njoroge")),
        "{view:?}"
    );
    let short = app.choose_passphrase("abc".into()).await.unwrap_err();
    assert!(
        matches!(short, AppError::Vault(VaultError::PassphraseTooShort)),
        "{short}"
    );
    let view = app.choose_passphrase(PASSPHRASE.into()).await.unwrap();
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

    // Not registered yet: the form starts from what the provider vouched for.
    let home = app.home().await.unwrap();
    assert!(!home.registered);
    assert_eq!(
        home.national_id.as_deref(),
        Some(common::oidc::INDIVIDUAL_ID)
    );
    assert_eq!(home.details.given_name, "Amina");
    assert_eq!(home.details.birthdate.as_deref(), Some("1988-04-12"));

    // Bad input changes nothing.
    let mut bad = details("Amina", "call me maybe");
    assert!(matches!(
        app.save_my_details(bad.clone()).await,
        Err(AppError::InvalidInput(_))
    ));
    bad.phone = None;
    bad.birthdate = Some("2999-01-01".into());
    assert!(matches!(
        app.save_my_details(bad).await,
        Err(AppError::InvalidInput(_))
    ));
    assert!(!app.home().await.unwrap().registered);

    // Registering queues the records and sync sends them.
    let home = app
        .save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    assert!(home.registered);
    wait_for(&app, "registration synced", synced).await;
    let home = app.home().await.unwrap();
    assert!(home.synced, "{home:?}");
    assert_eq!(home.details.phone.as_deref(), Some("+254712345678"));

    // Sign out; the profile stays, listed without personal data.
    let view = app.sign_out(false).await.unwrap();
    let SessionView::SignedOut { profiles, .. } = view else {
        panic!("{view:?}")
    };
    assert_eq!(profiles.len(), 1);
    assert!(matches!(app.home().await, Err(AppError::WrongStage(_))));
    let index = std::fs::read_to_string(data.path().join("profiles.json")).unwrap();
    assert!(
        !index.contains("Amina") && !index.contains(PERSON),
        "{index}"
    );

    // Offline unlock: wrong passphrase refused, right one opens the data without a session.
    let wrong = app.unlock(None, "not it at all".into()).await.unwrap_err();
    assert!(
        matches!(wrong, AppError::Vault(VaultError::WrongPassphrase { .. })),
        "{wrong}"
    );
    let view = app.unlock(None, PASSPHRASE.into()).await.unwrap();
    assert!(
        matches!(
            view,
            SessionView::Ready {
                signed_in: false,
                ..
            }
        ),
        "{view:?}"
    );
    app.save_my_details(details("Amina Wanjiru", "+254712345678"))
        .await
        .unwrap();
    let status = wait_for(&app, "offline counts", |s| s.pending == 1).await;
    assert!(status.last_error.unwrap().contains("Sign in"));

    // Signing in again (same person) sends what was typed offline.
    let view = app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
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
    wait_for(&app, "offline edit synced", synced).await;
    assert_eq!(
        app.home().await.unwrap().name.as_deref(),
        Some("Amina Wanjiru Njoroge")
    );

    // A second device of the same person pulls the registration after its own first sign-in.
    let other_data = tempfile::tempdir().unwrap();
    let other = self::app(
        &provider,
        &format!("http://{}", registry.addr),
        other_data.path(),
        "agent",
    );
    other.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    other.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&other, "first pull", synced).await;
    let home = other.home().await.unwrap();
    assert!(home.registered && home.synced, "{home:?}");
    assert_eq!(home.details.email.as_deref(), Some("amina@example.org"));

    registry.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_kiosk_keeps_nothing_after_sign_out_and_never_loses_unsent_work_silently() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = registry_trusting(&provider, registry_dir.path()).await;
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://{}", registry.addr);
    let kiosk = app(&provider, &url, data.path(), "kiosk");

    // No passphrase step on a kiosk; the data is there only for the visit.
    let view = kiosk.sign_in(&HeadlessLogin(PERSON), true).await.unwrap();
    assert!(
        matches!(
            view,
            SessionView::Ready {
                mode: DeviceMode::Kiosk,
                signed_in: true,
                ..
            }
        ),
        "{view:?}"
    );
    kiosk
        .save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    wait_for(&kiosk, "kiosk registration synced", synced).await;
    let view = kiosk.sign_out(false).await.unwrap();
    assert!(
        matches!(view, SessionView::SignedOut { ref profiles, .. } if profiles.is_empty()),
        "{view:?}"
    );
    assert_partitions_empty(data.path());

    // Unsent work blocks the wipe until the person agrees to discard it.
    registry.shutdown().await.unwrap();
    kiosk.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    kiosk
        .save_my_details(details("Amina", "+254700000001"))
        .await
        .unwrap();
    wait_for(&kiosk, "offline failure seen", |s| {
        s.last_error.is_some() && !s.running
    })
    .await;
    let err = kiosk.sign_out(false).await.unwrap_err();
    assert!(
        matches!(err, AppError::UnsentChanges { count } if count >= 1),
        "{err}"
    );
    assert!(
        kiosk.home().await.is_ok(),
        "still signed in after the refusal"
    );
    kiosk.sign_out(true).await.unwrap();
    assert_partitions_empty(data.path());
}

fn assert_partitions_empty(data: &std::path::Path) {
    let left: Vec<_> = std::fs::read_dir(data.join("partitions"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
