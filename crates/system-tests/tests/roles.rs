//! Roles in the app (issue 17), end to end with two real OpenID providers: a citizens' provider
//! (eSignet-like: the registry believes it for citizens only) and the ministry's staff provider
//! (roles from the registry's staff directory only). The registry's first administrator is made
//! with `doorstep-registry admin grant`; from then on everything goes through the app core:
//!
//! - each person gets the sections of the role the registry gives them, and a device refuses,
//!   before anything is stored, someone it is not for (a citizen on an agent's laptop, staff at
//!   a kiosk);
//! - an administrator manages the staff directory from the app, the registry's reasons come
//!   back for bad grants, and an agent or a citizen is refused it;
//! - a role changed in the directory reaches the person's device with the next sync;
//! - staff and administrators see every record, and their sync keeps none on their computer.

mod common;

use common::app::{app, wait_for, PASSPHRASE};
use common::oidc::{start_provider, HeadlessLogin, Provider};
use doorstep_client::app::{
    AppError, Doorstep, Role, SessionView, StaffChange, StaffGrant, StaffRole,
};
use doorstep_registry::auth::IssuerConfig;
use doorstep_registry::config::Config;
use doorstep_registry::server::{self, RunningServer};
use doorstep_registry::staff_cli::{self, AdminAction};
use serde_json::json;

struct World {
    citizens: Provider,
    staff: Provider,
    registry: RunningServer,
    _data: tempfile::TempDir,
    devices: tempfile::TempDir,
}

fn issuer(provider: &Provider, grants: &[&str]) -> IssuerConfig {
    serde_json::from_value(json!({
        "issuer": provider.issuer,
        "audience": provider.audience,
        "grants": grants,
    }))
    .unwrap()
}

/// Both providers, a registry trusting them, and `admin-1` of the staff provider made its first
/// administrator on the server's command line.
async fn world() -> Option<World> {
    let citizens = start_provider(None).await?;
    let staff = start_provider(None).await?;
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(data.path());
    config.auth.issuers = vec![
        issuer(&citizens, &["citizen"]),
        issuer(&staff, &["agent", "staff", "admin"]),
    ];
    config.dev_auth = false;
    config.demo = true;
    config.limits.requests_per_minute = 0;
    grant_on_server(&config, &staff, "admin-1", StaffRole::Admin).await;
    let registry = server::start(&config).await.unwrap();
    Some(World {
        citizens,
        staff,
        registry,
        _data: data,
        devices: tempfile::tempdir().unwrap(),
    })
}

async fn grant_on_server(config: &Config, provider: &Provider, subject: &str, role: StaffRole) {
    staff_cli::run(
        config,
        AdminAction::Grant(StaffGrant {
            issuer: provider.issuer.clone(),
            subject: Some(subject.into()),
            email: None,
            role,
            areas: Vec::new(),
        }),
    )
    .await
    .unwrap();
}

impl World {
    fn url(&self) -> String {
        format!("http://{}", self.registry.addr)
    }

    fn device(&self, provider: &Provider, mode: &str, name: &str) -> Doorstep {
        let dir = self.devices.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        app(provider, &self.url(), &dir, mode)
    }
}

/// Sign in as `who`, choose the passphrase, wait for the first sync.
async fn signed_in(device: &Doorstep, who: &'static str) {
    let view = device.sign_in(&HeadlessLogin(who), false).await.unwrap();
    assert!(
        matches!(view, SessionView::ChoosePassphrase { .. }),
        "{view:?}"
    );
    device.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(device, "the first sync", |s| {
        !s.running && s.last_success.is_some()
    })
    .await;
}

fn role_and_problem(view: &SessionView) -> (Role, Option<String>) {
    match view {
        SessionView::Ready {
            role, wrong_device, ..
        } => (*role, wrong_device.clone()),
        other => panic!("not ready: {other:?}"),
    }
}

/// The refusal's stable key (what the UI words in each language).
fn refusal_key(error: AppError) -> &'static str {
    match error {
        AppError::InvalidInput(refusal) => refusal.key,
        other => panic!("not a refusal: {other:?}"),
    }
}

fn refusal_text(error: AppError) -> String {
    match error {
        AppError::InvalidInput(refusal) => refusal.english,
        other => panic!("not a refusal: {other:?}"),
    }
}

#[tokio::test]
async fn each_role_gets_its_sections_and_an_admin_runs_the_staff_directory() {
    let Some(w) = world().await else { return };

    // The administrator, on their own computer, through the staff provider.
    let admin = w.device(&w.staff, "personal", "admin");
    signed_in(&admin, "admin-1").await;
    assert_eq!(role_and_problem(&admin.view().await), (Role::Admin, None));
    // Staff see every record; their sync keeps none of them on their computer.
    assert!(admin.programmes().await.unwrap().is_empty());
    let directory = admin.staff_directory(None, false).await.unwrap();
    assert!(directory.can_change);
    assert_eq!(directory.own_issuer, w.staff.issuer);
    assert_eq!(directory.entries.len(), 1, "{directory:?}");
    assert_eq!(directory.entries[0].subject.as_deref(), Some("admin-1"));

    // Bad grants come back with the registry's reason and change nothing.
    let two_areas = admin
        .grant_staff(StaffGrant {
            issuer: w.staff.issuer.clone(),
            subject: Some("agent-1".into()),
            email: None,
            role: StaffRole::Agent,
            areas: vec!["KE.30".into(), "KE.31".into()],
        })
        .await
        .unwrap_err();
    assert!(
        refusal_text(two_areas).contains("exactly one area"),
        "an agent works in one area"
    );
    let citizens_provider = admin
        .grant_staff(StaffGrant {
            issuer: w.citizens.issuer.clone(),
            subject: Some("person-1".into()),
            email: None,
            role: StaffRole::Staff,
            areas: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(
        refusal_text(citizens_provider).contains("may not grant"),
        "the citizens' provider grants no staff role"
    );
    assert_eq!(
        admin.staff_directory(None, false).await.unwrap().entries.len(),
        1
    );

    // The administrator makes `agent-1` a field agent of KE.30.
    let agent_entry = admin
        .grant_staff(StaffGrant {
            issuer: w.staff.issuer.clone(),
            subject: Some("agent-1".into()),
            email: None,
            role: StaffRole::Agent,
            areas: vec!["KE.30".into()],
        })
        .await
        .unwrap();

    // The agent's laptop admits them; the staff directory is not theirs.
    let laptop = w.device(&w.staff, "agent", "laptop");
    signed_in(&laptop, "agent-1").await;
    assert_eq!(role_and_problem(&laptop.view().await), (Role::Agent, None));
    assert_eq!(
        refusal_key(laptop.staff_directory(None, false).await.unwrap_err()),
        "notYourRole"
    );

    // A citizen is turned away from the agent's laptop before anything of theirs is kept.
    let citizen_on_laptop = w.device(&w.citizens, "agent", "laptop-citizen");
    let refused = citizen_on_laptop
        .sign_in(&HeadlessLogin("person-1"), false)
        .await
        .unwrap_err();
    assert_eq!(refusal_key(refused), "notForAgentLaptop");
    match citizen_on_laptop.view().await {
        SessionView::SignedOut { profiles, .. } => assert!(profiles.is_empty()),
        other => panic!("{other:?}"),
    }

    // Staff and agents are turned away from a kiosk.
    let kiosk = w.device(&w.staff, "kiosk", "kiosk");
    let refused = kiosk
        .sign_in(&HeadlessLogin("admin-1"), false)
        .await
        .unwrap_err();
    assert_eq!(refusal_key(refused), "notForKiosk");
    assert!(matches!(kiosk.view().await, SessionView::SignedOut { .. }));

    // A citizen on their own device gets the citizen's sections, and no staff directory.
    let home = w.device(&w.citizens, "personal", "home");
    signed_in(&home, "person-1").await;
    assert_eq!(role_and_problem(&home.view().await), (Role::Citizen, None));
    assert!(
        !home.programmes().await.unwrap().is_empty(),
        "a citizen's sync brings the programmes"
    );
    assert_eq!(
        refusal_key(home.staff_directory(None, false).await.unwrap_err()),
        "notYourRole"
    );

    // The administrator moves `agent-1` to the office (staff): the laptop learns it at its next
    // sync and shows only why it is no longer theirs.
    admin
        .change_staff(
            agent_entry.id,
            StaffChange {
                role: StaffRole::Staff,
                areas: Vec::new(),
            },
        )
        .await
        .unwrap();
    let before = laptop.sync_status().borrow().last_success.clone();
    laptop.sync_now().await.unwrap();
    wait_for(&laptop, "the sync after the change", |s| {
        !s.running && s.last_success > before
    })
    .await;
    assert_eq!(
        role_and_problem(&laptop.view().await),
        (Role::Staff, Some("notForAgentLaptop".into()))
    );

    // Revoked entries stay as the trail; the last administrator cannot be revoked.
    let revoked = admin.revoke_staff(agent_entry.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let live = admin.staff_directory(None, false).await.unwrap();
    assert!(live.entries.iter().all(|e| e.id != agent_entry.id));
    let all = admin.staff_directory(None, true).await.unwrap();
    assert!(all.entries.iter().any(|e| e.id == agent_entry.id));
    let me = live.entries[0].id;
    let last_admin = admin.revoke_staff(me).await.unwrap_err();
    assert_eq!(refusal_key(last_admin), "registryRefused");
}
