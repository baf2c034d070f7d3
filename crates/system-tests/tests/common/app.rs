//! The app core (`doorstep_client::app::Doorstep`) as the shell builds it, against the test
//! provider and a real registry: what the app-level system tests share.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use doorstep_client::app::config::{self as app_config, AppConfig};
use doorstep_client::app::Doorstep;
use doorstep_client::settings::Settings;
use doorstep_client::sync::service::SyncStatus;
use doorstep_client::vault::{KdfParams, NoKeyStore};
use doorstep_registry::auth::AuthConfig;
use doorstep_registry::config::Config;
use doorstep_registry::server::{self, RunningServer};
use doorstep_registry::storage::DatabaseLocation;
use url::Url;

use super::oidc::{Provider, PUBLIC_CLIENT};

pub const PASSPHRASE: &str = "river stone 42";

/// A registry trusting the test provider's tokens, and development tokens signed with the key in
/// `data` (the tests' other clients: staff reads, a seeding agent).
pub async fn registry_trusting(provider: &Provider, data: &std::path::Path) -> RunningServer {
    server::start(&trusting_config(
        provider,
        data,
        &DatabaseLocation::EmbeddedSqlite,
    ))
    .await
    .unwrap()
}

/// The configuration of [`registry_trusting`] on `database`; start it with `server::start`, and
/// again with `listen` set to the first run's address to bring "the same registry" back.
pub fn trusting_config(
    provider: &Provider,
    data: &std::path::Path,
    database: &DatabaseLocation,
) -> Config {
    let mut config = Config::ephemeral(data);
    config.database = database.clone();
    config.auth = AuthConfig {
        issuer: Some(provider.issuer.clone()),
        audience: Some(provider.audience.clone()),
        ..AuthConfig::default()
    };
    config.dev_auth = true;
    config.limits.requests_per_minute = 0;
    config
}

/// The app core as the shell builds it, configured like `./dev run`: the provider's public
/// native client, registry-bound access tokens, claims in the ID token.
pub fn app(provider: &Provider, registry: &str, data: &std::path::Path, mode: &str) -> Doorstep {
    app_with(provider, registry, data, mode, &[])
}

/// [`app`] with more of the installation's settings (`DOORSTEP_*` variables).
pub fn app_with(
    provider: &Provider,
    registry: &str,
    data: &std::path::Path,
    mode: &str,
    extra: &[(&'static str, &str)],
) -> Doorstep {
    let registry = Url::parse(registry).unwrap();
    let mut vars: HashMap<&str, String> = HashMap::from([
        (app_config::ENV_MODE, mode.to_owned()),
        (app_config::ENV_OIDC_ISSUER, provider.issuer.clone()),
        (app_config::ENV_OIDC_CLIENT_ID, PUBLIC_CLIENT.to_owned()),
        (app_config::ENV_OIDC_REDEEM, "app".to_owned()),
        (app_config::ENV_OIDC_RESOURCE, provider.resource.clone()),
        (app_config::ENV_OIDC_CLAIMS_FROM, "id_token".to_owned()),
    ]);
    vars.extend(
        extra
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
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
pub async fn wait_for(
    app: &Doorstep,
    what: &str,
    done: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
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

pub fn synced(s: &SyncStatus) -> bool {
    !s.running && s.pending == 0 && s.last_success.is_some() && s.last_error.is_none()
}

/// The round left no refused change and no conflict; if it did, say what the registry said.
pub async fn assert_nothing_refused(app: &Doorstep, status: &SyncStatus) {
    if (status.rejected, status.conflicts) != (0, 0) {
        let rejections = app.rejections().await;
        let conflicts = app.conflicts().await;
        panic!("{status:?}\nrefused: {rejections:?}\nconflicts: {conflicts:?}");
    }
}

/// When the last clean round ended; take it before a change, then [`wait_synced_since`].
pub fn mark(app: &Doorstep) -> Option<String> {
    app.sync_status().borrow().last_success.clone()
}

/// Wait for a clean round that ended after `mark` (the status shown before a change was made
/// may already say "synced": it describes the previous round).
pub async fn wait_synced_since(app: &Doorstep, what: &str, mark: Option<String>) -> SyncStatus {
    wait_for(app, what, |s| synced(s) && s.last_success > mark).await
}

/// A small but real PNG (the registry sniffs the type; it must be an image).
pub fn png(extra: usize) -> Vec<u8> {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];
    bytes.extend((0..extra).map(|i| (i * 31 % 251) as u8));
    bytes
}

pub fn files_in(dir: &std::path::Path) -> usize {
    walk(dir).len()
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A field agent's laptop: the app core in agent mode, signed in as the provider's `agent-1`
/// (agent role, area KE.30) with its passphrase chosen, after its first sync.
pub async fn agent_laptop(provider: &Provider, registry: &str, data: &std::path::Path) -> Doorstep {
    let agent = app(provider, registry, data, "agent");
    agent
        .sign_in(&super::oidc::HeadlessLogin("agent-1"), true)
        .await
        .unwrap();
    agent.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&agent, "the agent's first sync", synced).await;
    agent
}

/// A development token (ten minutes) signed with the key in the registry's data folder.
pub fn dev_token(
    registry_data: &std::path::Path,
    role: doorstep_registry::auth::Role,
    subject: &str,
    area: Option<&str>,
) -> String {
    doorstep_registry::auth::dev_token(
        registry_data,
        role,
        subject,
        area,
        None,
        Duration::from_secs(600),
    )
    .unwrap()
}
