//! The registry's areas on an agent's laptop (SQLite and PostgreSQL): each sync keeps the
//! agent's part of the gazetteer (fetched again only when it changed), the registration's
//! picker offers it offline with the agent's own area first, and the areas picked reach the
//! registry on the household's address.

mod common;

use common::app::*;
use common::backends;
use common::oidc::start_provider;
use doorstep_client::app::{PersonInput, RegistrationCheck, RegistrationSaved};
use doorstep_domain::AdminArea;
use doorstep_registry::auth::Role;
use doorstep_registry::server;
use serde_json::{json, Value};

async fn send(method: reqwest::Method, url: &str, token: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    assert!(answer.status().is_success(), "{url}: {}", answer.status());
    answer.json().await.unwrap_or(Value::Null)
}

/// Replace the registry's gazetteer with [`gazetteer`] naming its first ward `ward`.
async fn put_areas(url: &str, admin: &str, ward: &str) {
    send(reqwest::Method::PUT, url, admin, Some(gazetteer(ward))).await;
}

fn gazetteer(ward: &str) -> Value {
    json!({"items": [
        {"code": "KE.30", "parent": null, "level": 1, "name": "Kisumu"},
        {"code": "KE.30.1", "parent": "KE.30", "level": 2, "name": ward},
        {"code": "KE.30.2", "parent": "KE.30", "level": 2, "name": "Nyalenda A"},
        {"code": "KE.31", "parent": null, "level": 1, "name": "Siaya"},
    ]})
}

#[tokio::test]
async fn the_agents_areas_are_kept_offline_and_picked_areas_reach_the_registry() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let mut config = trusting_config(&provider, registry_dir.path(), &database);
        // The demo's households and gazetteer: a caseload to pull, and a list replaced below.
        config.demo = true;
        let registry = server::start(&config).await.unwrap();
        config.listen = registry.addr;
        let url = format!("http://{}", registry.addr);
        let admin = dev_token(registry_dir.path(), Role::Admin, "root", None);
        let areas_url = format!("{url}{}", doorstep_domain::api::paths::AREAS);
        put_areas(&areas_url, &admin, "Kondele").await;

        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;
        let picker = agent.registration_areas().await.unwrap();
        assert!(picker.known, "{backend}");
        let codes: Vec<&str> = picker.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(
            codes,
            ["KE.30", "KE.30.1", "KE.30.2"],
            "{backend}: KE.30's part only"
        );
        assert_eq!(picker.own.len(), 1);
        assert_eq!(picker.own[0].code, "KE.30");

        // Unchanged: the next round is answered 304 and keeps the list.
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        wait_synced_since(&agent, "a round with nothing new", before).await;
        assert_eq!(agent.registration_areas().await.unwrap(), picker);

        // A renamed ward reaches the laptop with the next sync.
        put_areas(&areas_url, &admin, "Kondele Ward").await;
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        wait_synced_since(&agent, "the new list", before).await;
        let picker = agent.registration_areas().await.unwrap();
        assert_eq!(picker.areas[1].name, "Kondele Ward", "{backend}");

        // Offline, the agent picks the county and the ward.
        registry.shutdown().await.unwrap();
        let chosen: Vec<AdminArea> = picker.areas[..2].iter().map(|a| a.admin_area()).collect();
        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            given_name: "Rose".into(),
            family_name: "Achieng".into(),
            birthdate: Some("1980-06-01".into()),
            ..PersonInput::default()
        };
        let mut address = doorstep_client::app::AddressDetails {
            locality: Some("Kisumu".into()),
            country: "KE".into(),
            ..Default::default()
        };
        address.admin_areas = chosen.clone();
        r.address = Some(address);
        let RegistrationCheck::Saved { registration: r } =
            agent.save_registration(r).await.unwrap()
        else {
            panic!("nobody alike");
        };
        let RegistrationSaved::Saved { household_id, .. } =
            agent.finish_registration(r.id.clone()).await.unwrap()
        else {
            panic!("saved");
        };

        let registry = server::start(&config).await.unwrap();
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_synced_since(&agent, "the household sent", before).await;
        assert_nothing_refused(&agent, &status).await;
        let staff = dev_token(registry_dir.path(), Role::Staff, "auditor", None);
        let group = send(
            reqwest::Method::GET,
            &format!("{url}/v1/groups/{household_id}"),
            &staff,
            None,
        )
        .await;
        assert_eq!(
            group["address"]["admin_areas"],
            serde_json::to_value(&chosen).unwrap(),
            "{backend}"
        );
        registry.shutdown().await.unwrap();
    }
}
