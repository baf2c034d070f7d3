//! Issue 16: a field agent registers a household with no network, and it reaches the real
//! registry (SQLite and PostgreSQL) whole when the network is back: the right people, one head,
//! the right memberships, each written by the agent on behalf of the household's people.

mod common;

use std::time::Duration;

use common::app::*;
use common::backends;
use common::oidc::{start_provider, HeadlessLogin};
use doorstep_client::app::{
    AccountInput, MemberEntry, PersonInput, Registration, RegistrationCheck, RegistrationSaved,
    RegistrationStep,
};
use doorstep_domain::finance::AccountKind;
use doorstep_domain::group::MembershipKind;
use doorstep_registry::auth::Role;
use doorstep_registry::server;
use serde_json::Value;

fn person(given: &str, born: &str) -> PersonInput {
    PersonInput {
        given_name: given.into(),
        family_name: "Achieng".into(),
        birthdate: Some(born.into()),
        ..PersonInput::default()
    }
}

async fn saved(check: RegistrationCheck) -> Registration {
    match check {
        RegistrationCheck::Saved { registration } => registration,
        other => panic!("nobody alike is on this device: {other:?}"),
    }
}

#[tokio::test]
async fn an_offline_registration_of_five_reaches_the_registry_with_one_head() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let mut config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        config.listen = registry.addr;
        let url = format!("http://{}", registry.addr);

        let data = tempfile::tempdir().unwrap();
        let agent = app(&provider, &url, data.path(), "agent");
        agent
            .sign_in(&HeadlessLogin("agent-1"), true)
            .await
            .unwrap();
        agent.choose_passphrase(PASSPHRASE.into()).await.unwrap();
        wait_for(&agent, "the first sync", synced).await;

        // The village has no network.
        registry.shutdown().await.unwrap();

        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            national_id: Some("3141 5926".into()),
            phone: Some("+254 733 000 111".into()),
            ..person("Rose", "1980-06-01")
        };
        r.step = RegistrationStep::Members;
        let mut r = saved(agent.save_registration(r).await.unwrap()).await;
        r.members = [
            ("Peter", "1978-01-15", MembershipKind::Spouse),
            ("Faith", "2009-04-04", MembershipKind::Child),
            ("Brian", "2012-12-12", MembershipKind::Child),
            ("Grace", "1950-07-01", MembershipKind::Parent),
        ]
        .into_iter()
        .map(|(given, born, relationship)| MemberEntry {
            person: person(given, born),
            relationship,
        })
        .collect();
        r.step = RegistrationStep::Account;
        let mut r = saved(agent.save_registration(r).await.unwrap()).await;
        r.account = Some(AccountInput {
            kind: AccountKind::MobileWallet,
            provider_code: "mpesa".into(),
            account_number: "+254733000111".into(),
            holder_name: "Rose Achieng".into(),
            preferred: true,
        });
        r.step = RegistrationStep::Review;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        assert_eq!(agent.registrations().await.unwrap().len(), 1);
        let RegistrationSaved::Saved {
            household_id,
            head_id,
            people,
        } = agent.finish_registration(r.id.clone()).await.unwrap()
        else {
            panic!("saved");
        };
        assert_eq!(people, 5);
        assert!(agent.registrations().await.unwrap().is_empty());
        // Found on the laptop at once, offline.
        assert_eq!(
            agent
                .people("achieng".into(), false, 50)
                .await
                .unwrap()
                .len(),
            5
        );

        // The network is back.
        let registry = server::start(&config).await.unwrap();
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_synced_since(&agent, "the registration sent", before).await;
        assert_nothing_refused(&agent, &status).await;

        let staff = doorstep_registry::auth::dev_token(
            registry_dir.path(),
            Role::Staff,
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
                answer.json::<Value>().await.unwrap()
            }
        };
        let group = get(format!("/v1/groups/{household_id}")).await;
        assert_eq!(group["name"], "Achieng household", "{backend}");
        let members = get(format!("/v1/memberships?group={household_id}")).await;
        let members = members["items"].as_array().unwrap().clone();
        assert_eq!(members.len(), 5, "{backend}: {members:?}");
        let heads: Vec<&Value> = members.iter().filter(|m| m["kind"] == "head").collect();
        assert_eq!(heads.len(), 1, "{backend}: one head");
        assert_eq!(heads[0]["individual_id"], head_id.as_str());
        let mut kinds: Vec<&str> = members
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["child", "child", "head", "parent", "spouse"],
            "{backend}"
        );

        // Each person was written by the agent, on their own behalf.
        for m in &members {
            let id = m["individual_id"].as_str().unwrap();
            let trail = get(format!("/v1/individuals/{id}/history")).await;
            let created = &trail.as_array().unwrap()[0];
            assert!(
                created["actor"].as_str().unwrap().contains("agent-1"),
                "{backend}: {trail}"
            );
            assert_eq!(created["on_behalf_of"], id, "{backend}: {trail}");
        }
        let head = get(format!("/v1/individuals/{head_id}")).await;
        assert_eq!(head["reg_ids"][0]["value"], "31415926", "{backend}");
        let accounts = get(format!("/v1/financial-accounts?owner={head_id}")).await;
        assert_eq!(
            accounts["items"].as_array().unwrap().len(),
            1,
            "{backend}: {accounts}"
        );
        registry.shutdown().await.unwrap();
        eprintln!("{backend}: a household of 5 registered offline reached the registry whole");
    }
}
