//! Issue 16: a field agent registers a household with no network, and it reaches the real
//! registry (SQLite and PostgreSQL) whole when the network is back: the right people, one head,
//! the right memberships, each written by the agent on behalf of the household's people.

mod common;

use common::app::*;
use common::backends;
use common::oidc::start_provider;
use doorstep_client::app::{
    AccountInput, Doorstep, DuplicateAnswer, MemberEntry, NewUpload, PersonInput, Registration,
    RegistrationCheck, RegistrationSaved, RegistrationStep, SessionView,
};
use doorstep_domain::document::{ConsentMethod, ConsentTerms, DocumentKind};
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

/// Register someone at the registry directly, as another agent (`token`) would have: `fields`
/// are the individual's own (names, birth date, IDs). Returns their id.
async fn register_elsewhere(url: &str, token: &str, fields: Value) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let now = "2026-01-05T09:00:00Z";
    let mut body = serde_json::json!({
        "id": id, "created_at": now, "updated_at": now, "created_by": "agent:x",
    });
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let created = reqwest::Client::new()
        .post(format!("{url}/v1/individuals"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{body}");
    id
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
        let agent = agent_laptop(&provider, &url, data.path()).await;

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
        r.step = RegistrationStep::Documents;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        // The head's ID card and Faith's birth certificate, captured with no network.
        let faith = r.members[1].person.key.clone();
        let id_card = png(30_000);
        let certificate = png(40_000);
        let documents = [
            (r.head.key.clone(), DocumentKind::IdCard, &id_card),
            (faith.clone(), DocumentKind::Other, &certificate),
        ];
        for (person, kind, bytes) in &documents {
            let token = agent
                .begin_upload(NewUpload {
                    kind: *kind,
                    file_name: "scan.png".into(),
                    size_bytes: bytes.len() as u32,
                    replaces: None,
                    consent: None,
                    registration: Some(r.id.clone()),
                    person: Some(person.clone()),
                })
                .await
                .unwrap();
            agent.upload_chunk(token, bytes.to_vec()).await.unwrap();
            agent.finish_upload(token).await.unwrap();
        }
        let mut r = agent.registration(r.id.clone()).await.unwrap();
        assert_eq!(r.documents.len(), 2, "{:?}", r.documents);
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

        let staff = dev_token(registry_dir.path(), Role::Staff, "auditor", None);
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
        // The documents reached the registry as their people's, bytes and all.
        for (person, kind, bytes) in &documents {
            let listed = get(format!("/v1/documents?owner={person}")).await;
            let items = listed["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{backend}: {listed}");
            assert_eq!(items[0]["kind"], serde_json::to_value(kind).unwrap());
            let content = reqwest::Client::new()
                .get(format!(
                    "{url}/v1/documents/{}/content",
                    items[0]["id"].as_str().unwrap()
                ))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap();
            assert!(
                content.status().is_success(),
                "{backend}: {}",
                content.status()
            );
            assert_eq!(&content.bytes().await.unwrap()[..], &bytes[..], "{backend}");
        }
        registry.shutdown().await.unwrap();
        eprintln!("{backend}: a household of 5 registered offline reached the registry whole");
    }
}

/// Issue 16: with a network, saving a registration first asks the registry, which sees every
/// area: someone registered elsewhere (invisible to this laptop) is asked about before the
/// household is saved, by what agrees and never their details; "a different person" is kept on
/// the record, and the registry flags nothing it was told.
#[tokio::test]
async fn online_the_registry_is_asked_before_saving_about_people_this_laptop_cannot_see() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        let url = format!("http://{}", registry.addr);
        let dev = |role, subject: &str, area| dev_token(registry_dir.path(), role, subject, area);
        // Registered last week by an agent of another county.
        let elsewhere = register_elsewhere(
            &url,
            &dev(Role::Agent, "other-county", Some("KE.99")),
            serde_json::json!({"given_name": "Rosa", "family_name": "Achieng", "birthdate": "1980-06-01"}),
        )
        .await;

        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;
        let mut r = agent.start_registration().await.unwrap();
        // A like name, the same birth date (one ID per person is a rule of its own: a taken
        // ID number is refused outright).
        r.head = PersonInput {
            key: r.head.key.clone(),
            ..person("Rose", "1980-06-01")
        };
        r.step = RegistrationStep::Review;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        assert!(
            agent
                .people("rosa".into(), false, 10)
                .await
                .unwrap()
                .is_empty(),
            "{backend}: not in this laptop's caseload"
        );
        let RegistrationSaved::SamePerson { question, .. } =
            agent.finish_registration(r.id.clone()).await.unwrap()
        else {
            panic!("{backend}: the registry's match is asked about first");
        };
        assert_eq!(question.person_key, r.head.key);
        let candidate = &question.candidates[0];
        assert_eq!(candidate.id, elsewhere.to_string(), "{backend}");
        assert!(
            !candidate.on_device && candidate.name.is_empty(),
            "{backend}"
        );
        assert!(
            candidate.fields.iter().all(|f| f.existing.is_none()),
            "{backend}: nothing of theirs is shown"
        );
        agent
            .answer_duplicate(
                r.id.clone(),
                question.person_key.clone(),
                DuplicateAnswer::Different {
                    candidates: vec![candidate.id.clone()],
                },
            )
            .await
            .unwrap();
        let RegistrationSaved::Saved { head_id, .. } =
            agent.finish_registration(r.id.clone()).await.unwrap()
        else {
            panic!("{backend}: answered, it is saved");
        };
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_synced_since(&agent, "the registration sent", before).await;
        assert_nothing_refused(&agent, &status).await;
        let staff = dev(Role::Staff, "auditor", None);
        let head: Value = reqwest::Client::new()
            .get(format!("{url}/v1/individuals/{head_id}"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            head["not_duplicate_of"],
            serde_json::json!([elsewhere]),
            "{backend}: the agent's answer travels with the record"
        );
        let flags: Value = reqwest::Client::new()
            .get(format!("{url}/v1/duplicates"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(flags["items"], serde_json::json!([]), "{backend}: {flags}");
        registry.shutdown().await.unwrap();
    }
}

/// A person refused by the registry (their ID number is someone else's) takes down what points
/// at them (their membership of the household): the device says so, and discarding the person
/// discards those too, instead of leaving refusals the agent cannot act on.
#[tokio::test]
async fn what_was_refused_only_for_a_refused_person_goes_with_them() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let mut config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        config.listen = registry.addr;
        let url = format!("http://{}", registry.addr);
        register_elsewhere(
            &url,
            &dev_token(registry_dir.path(), Role::Agent, "other", Some("KE.99")),
            serde_json::json!({
                "given_name": "Someone", "family_name": "Else",
                "reg_ids": [{"id_type": "national_id", "value": "16180339"}]
            }),
        )
        .await;

        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;
        // Offline: the ID number is typed from a card that is not theirs.
        registry.shutdown().await.unwrap();
        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            national_id: Some("1618 0339".into()),
            ..person("Mercy", "1990-02-02")
        };
        r.step = RegistrationStep::Review;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        assert!(matches!(
            agent.finish_registration(r.id.clone()).await.unwrap(),
            RegistrationSaved::Saved { .. }
        ));
        let registry = server::start(&config).await.unwrap();
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        wait_synced_since(&agent, "the registration sent", before).await;

        let refused = agent.rejections().await.unwrap();
        let person = refused
            .iter()
            .find(|x| x.kind == "individual")
            .unwrap_or_else(|| panic!("{backend}: {refused:?}"));
        assert_eq!(person.because, None, "{backend}: refused for its own sake");
        let membership = refused.iter().find(|x| x.kind == "membership").unwrap();
        assert_eq!(
            membership.because.as_deref(),
            Some(person.mutation_id.as_str()),
            "{backend}: {refused:?}"
        );
        agent
            .discard_rejection(person.mutation_id.parse().unwrap())
            .await
            .unwrap();
        assert!(
            agent.rejections().await.unwrap().is_empty(),
            "{backend}: the membership went with the person"
        );
        registry.shutdown().await.unwrap();
    }
}

/// Issue 16: an agent who opens a person works on that person's records in every section, and
/// the registry records each write as the agent's, on that person's behalf. Back at the
/// caseload, the sections are nobody's again.
#[tokio::test]
async fn an_agent_acting_for_a_person_works_on_their_records_in_every_section() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        let url = format!("http://{}", registry.addr);
        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;

        // Someone registered earlier (here: by this agent, alone, with no household yet).
        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            ..person("Joyce", "1990-10-10")
        };
        r.step = RegistrationStep::Review;
        saved(agent.save_registration(r.clone()).await.unwrap()).await;
        let RegistrationSaved::Saved { head_id, .. } =
            agent.finish_registration(r.id).await.unwrap()
        else {
            panic!("saved");
        };
        let joyce: uuid::Uuid = head_id.parse().unwrap();

        // Nobody's sections while no one is being served.
        assert!(agent.acting_for().await.unwrap().is_none());
        assert!(agent.add_account(wallet("Joyce Achieng")).await.is_err());

        let acting = agent.act_for(Some(joyce)).await.unwrap().unwrap();
        assert_eq!(acting.name, "Joyce Achieng");
        assert_eq!(
            agent.home().await.unwrap().name.as_deref(),
            Some("Joyce Achieng")
        );
        let accounts = agent.add_account(wallet("Joyce Achieng")).await.unwrap();
        assert_eq!(accounts.len(), 1);
        let household = agent.household().await.unwrap();
        assert!(
            household.exists,
            "her household from the registration: {household:?}"
        );
        assert_eq!(household.members.len(), 1);

        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_synced_since(&agent, "the agent's work for Joyce", before).await;
        assert_nothing_refused(&agent, &status).await;

        let staff = dev_token(registry_dir.path(), Role::Staff, "auditor", None);
        let client = reqwest::Client::new();
        let page: Value = client
            .get(format!("{url}/v1/financial-accounts?owner={joyce}"))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let account = &page["items"][0];
        assert_eq!(
            account["registrant_id"],
            head_id.as_str(),
            "{backend}: {page}"
        );
        let trail: Value = client
            .get(format!(
                "{url}/v1/financial-accounts/{}/history",
                account["id"].as_str().unwrap()
            ))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let created = &trail[0];
        assert!(
            created["actor"].as_str().unwrap().contains("agent-1"),
            "{backend}: {trail}"
        );
        assert_eq!(
            created["on_behalf_of"],
            head_id.as_str(),
            "{backend}: {trail}"
        );

        // Back to the caseload: the sections are nobody's again.
        assert!(agent.act_for(None).await.unwrap().is_none());
        assert!(agent.accounts().await.unwrap().is_empty(), "{backend}");
        assert!(agent.add_account(wallet("Joyce Achieng")).await.is_err());
        registry.shutdown().await.unwrap();
    }
}

fn wallet(holder: &str) -> AccountInput {
    AccountInput {
        kind: AccountKind::MobileWallet,
        provider_code: "mpesa".into(),
        account_number: "+254722000333".into(),
        holder_name: holder.into(),
        preferred: true,
    }
}

/// Capture consent the way the UI does: the signature drawn on the pad, as a PNG, sent in
/// chunks with the statement's terms.
async fn capture_consent(agent: &Doorstep, registration: Option<String>) {
    let signature = png(4_000);
    let token = agent
        .begin_upload(NewUpload {
            kind: DocumentKind::Consent,
            file_name: "signature.png".into(),
            size_bytes: signature.len() as u32,
            replaces: None,
            consent: Some(ConsentTerms {
                statement: "agent-consent-1".into(),
                language: "sw".into(),
                agreed: true,
                method: ConsentMethod::SignaturePad,
            }),
            registration,
            person: None,
        })
        .await
        .unwrap();
    agent.upload_chunk(token, signature).await.unwrap();
    agent.finish_upload(token).await.unwrap();
}

/// Issue 16: where the registry requires consent, an agent's writes for a person are refused
/// until the person's consent has reached it, then accepted; a household registered with the
/// head's consent is accepted whole.
#[tokio::test]
async fn where_consent_is_required_writes_wait_for_it_and_then_go_through() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let mut config = trusting_config(&provider, registry_dir.path(), &database);
        config.agents.require_consent = true;
        let registry = server::start(&config).await.unwrap();
        let url = format!("http://{}", registry.addr);
        let dev = |role, subject: &str, area| dev_token(registry_dir.path(), role, subject, area);
        // Someone another agent registered, whose consent nobody captured.
        let otieno = register_elsewhere(
            &url,
            &dev(Role::Agent, "seed-agent", Some("KE.30")),
            serde_json::json!({"given_name": "Otieno", "family_name": "Were"}),
        )
        .await;

        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;

        // A household: refused on the device until the head's consent is captured.
        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            ..person("Rose", "1980-06-01")
        };
        r.members = vec![MemberEntry {
            person: person("Faith", "2009-04-04"),
            relationship: MembershipKind::Child,
        }];
        r.step = RegistrationStep::Review;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        let refused = agent.finish_registration(r.id.clone()).await.unwrap_err();
        assert!(refused.to_string().contains("consent"), "{refused}");
        capture_consent(&agent, Some(r.id.clone())).await;
        assert!(agent
            .registration(r.id.clone())
            .await
            .unwrap()
            .consent
            .is_some());
        let RegistrationSaved::Saved { household_id, .. } =
            agent.finish_registration(r.id).await.unwrap()
        else {
            panic!("saved");
        };

        // Otieno: the device asks for his consent; a change made anyway is refused by the
        // registry, with the reason, and nothing of it is applied.
        let acting = agent.act_for(Some(otieno)).await.unwrap().unwrap();
        assert!(acting.consent_needed, "{backend}");
        agent.add_account(wallet("Otieno Were")).await.unwrap();
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_for(&agent, "the round with the refusal", |s| {
            !s.running && s.last_success > before && s.rejected > 0
        })
        .await;
        assert_eq!(
            status.rejected, 1,
            "{backend}: only Otieno's account: {status:?}"
        );
        let rejections = agent.rejections().await.unwrap();
        assert_eq!(
            rejections[0].problem, "/problems/consent-required",
            "{rejections:?}"
        );

        // His consent, then another change: accepted.
        capture_consent(&agent, None).await;
        assert!(
            !agent
                .act_for(Some(otieno))
                .await
                .unwrap()
                .unwrap()
                .consent_needed
        );
        let mut details = agent.person_details(otieno).await.unwrap();
        details.phone = Some("+254 700 999 111".into());
        agent.save_my_details(details).await.unwrap();
        let before = mark(&agent);
        agent.sync_now().await.unwrap();
        let status = wait_for(&agent, "the round after consent", |s| {
            !s.running && s.last_success > before
        })
        .await;
        assert_eq!(
            status.rejected, 1,
            "{backend}: nothing new refused: {status:?}"
        );

        let staff = dev(Role::Staff, "auditor", None);
        let client = reqwest::Client::new();
        let list = |path: String| {
            let (client, staff, url) = (client.clone(), staff.clone(), url.clone());
            async move {
                let page: Value = client
                    .get(format!("{url}{path}"))
                    .bearer_auth(staff)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                page["items"].as_array().unwrap().clone()
            }
        };
        assert_eq!(
            list(format!("/v1/memberships?group={household_id}"))
                .await
                .len(),
            2
        );
        assert_eq!(
            list(format!("/v1/contacts?owner={otieno}")).await.len(),
            1,
            "{backend}"
        );
        assert!(list(format!("/v1/financial-accounts?owner={otieno}"))
            .await
            .is_empty());
        let consents: Vec<Value> = list("/v1/documents".into())
            .await
            .into_iter()
            .filter(|d| d["kind"] == "consent")
            .collect();
        assert_eq!(consents.len(), 2, "{backend}: the household's and Otieno's");
        assert_eq!(consents[0]["consent"]["language"], "sw");
        registry.shutdown().await.unwrap();
    }
}

/// Issue 16: the registry withdraws a lost laptop. At its next sync the app first sends what
/// it holds (the registry keeps it), then wipes the agent's data and says why; nothing of it
/// remains in the data folder.
#[tokio::test]
async fn a_withdrawn_device_sends_what_it_holds_then_keeps_nothing() {
    const MARKER: &str = "Zqxwvmarker";
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        let url = format!("http://{}", registry.addr);
        let data = tempfile::tempdir().unwrap();
        let agent = agent_laptop(&provider, &url, data.path()).await;

        // A household typed in the village, not sent yet.
        let mut r = agent.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            given_name: MARKER.into(),
            family_name: "Achieng".into(),
            ..PersonInput::default()
        };
        r.step = RegistrationStep::Review;
        let r = saved(agent.save_registration(r).await.unwrap()).await;
        let RegistrationSaved::Saved { head_id, .. } =
            agent.finish_registration(r.id).await.unwrap()
        else {
            panic!("saved");
        };

        // The office withdraws the laptop (by the id it sends with every request).
        let device = std::fs::read_to_string(data.path().join("device-id")).unwrap();
        let admin = dev_token(registry_dir.path(), Role::Admin, "root", None);
        let revoked = reqwest::Client::new()
            .post(format!("{url}/v1/revocations"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"device": device.trim(), "reason": "Laptop reported lost"}))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 201, "{backend}");

        agent.sync_now().await.unwrap();
        wait_for(&agent, "the refusal after the push", |s| {
            s.last_error_kind == Some(doorstep_client::sync::service::SyncErrorKind::Revoked)
        })
        .await;
        // The household reached the registry before the wipe.
        let person = reqwest::Client::new()
            .get(format!("{url}/v1/individuals/{head_id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(person.status(), 200, "{backend}: sent before the wipe");

        // The app's next step wipes, and says why and that nothing was lost.
        let view = agent.view().await;
        let SessionView::SignedOut {
            wiped, profiles, ..
        } = view
        else {
            panic!("signed out: {view:?}");
        };
        let wiped = wiped.expect("told why");
        assert!(wiped.reason.contains("reported lost"), "{wiped:?}");
        assert_eq!(wiped.lost, 0);
        assert!(profiles.is_empty());
        for file in walk(data.path()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
                "{backend}: {} holds the marker",
                file.display()
            );
        }
        assert!(
            walk(data.path())
                .iter()
                .all(|f| !f.to_string_lossy().contains("partitions/")),
            "{backend}: a partition file remains: {:?}",
            walk(data.path())
        );
        assert!(agent.people(String::new(), false, 10).await.is_err());
        registry.shutdown().await.unwrap();
    }
}

async fn add_document(agent: &Doorstep, bytes: &[u8]) -> String {
    let token = agent
        .begin_upload(NewUpload {
            kind: DocumentKind::IdCard,
            file_name: "id-card.png".into(),
            size_bytes: bytes.len() as u32,
            replaces: None,
            consent: None,
            registration: None,
            person: None,
        })
        .await
        .unwrap();
    agent.upload_chunk(token, bytes.to_vec()).await.unwrap();
    let view = agent.finish_upload(token).await.unwrap();
    view.documents
        .iter()
        .find(|d| d.size_bytes as usize == bytes.len())
        .unwrap()
        .id
        .clone()
}

/// Issue 16: a document added on one laptop opens on another — fetched from the registry the
/// first time, then kept (encrypted) for offline use; one never opened says it needs the
/// network when there is none.
#[tokio::test]
async fn a_document_from_another_device_is_fetched_on_demand_and_kept() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    for (backend, database) in backends().await {
        let registry_dir = tempfile::tempdir().unwrap();
        let mut config = trusting_config(&provider, registry_dir.path(), &database);
        let registry = server::start(&config).await.unwrap();
        config.listen = registry.addr;
        let url = format!("http://{}", registry.addr);
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = agent_laptop(&provider, &url, dir_a.path()).await;

        // On laptop A: a person, and two scans of their ID card.
        let mut r = a.start_registration().await.unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            ..person("Lucy", "1991-01-01")
        };
        r.step = RegistrationStep::Review;
        saved(a.save_registration(r.clone()).await.unwrap()).await;
        let RegistrationSaved::Saved { head_id, .. } = a.finish_registration(r.id).await.unwrap()
        else {
            panic!("saved");
        };
        a.act_for(Some(head_id.parse().unwrap())).await.unwrap();
        let (front, back) = (png(50_000), png(60_000));
        let front_id = add_document(&a, &front).await;
        let back_id = add_document(&a, &back).await;
        let before = mark(&a);
        a.sync_now().await.unwrap();
        let status = wait_synced_since(&a, "laptop A sends", before).await;
        assert_nothing_refused(&a, &status).await;

        // Laptop B, the same agent: the records arrive, the files do not until opened.
        let b = agent_laptop(&provider, &url, dir_b.path()).await;
        b.act_for(Some(head_id.parse().unwrap())).await.unwrap();
        let documents = b.documents().await.unwrap().documents;
        assert_eq!(documents.len(), 2, "{backend}");
        assert!(documents.iter().all(|d| !d.on_device));
        let front_uuid: uuid::Uuid = front_id.parse().unwrap();
        assert_eq!(
            b.document_content(front_uuid).await.unwrap(),
            front,
            "{backend}"
        );
        assert!(b
            .documents()
            .await
            .unwrap()
            .documents
            .iter()
            .any(|d| d.id == front_id && d.on_device));

        // Laptop C is set to keep the caseload's documents: both arrive with its first sync.
        let dir_c = tempfile::tempdir().unwrap();
        let c = app_with(
            &provider,
            &url,
            dir_c.path(),
            "agent",
            &[(
                doorstep_client::app::config::ENV_AGENT_KEEP_DOCUMENTS,
                "true",
            )],
        );
        c.sign_in(&common::oidc::HeadlessLogin("agent-1"), true)
            .await
            .unwrap();
        c.choose_passphrase(PASSPHRASE.into()).await.unwrap();
        wait_for(&c, "laptop C's first sync", synced).await;
        c.act_for(Some(head_id.parse().unwrap())).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !c
            .documents()
            .await
            .unwrap()
            .documents
            .iter()
            .all(|d| d.on_device)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend}: laptop C never kept them"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }

        // No network: the one opened still opens; the other says it needs the network; on
        // laptop C both open.
        registry.shutdown().await.unwrap();
        assert_eq!(b.document_content(front_uuid).await.unwrap(), front);
        let refused = b
            .document_content(back_id.parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("kept at the registry"),
            "{refused}"
        );
        assert_eq!(
            c.document_content(back_id.parse().unwrap()).await.unwrap(),
            back
        );
    }
}

/// Issue 16: where the installation says so, an agent laptop that has not reached the registry
/// for N days forgets its data by itself — warned on the end-of-day screen in the last days,
/// and told afterwards why and how many changes were lost.
#[tokio::test]
async fn a_laptop_without_sync_for_too_long_warns_then_forgets_its_data() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let (_, database) = backends().await.remove(0);
    let registry_dir = tempfile::tempdir().unwrap();
    let config = trusting_config(&provider, registry_dir.path(), &database);
    let registry = server::start(&config).await.unwrap();
    let url = format!("http://{}", registry.addr);
    let data = tempfile::tempdir().unwrap();
    let agent = app_with(
        &provider,
        &url,
        data.path(),
        "agent",
        &[(doorstep_client::app::config::ENV_AGENT_WIPE_AFTER_DAYS, "7")],
    );
    agent
        .sign_in(&common::oidc::HeadlessLogin("agent-1"), true)
        .await
        .unwrap();
    agent.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&agent, "the first sync", synced).await;
    registry.shutdown().await.unwrap();
    let mut r = agent.start_registration().await.unwrap();
    r.head = PersonInput {
        key: r.head.key.clone(),
        ..person("Unsent", "1990-01-01")
    };
    r.step = RegistrationStep::Review;
    saved(agent.save_registration(r.clone()).await.unwrap()).await;
    agent.finish_registration(r.id).await.unwrap();

    // The last successful sync, as the vault records it, moved back in time.
    let set_last_sync = |days_ago: i64| {
        let vault = doorstep_client::vault::Vault::open(
            data.path(),
            std::sync::Arc::new(doorstep_client::vault::NoKeyStore),
        )
        .unwrap();
        let id = vault.partitions().unwrap().remove(0);
        let partition = vault.unlock_with_passphrase(&id, PASSPHRASE).unwrap();
        let at = time::OffsetDateTime::now_utc() - time::Duration::days(days_ago);
        partition
            .mark_sync_success(&doorstep_domain::timestamp::format(at))
            .unwrap();
    };
    let morning = "2000-01-01T00:00:00Z".to_owned();
    set_last_sync(2);
    assert_eq!(
        agent
            .day_summary(morning.clone())
            .await
            .unwrap()
            .wipe_in_days,
        None
    );
    set_last_sync(5);
    assert_eq!(
        agent
            .day_summary(morning.clone())
            .await
            .unwrap()
            .wipe_in_days,
        Some(2)
    );

    set_last_sync(8);
    assert!(
        agent.day_summary(morning).await.is_err(),
        "the data is gone"
    );
    let SessionView::SignedOut {
        wiped, profiles, ..
    } = agent.view().await
    else {
        panic!("signed out");
    };
    let wiped = wiped.expect("told why");
    assert!(wiped.reason.contains("8 days"), "{wiped:?}");
    assert_eq!(
        wiped.lost, 3,
        "the household, its head and the membership never left"
    );
    assert!(profiles.is_empty());
    assert!(walk(data.path())
        .iter()
        .all(|f| !f.to_string_lossy().contains("partitions/")));
}
