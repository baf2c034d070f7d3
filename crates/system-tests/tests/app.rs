//! The app's life cycle (`doorstep_client::app::Doorstep`) against a real identity provider and
//! a real registry over loopback: first sign-in and passphrase, registration synced, offline
//! unlock, signing in again to send what was typed offline, and the kiosk that keeps nothing.

mod common;

use std::time::Duration;

use common::app::*;
use common::oidc::{start_provider, HeadlessLogin, INDIVIDUAL_ID, PERSON};
use doorstep_client::app::{
    AddressDetails, AppError, DeviceMode, DocumentState, DocumentsView, Doorstep, MemberInput,
    MyDetails, NewUpload, PendingAction, RegistrationPart, SessionView,
};
use doorstep_client::vault::VaultError;
use doorstep_domain::application::ApplicationStatus;
use doorstep_domain::document::{DocumentKind, DocumentStatus};
use doorstep_domain::group::MembershipKind;
use doorstep_registry::auth::AuthConfig;
use doorstep_registry::config::Config;
use doorstep_registry::server;

fn details(given: &str, phone: &str) -> MyDetails {
    MyDetails {
        given_name: given.into(),
        family_name: "Njoroge".into(),
        birthdate: Some("1988-04-12".into()),
        phone: Some(phone.into()),
        email: Some("amina@example.org".into()),
        preferred_language: Some("fr".into()),
        address: None,
        opted_out: Vec::new(),
    }
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

    // Payment details: a wallet, then a bank account made the one payments go to; a bad IBAN is
    // refused with the domain's message; the registry ends with exactly one preferred account.
    use doorstep_client::app::AccountInput;
    use doorstep_domain::finance::AccountKind;
    let wallet = AccountInput {
        kind: AccountKind::MobileWallet,
        provider_code: "mpesa".into(),
        account_number: "+254 712 345 678".into(),
        holder_name: "Amina Njoroge".into(),
        preferred: false,
    };
    let accounts = app.add_account(wallet.clone()).await.unwrap();
    assert!(
        accounts[0].preferred,
        "the first account is where payments go"
    );
    assert_eq!(accounts[0].account_number, "+254712345678");
    assert!(
        matches!(
            app.add_account(wallet).await,
            Err(AppError::InvalidInput(_))
        ),
        "no duplicates"
    );
    let bad_iban = AccountInput {
        kind: AccountKind::BankAccount,
        provider_code: "KCBLKENX".into(),
        account_number: "DE89 3704 0044 0532 0130 01".into(),
        holder_name: "Amina Njoroge".into(),
        preferred: true,
    };
    let err = app.add_account(bad_iban).await.unwrap_err();
    assert!(
        matches!(err, AppError::Vault(VaultError::Invalid(_))),
        "{err}"
    );
    let before = mark(&app);
    let accounts = app
        .add_account(AccountInput {
            kind: AccountKind::BankAccount,
            provider_code: "KCBLKENX".into(),
            account_number: "DE89 3704 0044 0532 0130 00".into(),
            holder_name: "Amina Njoroge".into(),
            preferred: true,
        })
        .await
        .unwrap();
    assert_eq!(accounts.iter().filter(|a| a.preferred).count(), 1);
    assert!(accounts
        .iter()
        .any(|a| a.preferred && a.account_number == "DE89370400440532013000"));
    let status = wait_synced_since(&app, "accounts synced", before).await;
    assert_nothing_refused(&app, &status).await;
    let wallet_id = accounts
        .iter()
        .find(|a| !a.preferred)
        .unwrap()
        .id
        .parse()
        .unwrap();
    let err = app
        .remove_account(
            accounts
                .iter()
                .find(|a| a.preferred)
                .unwrap()
                .id
                .parse()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Choose another account"), "{err}");
    let before = mark(&app);
    let accounts = app.set_preferred_account(wallet_id).await.unwrap();
    assert!(accounts
        .iter()
        .find(|a| a.preferred)
        .unwrap()
        .account_number
        .starts_with('+'));
    let status = wait_synced_since(&app, "preference synced", before).await;
    assert_nothing_refused(&app, &status).await;

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
        "personal",
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
    let registry = registry_trusting(&provider, registry_dir.path()).await;
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
    let found = agent.people("wanj".into(), false, 50).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].national_id.as_deref(), Some("27182818"));
    assert!(agent
        .people("nobody-by-that-name".into(), false, 50)
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
    assert_nothing_refused(&agent, &status).await;

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

fn member(given: &str, relationship: MembershipKind, national_id: Option<&str>) -> MemberInput {
    MemberInput {
        given_name: given.into(),
        family_name: "Njoroge".into(),
        birthdate: Some("2015-03-02".into()),
        relationship,
        national_id: national_id.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_citizen_manages_their_household_and_the_registry_accepts_every_change() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = registry_trusting(&provider, registry_dir.path()).await;
    let url = format!("http://{}", registry.addr);
    let staff = doorstep_registry::auth::dev_token(
        registry_dir.path(),
        doorstep_registry::auth::Role::Staff,
        "auditor",
        None,
        None,
        Duration::from_secs(600),
    )
    .unwrap();
    let get = |path: String| {
        let staff = staff.clone();
        let url = url.clone();
        async move {
            let answer = reqwest::Client::new()
                .get(format!("{url}{path}"))
                .bearer_auth(staff)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{path}: {}", answer.status());
            answer.json::<serde_json::Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };

    let data = tempfile::tempdir().unwrap();
    let app = app(&provider, &url, data.path(), "personal");
    app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    app.choose_passphrase(PASSPHRASE.into()).await.unwrap();

    // Before registering there is nothing to attach a household to.
    let none = app.household().await.unwrap();
    assert!(!none.exists && !none.can_create, "{none:?}");
    assert!(app.create_household().await.is_err());
    app.save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    let view = app.household().await.unwrap();
    assert!(!view.exists && view.can_create, "{view:?}");

    // Create the household (the person heads it) and add two members.
    let view = app.create_household().await.unwrap();
    assert_eq!(view.members.len(), 1, "{view:?}");
    assert!(view.members[0].is_head && view.members[0].is_me);
    let err = app.create_household().await.unwrap_err();
    assert!(matches!(err, AppError::InvalidInput(_)), "{err}");
    let before = mark(&app);
    app.add_member(member("Baraka", MembershipKind::Spouse, Some("30112233")))
        .await
        .unwrap();
    let view = app
        .add_member(member("Zawadi", MembershipKind::Child, None))
        .await
        .unwrap();
    assert_eq!(view.members.len(), 3, "{view:?}");
    assert_eq!(app.home().await.unwrap().household_members, 3);

    // Clear errors for what the rules refuse.
    let head = app
        .add_member(member("Second", MembershipKind::Head, None))
        .await
        .unwrap_err();
    assert!(
        head.to_string().contains("Make head of household"),
        "{head}"
    );
    let mut bad_date = member("Later", MembershipKind::Child, None);
    bad_date.birthdate = Some("02/03/2015".into());
    let bad_date = app.add_member(bad_date).await.unwrap_err();
    assert!(
        bad_date.to_string().contains("year-month-day"),
        "{bad_date}"
    );
    let mut nameless = member("", MembershipKind::Child, None);
    nameless.family_name = " ".into();
    let nameless = app.add_member(nameless).await.unwrap_err();
    assert!(
        matches!(&nameless, AppError::Vault(VaultError::Invalid(e)) if e.has("given_name", "required")),
        "{nameless}"
    );
    let me = view.members.iter().find(|m| m.is_me).unwrap().clone();
    let removing_head = app
        .remove_member(me.individual_id.parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        removing_head
            .to_string()
            .contains("another member the head"),
        "{removing_head}"
    );
    assert_eq!(app.household().await.unwrap().members.len(), 3);

    let status = wait_synced_since(&app, "the household synced", before).await;
    assert_nothing_refused(&app, &status).await;
    let group = {
        let groups = get("/v1/groups?limit=500".into()).await;
        assert_eq!(groups.len(), 1, "{groups:?}");
        groups[0]["id"].as_str().unwrap().to_owned()
    };
    let current = |items: &[serde_json::Value]| {
        items
            .iter()
            .filter(|m| m["end_date"].is_null())
            .map(|m| {
                (
                    m["individual_id"].as_str().unwrap().to_owned(),
                    m["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let memberships = get(format!("/v1/memberships?group={group}&limit=500")).await;
    assert_eq!(current(&memberships).len(), 3, "{memberships:?}");

    // Change the head: the spouse heads the household, the person becomes the spouse.
    let spouse = view
        .members
        .iter()
        .find(|m| m.given_name == "Baraka")
        .unwrap()
        .clone();
    let before = mark(&app);
    let view = app
        .change_head(spouse.individual_id.parse().unwrap())
        .await
        .unwrap();
    let heads: Vec<_> = view.members.iter().filter(|m| m.is_head).collect();
    assert_eq!(heads.len(), 1, "{view:?}");
    assert_eq!(heads[0].individual_id, spouse.individual_id);
    let me_now = view.members.iter().find(|m| m.is_me).unwrap();
    assert_eq!(me_now.relationship, MembershipKind::Spouse);
    let status = wait_synced_since(&app, "the change of head synced", before).await;
    assert_nothing_refused(&app, &status).await;
    let memberships = current(&get(format!("/v1/memberships?group={group}&limit=500")).await);
    assert_eq!(
        memberships[&spouse.individual_id], "head",
        "{memberships:?}"
    );
    assert_eq!(memberships[&me.individual_id], "spouse", "{memberships:?}");
    assert_eq!(
        memberships.values().filter(|k| *k == "head").count(),
        1,
        "{memberships:?}"
    );

    // Remove the child: the membership ends, the person's record stays.
    let child = view
        .members
        .iter()
        .find(|m| m.given_name == "Zawadi")
        .unwrap()
        .clone();
    let before = mark(&app);
    let view = app
        .remove_member(child.individual_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(view.members.len(), 2, "{view:?}");
    let status = wait_synced_since(&app, "the removal synced", before).await;
    assert_nothing_refused(&app, &status).await;
    let all = get(format!("/v1/memberships?group={group}&limit=500")).await;
    let ended = all
        .iter()
        .find(|m| m["individual_id"] == child.individual_id.as_str())
        .unwrap();
    assert!(ended["end_date"].is_string(), "{ended}");
    assert_eq!(current(&all).len(), 2, "{all:?}");
    let people = get("/v1/individuals?limit=500".into()).await;
    assert!(
        people
            .iter()
            .any(|p| p["id"] == child.individual_id.as_str()),
        "{people:?}"
    );

    // A relative who left and comes back, added by national ID: the record on this device is
    // linked again, not duplicated.
    let relative = app
        .add_member(member(
            "Kioko",
            MembershipKind::OtherRelative,
            Some("55667788"),
        ))
        .await
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.given_name == "Kioko")
        .unwrap();
    app.remove_member(relative.individual_id.parse().unwrap())
        .await
        .unwrap();
    let before = mark(&app);
    let mut again = member("K.", MembershipKind::OtherRelative, Some("55 667 788"));
    again.family_name = "Mutua".into();
    let view = app.add_member(again).await.unwrap();
    let linked: Vec<_> = view
        .members
        .iter()
        .filter(|m| m.national_id.as_deref() == Some("55667788"))
        .collect();
    assert_eq!(linked.len(), 1, "{view:?}");
    assert_eq!(linked[0].individual_id, relative.individual_id);
    assert_eq!(
        linked[0].given_name, "Kioko",
        "the linked record is not overwritten"
    );
    // Already a member: refused rather than added twice.
    let twice = app
        .add_member(member(
            "Kioko",
            MembershipKind::OtherRelative,
            Some("55667788"),
        ))
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("already a member"), "{twice}");
    let status = wait_synced_since(&app, "the linked member synced", before).await;
    assert_nothing_refused(&app, &status).await;
    let people = get("/v1/individuals?limit=500".into()).await;
    let with_number = people
        .iter()
        .filter(|p| {
            p["reg_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|r| r["value"] == "55667788"))
        })
        .count();
    assert_eq!(with_number, 1, "{people:?}");
    let memberships = current(&get(format!("/v1/memberships?group={group}&limit=500")).await);
    assert_eq!(memberships.len(), 3, "{memberships:?}");
    assert_eq!(memberships[&relative.individual_id], "other_relative");
    registry.shutdown().await.unwrap();
}

/// Send `bytes` the way the UI does: begin, chunks, finish.
async fn add_document(
    app: &Doorstep,
    kind: DocumentKind,
    name: &str,
    bytes: &[u8],
    replaces: Option<String>,
) -> Result<DocumentsView, AppError> {
    let token = app
        .begin_upload(NewUpload {
            kind,
            file_name: name.into(),
            size_bytes: bytes.len() as u32,
            replaces,
            consent: None,
            registration: None,
            person: None,
        })
        .await?;
    for chunk in bytes.chunks(64 * 1024) {
        app.upload_chunk(token, chunk.to_vec()).await?;
    }
    app.finish_upload(token).await
}

#[tokio::test]
async fn a_citizen_applies_with_documents_and_answers_a_request_for_more_information() {
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
    config.demo = true;
    config.limits.requests_per_minute = 0;
    let registry = server::start(&config).await.unwrap();
    let url = format!("http://{}", registry.addr);
    let staff = doorstep_registry::auth::dev_token(
        registry_dir.path(),
        doorstep_registry::auth::Role::Staff,
        "reviewer-1",
        None,
        None,
        Duration::from_secs(600),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let fetch = |path: String| {
        let (http, staff, url) = (http.clone(), staff.clone(), url.clone());
        async move {
            let answer = http
                .get(format!("{url}{path}"))
                .bearer_auth(staff)
                .send()
                .await
                .unwrap();
            (
                answer.status().as_u16(),
                answer.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let decide = |id: String, to: &'static str, note: Option<&'static str>| {
        let (http, staff, url) = (http.clone(), staff.clone(), url.clone());
        async move {
            let answer = http
                .post(format!("{url}/v1/applications/{id}/transitions"))
                .bearer_auth(staff)
                .json(&serde_json::json!({ "to": to, "note": note }))
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{to}: {}", answer.status());
        }
    };

    let data = tempfile::tempdir().unwrap();
    let app = app(&provider, &url, data.path(), "personal");
    app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    app.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    let before = mark(&app);
    app.save_my_details(details("Amina", "+254712345678"))
        .await
        .unwrap();
    wait_synced_since(&app, "registration and the programmes", before).await;

    // Home says what the registration still lacks.
    let missing = |home: &doorstep_client::app::HomeView| {
        home.pending.iter().find_map(|a| match a {
            PendingAction::CompleteRegistration { missing } => Some(missing.clone()),
            _ => None,
        })
    };
    assert_eq!(
        missing(&app.home().await.unwrap()),
        Some(vec![
            RegistrationPart::Address,
            RegistrationPart::Household,
            RegistrationPart::PaymentAccount
        ])
    );

    // The profile: an address is added, a wrong postal code explained, the e-mail removed, and
    // no more text messages ("Send me messages by text message" unticked).
    let mut profile = details("Amina", "+254712345678");
    profile.email = None;
    profile.opted_out = vec![doorstep_domain::contact::ContactChannel::Sms];
    profile.address = Some(AddressDetails {
        line1: Some("Plot 12, Moi Avenue".into()),
        line2: Some("Behind the market".into()),
        locality: Some("Nakuru".into()),
        postal_code: Some("20100!".into()),
        country: "ke".into(),
        admin_areas: Vec::new(),
    });
    let err = app.save_my_details(profile.clone()).await.unwrap_err();
    assert!(
        err.to_string().contains("postal code") || format!("{err:?}").contains("postal_code"),
        "{err:?}"
    );
    profile.address.as_mut().unwrap().postal_code = Some("20100".into());
    let before = mark(&app);
    let home = app.save_my_details(profile).await.unwrap();
    let address = home
        .details
        .address
        .clone()
        .expect("the address is shown back");
    assert_eq!(
        (address.country.as_str(), address.locality.as_deref()),
        ("KE", Some("Nakuru"))
    );
    assert_eq!(home.details.email, None);
    assert_eq!(
        home.details.opted_out,
        [doorstep_domain::contact::ContactChannel::Sms]
    );
    assert_eq!(
        missing(&home),
        Some(vec![
            RegistrationPart::Household,
            RegistrationPart::PaymentAccount
        ])
    );
    wait_synced_since(&app, "the address", before).await;
    let (_, found) = fetch(format!("/v1/search?q={INDIVIDUAL_ID}")).await;
    let me = found["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, contacts) = fetch("/v1/contacts?limit=500".into()).await;
    let contact = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["registrant_id"] == me.as_str())
        .expect("the contact reached the registry")
        .clone();
    assert_eq!(contact["address"]["line2"], "Behind the market");
    assert_eq!(contact["address"]["postal_code"], "20100");
    assert_eq!(contact["emails"], serde_json::json!([]));
    // The opt-out reached the registry, which sends her no text messages from now on.
    assert_eq!(contact["opted_out"], serde_json::json!(["sms"]));

    // The registry's programmes arrived with sync, with what they require.
    let programmes = app.programmes().await.unwrap();
    let child = programmes
        .iter()
        .find(|p| p.code == "child-benefit")
        .expect("the demo programmes sync to the device");
    assert_eq!(
        child.required_documents,
        [DocumentKind::IdCard, DocumentKind::ProofOfAddress]
    );
    assert_eq!(child.missing_documents, child.required_documents);
    assert!(
        child.can_apply && child.applications.is_empty(),
        "{child:?}"
    );
    let programme: uuid::Uuid = child.id.parse().unwrap();

    // Answers typed are kept as a draft and come back; the home screen says to finish it.
    let form = app.application_form(programme).await.unwrap();
    assert_eq!(form.data, serde_json::json!({}));
    assert!(form.schema["components"].is_array());
    let draft = serde_json::json!({ "childGivenName": "Zawadi" });
    app.save_application_draft(programme, draft.clone())
        .await
        .unwrap();
    let form = app.application_form(programme).await.unwrap();
    assert_eq!(form.data, draft);
    assert!(form.draft_saved_at.is_some());
    let home = app.home().await.unwrap();
    assert!(
        home.pending
            .iter()
            .any(|a| matches!(a, PendingAction::FinishDraft { .. })),
        "{:?}",
        home.pending
    );
    assert!(
        home.pending
            .iter()
            .any(|a| matches!(a, PendingAction::SendDocuments { kinds, .. } if kinds.len() == 2)),
        "{:?}",
        home.pending
    );
    let err = app
        .save_application_draft(programme, serde_json::json!(["not", "answers"]))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::InvalidInput(_)), "{err}");

    // Documents: bad files are refused with a reason and leave nothing behind.
    let docs_dir = walk(data.path())
        .into_iter()
        .find(|p| p.ends_with("data.db"))
        .unwrap()
        .parent()
        .unwrap()
        .join("docs");
    let empty = app
        .begin_upload(NewUpload {
            kind: DocumentKind::IdCard,
            file_name: "empty.png".into(),
            size_bytes: 0,
            replaces: None,
            consent: None,
            registration: None,
            person: None,
        })
        .await
        .unwrap_err();
    assert!(empty.to_string().contains("empty"), "{empty}");
    let program = b"MZ\x90\x00 this is a Windows program, not a scan".repeat(100);
    let refused = add_document(&app, DocumentKind::IdCard, "id.png", &program, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not accepted"), "{refused}");
    let token = app
        .begin_upload(NewUpload {
            kind: DocumentKind::IdCard,
            file_name: "id.png".into(),
            size_bytes: 500_000,
            replaces: None,
            consent: None,
            registration: None,
            person: None,
        })
        .await
        .unwrap();
    app.upload_chunk(token, png(200_000)).await.unwrap();
    app.cancel_upload(token).await;
    let short = add_document(&app, DocumentKind::IdCard, "id.png", &png(10), None).await;
    assert!(short.is_ok(), "{short:?}");
    assert_eq!(
        files_in(&docs_dir),
        1,
        "only the stored document's file remains"
    );

    // A real one, replaced by a better scan; then proof of address.
    let first_id = short.unwrap().documents[0].id.clone();
    let view = add_document(
        &app,
        DocumentKind::IdCard,
        "id-better.png",
        &png(300_000),
        Some(first_id.clone()),
    )
    .await
    .unwrap();
    assert_eq!(view.documents.len(), 1, "{view:?}");
    assert_eq!(view.documents[0].file_name, "id-better.png");
    assert_eq!(view.documents[0].state, DocumentState::Waiting);
    let id_card = view.documents[0].id.clone();
    assert_eq!(
        app.document_content(id_card.parse().unwrap())
            .await
            .unwrap(),
        png(300_000)
    );
    let view = add_document(
        &app,
        DocumentKind::ProofOfAddress,
        "bill.png",
        &png(1000),
        None,
    )
    .await
    .unwrap();
    assert!(view
        .requirements
        .iter()
        .any(|r| r.programme == "Child Benefit" && r.met));
    assert_eq!(files_in(&docs_dir), 2);

    // Submit: queued locally, sent with sync; the registry answers with a notification.
    let before = mark(&app);
    let answers = serde_json::json!({
        "childGivenName": "Zawadi", "childFamilyName": "Njoroge", "childAgeYears": 7
    });
    let submitted = app
        .submit_application(programme, answers.clone())
        .await
        .unwrap();
    assert!(submitted.waiting_to_send || submitted.status == ApplicationStatus::Submitted);
    let status = wait_synced_since(&app, "the application is submitted", before).await;
    assert_nothing_refused(&app, &status).await;
    let programmes = app.programmes().await.unwrap();
    let child = programmes
        .iter()
        .find(|p| p.code == "child-benefit")
        .unwrap();
    let application = &child.applications[0];
    assert_eq!(
        application.status,
        ApplicationStatus::Submitted,
        "{application:?}"
    );
    assert!(!application.waiting_to_send && application.refused.is_none());
    assert!(!child.has_draft && !child.can_apply, "{child:?}");
    assert!(child.missing_documents.is_empty());
    let again = app.application_form(programme).await.unwrap_err();
    assert!(again.to_string().contains("already applied"), "{again}");
    let (code, stored) = fetch(format!("/v1/applications/{}", application.id)).await;
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["status"], "submitted");
    assert_eq!(stored["data"], answers);
    let docs = app.documents().await.unwrap();
    assert!(
        docs.documents
            .iter()
            .all(|d| d.state == DocumentState::Sent),
        "{docs:?}"
    );
    let (code, _) = fetch(format!("/v1/documents/{id_card}")).await;
    assert_eq!(code, 200);
    let (code, replaced) = fetch(format!("/v1/documents/{first_id}")).await;
    assert!(
        code == 404 || replaced["deleted_at"].is_string(),
        "the replaced document is deleted at the registry too: {code} {replaced}"
    );

    // The office asks for more; the person sees the request, answers, and submits again.
    decide(application.id.clone(), "under_review", None).await;
    decide(
        application.id.clone(),
        "more_information_needed",
        Some("Send the child's birth certificate number."),
    )
    .await;
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the request arrived", before).await;
    let home = app.home().await.unwrap();
    let asked = home.pending.iter().find_map(|a| match a {
        PendingAction::AnswerRequest { request, .. } => Some(request.clone()),
        _ => None,
    });
    assert_eq!(
        asked,
        Some(Some("Send the child's birth certificate number.".into())),
        "{:?}",
        home.pending
    );
    let notices = app.notifications().await.unwrap();
    assert!(notices.len() >= 3, "one per status change: {notices:?}");
    assert!(notices.iter().all(|n| !n.read));
    assert_eq!(home.unread_notifications as usize, notices.len());
    let form = app.application_form(programme).await.unwrap();
    assert_eq!(
        form.application_id.as_deref(),
        Some(application.id.as_str())
    );
    assert_eq!(
        form.request.as_deref(),
        Some("Send the child's birth certificate number.")
    );
    assert_eq!(form.data, answers);
    let mut more = answers.clone();
    more["childFamilyName"] = "Njoroge-Wanjiru".into();
    let before = mark(&app);
    app.submit_application(programme, more.clone())
        .await
        .unwrap();
    let read = app
        .mark_notification(notices[0].id.parse().unwrap(), true)
        .await
        .unwrap();
    assert!(read.iter().any(|n| n.id == notices[0].id && n.read));
    wait_synced_since(&app, "the answers are sent", before).await;
    let (_, stored) = fetch(format!("/v1/applications/{}", application.id)).await;
    assert_eq!(stored["status"], "submitted");
    assert_eq!(stored["data"], more);
    let history: Vec<&str> = stored["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "submitted",
            "under_review",
            "more_information_needed",
            "submitted"
        ]
    );
    let (_, notice) = fetch(format!("/v1/notifications/{}", notices[0].id)).await;
    assert!(notice["read_at"].is_string(), "{notice}");

    // The office does not accept the ID card: the person sees why and is asked for a new one,
    // the programme counts it as missing again, and the new one reaches the office unchecked.
    let answer = http
        .post(format!("{url}/v1/review/documents/{id_card}/verification"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({ "status": "rejected", "reason": "The photo is blurred." }))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the reviewer's decision arrived", before).await;
    let docs = app.documents().await.unwrap();
    let card = docs.documents.iter().find(|d| d.id == id_card).unwrap();
    assert_eq!(
        (card.verification, card.rejection_reason.as_deref()),
        (DocumentStatus::Rejected, Some("The photo is blurred.")),
        "{card:?}"
    );
    assert!(
        docs.requirements
            .iter()
            .any(|r| r.kind == DocumentKind::IdCard && !r.met),
        "{docs:?}"
    );
    let replace_asked = |home: &doorstep_client::app::HomeView| {
        home.pending.iter().find_map(|a| match a {
            PendingAction::ReplaceDocument {
                document_id,
                reason,
                ..
            } => Some((document_id.clone(), reason.clone())),
            _ => None,
        })
    };
    assert_eq!(
        replace_asked(&app.home().await.unwrap()),
        Some((id_card.clone(), Some("The photo is blurred.".into())))
    );
    let view = add_document(
        &app,
        DocumentKind::IdCard,
        "id-sharp.png",
        &png(2000),
        Some(id_card.clone()),
    )
    .await
    .unwrap();
    let sharp = view
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::IdCard)
        .unwrap()
        .clone();
    assert_eq!(
        (sharp.verification, sharp.rejection_reason.as_deref()),
        (DocumentStatus::Pending, None)
    );
    assert_eq!(replace_asked(&app.home().await.unwrap()), None);
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the new ID card is sent", before).await;
    let (code, stored) = fetch(format!("/v1/documents/{}", sharp.id)).await;
    assert_eq!(
        (code, stored["verification_status"].as_str()),
        (200, Some("pending")),
        "{stored}"
    );
    let programmes = app.programmes().await.unwrap();
    let child = programmes
        .iter()
        .find(|p| p.code == "child-benefit")
        .unwrap();
    let steps: Vec<(ApplicationStatus, bool)> = child.applications[0]
        .timeline
        .iter()
        .map(|e| (e.status, e.by_office))
        .collect();
    assert_eq!(
        steps,
        [
            (ApplicationStatus::Draft, false),
            (ApplicationStatus::Submitted, false),
            (ApplicationStatus::UnderReview, true),
            (ApplicationStatus::MoreInformationNeeded, true),
            (ApplicationStatus::Submitted, false),
        ]
    );

    // The office records a liveness check due soon and sets a deadline: both become to-dos.
    let today = time::OffsetDateTime::now_utc().date();
    let stamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for (path, body) in [
        (
            "/v1/liveness-checks",
            serde_json::json!({
                "id": uuid::Uuid::now_v7(), "created_at": stamp, "updated_at": stamp,
                "created_by": "reviewer-1", "individual_id": me, "performed_at": stamp,
                "provider": "esignet", "outcome": "passed",
                "next_due": (today + time::Duration::days(10)).to_string(),
            }),
        ),
        (
            "/v1/notifications",
            serde_json::json!({
                "id": uuid::Uuid::now_v7(), "created_at": stamp, "updated_at": stamp,
                "created_by": "reviewer-1", "recipient_id": me, "kind": "deadline",
                "title": "Renew your registration", "body": "Check your details by the date.",
                "deadline": (today + time::Duration::days(5)).to_string(),
            }),
        ),
    ] {
        let answer = http
            .post(format!("{url}{path}"))
            .bearer_auth(&staff)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{path}: {}",
            answer.text().await.unwrap()
        );
    }
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the office's records arrived", before).await;
    let pending = app.home().await.unwrap().pending;
    assert!(
        pending
            .iter()
            .any(|a| matches!(a, PendingAction::LivenessDue { overdue: false, .. })),
        "{pending:?}"
    );
    assert!(
        pending.iter().any(|a| matches!(a, PendingAction::Notice { title, deadline: Some(_), .. } if title == "Renew your registration")),
        "{pending:?}"
    );

    // Deleting a document deletes the registry's copy with the next sync.
    let before = mark(&app);
    let view = app
        .delete_document(sharp.id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(view.documents.len(), 1);
    wait_synced_since(&app, "the deletion is sent", before).await;
    let (code, deleted) = fetch(format!("/v1/documents/{}", sharp.id)).await;
    assert!(
        code == 404 || deleted["deleted_at"].is_string(),
        "{code} {deleted}"
    );
    assert_eq!(files_in(&docs_dir), 1);
    registry.shutdown().await.unwrap();
}
