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

/// When the last clean round ended; take it before a change, then [`wait_synced_since`].
fn mark(app: &Doorstep) -> Option<String> {
    app.sync_status().borrow().last_success.clone()
}

/// Wait for a clean round that ended after `mark` (the status shown before a change was made
/// may already say "synced": it describes the previous round).
async fn wait_synced_since(app: &Doorstep, what: &str, mark: Option<String>) -> SyncStatus {
    wait_for(app, what, |s| synced(s) && s.last_success > mark).await
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
    let before = mark(&app);
    let home = app
        .save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    assert!(home.registered);
    wait_synced_since(&app, "registration synced", before).await;
    let home = app.home().await.unwrap();
    assert!(home.synced, "{home:?}");
    assert_eq!(home.details.phone.as_deref(), Some("+254712345678"));

    // The passphrase can be changed with the old one; a wrong old one or a short new one is refused.
    let wrong = app
        .change_passphrase("not it".into(), "new passphrase 1".into())
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, AppError::Vault(VaultError::WrongPassphrase { .. })),
        "{wrong}"
    );
    let short = app
        .change_passphrase(PASSPHRASE.into(), "abc".into())
        .await
        .unwrap_err();
    assert!(
        matches!(short, AppError::Vault(VaultError::PassphraseTooShort)),
        "{short}"
    );
    app.change_passphrase(PASSPHRASE.into(), "new passphrase 1".into())
        .await
        .unwrap();
    app.change_passphrase("new passphrase 1".into(), PASSPHRASE.into())
        .await
        .unwrap();

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
    assert_eq!(
        status.last_error_kind,
        Some(doorstep_client::sync::service::SyncErrorKind::OpenedOffline)
    );

    // Offline unlocks stop working some days after the last online sign-in (30 by default).
    app.sign_out(false).await.unwrap();
    let index_path = data.path().join("profiles.json");
    let fresh = std::fs::read_to_string(&index_path).unwrap();
    let mut stale: serde_json::Value = serde_json::from_str(&fresh).unwrap();
    stale["profiles"][0]["last_signed_in_at"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&index_path, stale.to_string()).unwrap();
    let reopened = self::app(
        &provider,
        &format!("http://{}", registry.addr),
        data.path(),
        "personal",
    );
    let err = reopened.unlock(None, PASSPHRASE.into()).await.unwrap_err();
    assert!(
        matches!(err, AppError::SignInRequired { days: 30 }),
        "{err}"
    );
    std::fs::write(&index_path, fresh).unwrap();
    let app = self::app(
        &provider,
        &format!("http://{}", registry.addr),
        data.path(),
        "personal",
    );
    app.unlock(None, PASSPHRASE.into()).await.unwrap();
    let status = wait_for(&app, "offline counts again", |s| s.pending == 1).await;
    assert!(status.last_error.is_some());

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
    let before = mark(&kiosk);
    kiosk
        .save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    wait_synced_since(&kiosk, "kiosk registration synced", before).await;
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

#[tokio::test]
async fn a_field_agent_signs_in_as_themself_and_acts_on_behalf_of_a_beneficiary() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let registry_dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(registry_dir.path());
    config.auth = AuthConfig {
        issuer: Some(provider.issuer.clone()),
        audience: Some(provider.audience.clone()),
        ..AuthConfig::default()
    };
    config.dev_auth = true;
    config.limits.requests_per_minute = 0;
    let registry = server::start(&config).await.unwrap();
    let url = format!("http://{}", registry.addr);
    let dev = |role, subject: &str, area: Option<&str>| {
        doorstep_registry::auth::dev_token(
            registry_dir.path(),
            role,
            subject,
            area,
            None,
            Duration::from_secs(600),
        )
        .unwrap()
    };
    // A beneficiary registered earlier by another agent of the same area.
    let beneficiary = uuid::Uuid::now_v7();
    let now = "2026-01-05T09:00:00Z";
    let created = reqwest::Client::new()
        .post(format!("{url}/v1/individuals"))
        .bearer_auth(dev(doorstep_registry::auth::Role::Agent, "seed-agent", Some("KE.30")))
        .json(&serde_json::json!({
            "id": beneficiary, "created_at": now, "updated_at": now, "created_by": "agent:seed-agent",
            "given_name": "Wanjiku", "family_name": "Kamau",
            "reg_ids": [{"id_type": "national_id", "value": "27182818"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    // The agent signs in as themself (agent role and area from the provider's token).
    let data = tempfile::tempdir().unwrap();
    let agent = app(&provider, &url, data.path(), "agent");
    agent
        .sign_in(&HeadlessLogin("agent-1"), true)
        .await
        .unwrap();
    agent.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&agent, "the area pulled", synced).await;
    let found = agent.people("wanj".into(), 50).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].national_id.as_deref(), Some("27182818"));
    assert!(agent
        .people("nobody-by-that-name".into(), 50)
        .await
        .unwrap()
        .is_empty());

    let mut details = agent.person_details(beneficiary).await.unwrap();
    assert_eq!(details.given_name, "Wanjiku");
    details.given_name = "Wanjiku Njeri".into();
    details.phone = Some("+254 700 111 222".into());
    let before = mark(&agent);
    agent
        .save_person_details(beneficiary, details)
        .await
        .unwrap();
    let status = wait_synced_since(&agent, "the agent's edit synced", before).await;
    assert_eq!((status.rejected, status.conflicts), (0, 0), "{status:?}");

    // The registry's audit trail names the agent as author, acting for the beneficiary.
    let trail: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v1/individuals/{beneficiary}/history"))
        .bearer_auth(dev(doorstep_registry::auth::Role::Staff, "auditor", None))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = trail.as_array().unwrap_or_else(|| panic!("{trail}"));
    assert_eq!(items.len(), 2, "created, then the agent's edit: {trail}");
    let entry = items.iter().max_by_key(|e| e["rev"].as_u64()).unwrap();
    assert!(
        entry["actor"].as_str().unwrap().contains("agent-1"),
        "{trail}"
    );
    assert_eq!(entry["on_behalf_of"], beneficiary.to_string(), "{trail}");
    registry.shutdown().await.unwrap();
}
