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
//! - staff and administrators see every record, and their sync keeps none on their computer;
//! - at the review desk a reviewer finds an application in the queue, looks at its documents,
//!   rejects one with a reason, asks for more and announces to the programme; the applicant
//!   reads each in their own language on their device; the reviewer sees the text messages to
//!   her and how their delivery went ("Messages sent").

mod common;

use common::app::{app, png, wait_for, PASSPHRASE};
use common::oidc::{start_provider, HeadlessLogin, Provider};
use doorstep_client::app::{
    AnnouncementRequest, AnnouncementText, AppError, ApplicationStatus, DocumentStatus, Doorstep,
    MyDetails, NewUpload, OutboxStatus, ReviewFilter, Role, SentChannel, SessionView, StaffChange,
    StaffGrant, StaffRole,
};
use doorstep_domain::document::DocumentKind;
use doorstep_domain::review::Language;
use doorstep_registry::auth::IssuerConfig;
use doorstep_registry::config::Config;
use doorstep_registry::outbound::config::{Secret, WebhookConfig};
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
    // An SMS gateway that is not there (a loopback port nobody listens on): each notification
    // gets a text message in the outbox, whose failing attempts the staff's "Messages sent"
    // screen shows.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gateway = format!(
        "http://127.0.0.1:{}/sms",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    config.outbound.webhook = Some(WebhookConfig {
        url: gateway.parse().unwrap(),
        secret: Secret::new("a-webhook-secret-for-tests"),
        timeout: std::time::Duration::from_secs(2),
    });
    config.outbound.worker_period = std::time::Duration::from_millis(100);
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
        admin
            .staff_directory(None, false)
            .await
            .unwrap()
            .entries
            .len(),
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

/// Send `bytes` as a document of `kind` from the person's device.
async fn add_document(device: &Doorstep, kind: DocumentKind, name: &str, bytes: &[u8]) {
    let token = device
        .begin_upload(NewUpload {
            kind,
            file_name: name.into(),
            size_bytes: bytes.len() as u32,
            replaces: None,
            consent: None,
            registration: None,
            person: None,
        })
        .await
        .unwrap();
    device.upload_chunk(token, bytes.to_vec()).await.unwrap();
    device.finish_upload(token).await.unwrap();
}

/// Ask for a sync and wait for the round after it.
async fn sync(device: &Doorstep, what: &str) {
    let before = device.sync_status().borrow().last_success.clone();
    device.sync_now().await.unwrap();
    wait_for(device, what, |s| {
        !s.running && s.last_success > before && s.pending == 0
    })
    .await;
}

#[tokio::test]
async fn a_reviewer_decides_at_the_desk_and_the_applicant_hears_in_their_language() {
    let Some(w) = world().await else { return };

    // A citizen (French) applies to the child benefit with both documents it requires.
    let home = w.device(&w.citizens, "personal", "home");
    signed_in(&home, "person-1").await;
    home.save_my_details(MyDetails {
        given_name: "Amina".into(),
        family_name: "Njoroge".into(),
        birthdate: Some("1988-04-12".into()),
        phone: Some("+254712345678".into()),
        email: None,
        preferred_language: Some("fr".into()),
        address: None,
        opted_out: Vec::new(),
    })
    .await
    .unwrap();
    sync(&home, "the registration").await;
    let child = home
        .programmes()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.code == "child-benefit")
        .expect("the demo programme");
    let programme: uuid::Uuid = child.id.parse().unwrap();
    add_document(&home, DocumentKind::IdCard, "id.png", &png(2000)).await;
    add_document(&home, DocumentKind::ProofOfAddress, "bill.png", &png(1000)).await;
    let answers =
        json!({"childGivenName": "Zawadi", "childFamilyName": "Njoroge", "childAgeYears": 7});
    home.submit_application(programme, answers.clone())
        .await
        .unwrap();
    sync(&home, "the application").await;

    // The reviewer finds it in the queue, filtered by programme, and opens it.
    let desk = w.device(&w.staff, "personal", "desk");
    signed_in(&desk, "admin-1").await;
    let queue = desk
        .review_queue(
            ReviewFilter {
                programme: Some(programme),
                ..ReviewFilter::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(queue.programmes.iter().any(|p| p.name == child.name));
    assert_eq!(queue.items.len(), 1, "{queue:?}");
    let item = &queue.items[0];
    assert_eq!(item.applicant_name, "Amina Njoroge");
    assert_eq!(item.documents_pending, 2);
    let application = item.application_id;
    let case = desk.review_case(application).await.unwrap();
    assert_eq!(case.application.data, answers);
    assert!(case.form.is_some(), "the answers come with their form");
    assert_eq!(case.documents.len(), 2);
    let id_card = case
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::IdCard)
        .unwrap()
        .clone();
    assert_eq!(
        desk.review_document_content(*id_card.meta.id.as_uuid())
            .await
            .unwrap(),
        png(2000),
        "the reviewer sees the file the applicant sent"
    );
    // An empty filter day is a clear refusal, not a silent "nothing".
    let bad_day = desk
        .review_queue(
            ReviewFilter {
                waiting_since_before: Some("07/12/2026".into()),
                ..ReviewFilter::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refusal_key(bad_day), "dateFormat");

    // The ID card is rejected with a reason; a rejection without one is refused.
    let no_reason = desk
        .decide_document(
            application,
            *id_card.meta.id.as_uuid(),
            id_card.meta.rev.unwrap_or(0),
            DocumentStatus::Rejected,
            Some("  ".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(refusal_key(no_reason), "registryRefused");
    let case = desk
        .decide_document(
            application,
            *id_card.meta.id.as_uuid(),
            id_card.meta.rev.unwrap_or(0),
            DocumentStatus::Rejected,
            Some("The photo is blurred; send a sharper scan.".into()),
        )
        .await
        .unwrap();
    let rejected = case
        .documents
        .iter()
        .find(|d| d.meta.id == id_card.meta.id)
        .unwrap();
    assert_eq!(rejected.verification_status, DocumentStatus::Rejected);
    // A decision on the revision seen before is stale: refused, nothing changes.
    let stale = desk
        .decide_document(
            application,
            *id_card.meta.id.as_uuid(),
            id_card.meta.rev.unwrap_or(0),
            DocumentStatus::Verified,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refusal_key(stale), "registryRefused");

    // Ask for more: a note is required, then the applicant reads it.
    let case = desk
        .decide_application(application, ApplicationStatus::UnderReview, None)
        .await
        .unwrap();
    assert!(case
        .next_statuses
        .contains(&ApplicationStatus::MoreInformationNeeded));
    let case = desk
        .decide_application(
            application,
            ApplicationStatus::MoreInformationNeeded,
            Some("Send a sharper scan of the ID card.".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        case.application.status,
        ApplicationStatus::MoreInformationNeeded
    );
    sync(&home, "the request").await;
    let mine = home
        .programmes()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.code == "child-benefit")
        .unwrap();
    assert_eq!(
        mine.applications[0].request.as_deref(),
        Some("Send a sharper scan of the ID card.")
    );
    let notices = home.notifications().await.unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.body.contains("sharper scan") || n.title.contains("document")),
        "{notices:?}"
    );

    // Announcement to the programme, in French for her.
    let announcement = AnnouncementRequest {
        id: uuid::Uuid::now_v7(),
        programme_id: programme,
        title: "Payments move".into(),
        body: "Payments are on the 5th from June.".into(),
        translations: vec![AnnouncementText {
            language: Language::Fr,
            title: "Les paiements changent".into(),
            body: "Les paiements ont lieu le 5 à partir de juin.".into(),
        }],
        area: None,
        status: None,
    };
    let receipt = desk.announce(announcement.clone()).await.unwrap();
    // The demo households applied too: everyone with an application hears it, once.
    assert!(receipt.notified >= 1, "{receipt:?}");
    assert_eq!(receipt.already_notified, 0);
    // Sent again (a retry after a lost answer): the same answer, and nobody hears it twice.
    let again = desk.announce(announcement).await.unwrap();
    assert_eq!(again, receipt);
    sync(&home, "the announcement").await;
    let heard = home
        .notifications()
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.title == "Les paiements changent")
        .count();
    assert_eq!(heard, 1, "once, in French");

    // Citizens are refused the desk.
    assert_eq!(
        refusal_key(
            home.review_queue(ReviewFilter::default(), None)
                .await
                .unwrap_err()
        ),
        "notYourRole"
    );

    // "Messages sent": the reviewer sees the text messages to her (the document refused, the
    // request for more, the announcement), newest first, with the gateway's failing attempts
    // and the last error; never their text. Bounded wait for the worker's first attempts.
    let mut tries = 0;
    let hers = loop {
        let page = desk.messages_sent(None).await.unwrap();
        let hers: Vec<_> = page
            .items
            .iter()
            .filter(|m| m.address == "+254712345678")
            .cloned()
            .collect();
        if hers.len() >= 3
            && hers
                .iter()
                .all(|m| m.attempts >= 1 && m.last_error.is_some())
        {
            let times: Vec<&String> = page.items.iter().map(|m| &m.created_at).collect();
            let mut newest_first = times.clone();
            newest_first.sort_by(|a, b| b.cmp(a));
            assert_eq!(times, newest_first);
            break hers;
        }
        tries += 1;
        assert!(tries < 200, "the worker never tried: {hers:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for m in &hers {
        assert_eq!(m.channel, SentChannel::TextMessage, "{m:?}");
        assert!(
            matches!(m.status, OutboxStatus::Pending | OutboxStatus::Sending),
            "retried later: {m:?}"
        );
        assert_eq!(m.delivered_at, None);
    }
    // A page further back, when there is one, holds older messages only.
    let first = desk.messages_sent(None).await.unwrap();
    if let Some(before) = first.next_before.clone() {
        let older = desk.messages_sent(Some(before)).await.unwrap();
        assert!(older
            .items
            .iter()
            .all(|m| first.items.iter().all(|n| n.id != m.id)));
    }
    // And citizens are refused it.
    assert_eq!(
        refusal_key(home.messages_sent(None).await.unwrap_err()),
        "notYourRole"
    );
}
