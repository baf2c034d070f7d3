//! The registry's duplicate check (issue 16): a person registered by one agent is flagged when
//! another agent registers them again, through REST and through a sync push, on both backends;
//! the agent is told (ids, scores and reasons only, whatever the area), staff see the flags.

mod common;

use common::sync::{create, push, record_of, update};
use common::{backends, individual, meta, with, Answer, Api};
use doorstep_domain::duplicates::{Match, Reason};
use doorstep_domain::sync::{Mutation, MutationResult};
use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use uuid::Uuid;

const HEADER: &str = "doorstep-possible-duplicates";

struct Agents {
    /// KE.30.
    a: String,
    /// KE.31: cannot see what agent A registers.
    b: String,
}

fn agents(api: &Api) -> Agents {
    Agents {
        a: api.token("agent", "agent-a", Some("KE.30"), None),
        b: api.token("agent", "agent-b", Some("KE.31"), None),
    }
}

fn person(given: &str, family: &str, born: Option<&str>, national_id: Option<&str>) -> Value {
    let mut p = individual(Uuid::now_v7(), given, family, national_id);
    if let Some(born) = born {
        p["birthdate"] = json!(born);
    }
    p
}

fn id_of(record: &Value) -> Uuid {
    record["id"].as_str().unwrap().parse().unwrap()
}

async fn register(api: &Api, token: &str, body: &Value) -> Answer {
    let answer = api.post("/v1/individuals", token, body).await;
    assert_eq!(answer.status, 201, "{}: {:?}", api.backend, answer.json);
    answer
}

/// What a REST answer's header tells.
fn told(answer: &Answer) -> Vec<Match> {
    answer
        .headers
        .get(HEADER)
        .map(|v| serde_json::from_slice(v.as_bytes()).expect("the header is JSON matches"))
        .unwrap_or_default()
}

/// What a push result tells.
fn told_by(result: &MutationResult) -> Vec<Match> {
    match result {
        MutationResult::Applied {
            possible_duplicates,
            ..
        } => possible_duplicates.clone(),
        other => panic!("not applied: {other:?}"),
    }
}

async fn push_one(api: &Api, token: &str, mutation: &Mutation) -> MutationResult {
    push(api, token, std::slice::from_ref(mutation))
        .await
        .remove(0)
}

/// The open flags, as staff list them, as (record, candidate) pairs.
async fn flags(api: &Api) -> Vec<(Uuid, Uuid, Value)> {
    let staff = api.token("staff", "auditor", None, None);
    let answer = api.get("/v1/duplicates?limit=500", &staff).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    answer.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["record_id"].as_str().unwrap().parse().unwrap(),
                f["candidate_id"].as_str().unwrap().parse().unwrap(),
                f.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_same_id_however_typed_is_flagged_on_rest_and_on_push() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let first = register(
            &api,
            &agents.a,
            &person("Amina", "Odhiambo", None, Some("12345678")),
        )
        .await;
        let first_id = id_of(&first.json);

        // REST: another agent, another area, the number typed with spaces.
        let again = register(
            &api,
            &agents.b,
            &person("Akinyi", "Wanjiru", None, Some("12 345 678")),
        )
        .await;
        let found = told(&again);
        assert_eq!(found.len(), 1, "{}: {found:?}", backend.name);
        assert_eq!(found[0].id.as_uuid(), &first_id);
        assert_eq!(found[0].score, 100);
        assert_eq!(
            found[0].reasons,
            vec![Reason::SameId {
                id_type: "national_id".into()
            }]
        );

        // Push: the same, from a device.
        let pushed = person("Amina", "Odhis", None, Some("1234-5678"));
        let result = push_one(&api, &agents.b, &create(RecordKind::Individual, &pushed)).await;
        let found = told_by(&result);
        let ids: Vec<Uuid> = found.iter().map(|m| *m.id.as_uuid()).collect();
        assert!(ids.contains(&first_id), "{}: {found:?}", backend.name);
        assert!(found.iter().all(|m| m.score == 100), "{found:?}");

        // Staff see both flags, for whom they were raised.
        let open = flags(&api).await;
        let rest = open
            .iter()
            .find(|(r, c, _)| *r == id_of(&again.json) && *c == first_id)
            .unwrap_or_else(|| panic!("{}: REST flag missing: {open:?}", backend.name));
        assert_eq!(rest.2["flagged_for"], "agent:agent-b");
        assert_eq!(rest.2["score"], 100);
        assert!(open
            .iter()
            .any(|(r, c, _)| *r == id_of(&pushed) && *c == first_id));
        api.stop().await;
    }
}

#[tokio::test]
async fn a_like_name_with_the_same_birth_date_is_flagged_a_like_name_alone_is_not() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let amina = register(
            &api,
            &agents.a,
            &person("Amina", "Hassan", Some("1987-03-14"), None),
        )
        .await;
        let amina_id = id_of(&amina.json);

        // A name alone: no birth date, or another birth date.
        for born in [None, Some("1990-11-02")] {
            let answer = register(&api, &agents.b, &person("Amina", "Hassan", born, None)).await;
            assert!(told(&answer).is_empty(), "{}: {born:?}", backend.name);
            // (Born on another day than the one just registered, which would be alike.)
            let other_day = born.map(|_| "1992-02-02");
            let result = push_one(
                &api,
                &agents.b,
                &create(
                    RecordKind::Individual,
                    &person("Amina", "Hassan", other_day, None),
                ),
            )
            .await;
            assert!(told_by(&result).is_empty(), "{}: {born:?}", backend.name);
        }
        assert!(flags(&api).await.is_empty(), "{}", backend.name);

        // A like name (a spelling slip, accents) with the same birth date: REST and push.
        let answer = register(
            &api,
            &agents.b,
            &person("Amina", "Hasan", Some("1987-03-14"), None),
        )
        .await;
        let found = told(&answer);
        assert_eq!(found.len(), 1, "{}: {found:?}", backend.name);
        assert_eq!(found[0].id.as_uuid(), &amina_id);
        assert!(matches!(found[0].reasons[0], Reason::SimilarName { .. }));
        assert_eq!(found[0].reasons[1], Reason::SameBirthdate);
        let result = push_one(
            &api,
            &agents.b,
            &create(
                RecordKind::Individual,
                &person("Hassan", "Ámina", Some("1987-03-14"), None),
            ),
        )
        .await;
        let found = told_by(&result);
        assert!(
            found.iter().any(|m| m.id.as_uuid() == &amina_id),
            "{}: {found:?}",
            backend.name
        );

        // A birth date that is an estimate agrees within a year.
        let mut estimate = person("Amina", "Hassan", Some("1988-01-01"), None);
        estimate["birthdate_not_exact"] = json!(true);
        let result = push_one(&api, &agents.b, &create(RecordKind::Individual, &estimate)).await;
        let found = told_by(&result);
        let near = found
            .iter()
            .find(|m| m.id.as_uuid() == &amina_id)
            .unwrap_or_else(|| panic!("{}: estimate not matched: {found:?}", backend.name));
        assert!(near.reasons.contains(&Reason::NearBirthdate), "{near:?}");
        api.stop().await;
    }
}

#[tokio::test]
async fn a_shared_phone_counts_once_the_person_has_a_contact() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let contact = |owner: Uuid| {
            with(
                meta(Uuid::now_v7()),
                json!({"registrant_id": owner.to_string(),
                       "phones": [{"id": Uuid::now_v7().to_string(), "number_e164": "+254712345678", "kind": "mobile"}]}),
            )
        };
        let amina = register(&api, &agents.a, &person("Amina", "Hassan", None, None)).await;
        let amina_id = id_of(&amina.json);
        let answer = api
            .post("/v1/contacts", &agents.a, &contact(amina_id))
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.json);

        // Registered without a birth date: a like name alone, nobody is told.
        let other = person("Amina", "Hasan", None, None);
        let result = push_one(&api, &agents.b, &create(RecordKind::Individual, &other)).await;
        assert!(told_by(&result).is_empty());
        let other = record_of(&result);
        let answer = api
            .post("/v1/contacts", &agents.b, &contact(id_of(&other)))
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.json);

        // Her name is corrected: the check runs again, now with her phone.
        let mut renamed = other.clone();
        renamed["family_name"] = json!("Hassan");
        let result = push_one(
            &api,
            &agents.b,
            &update(RecordKind::Individual, &other, &renamed),
        )
        .await;
        let found = told_by(&result);
        assert_eq!(found.len(), 1, "{}: {found:?}", backend.name);
        assert_eq!(found[0].id.as_uuid(), &amina_id);
        assert_eq!(found[0].reasons.last(), Some(&Reason::SamePhone));
        api.stop().await;
    }
}

#[tokio::test]
async fn what_the_agent_judged_a_different_person_is_not_raised_again() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let amina = register(
            &api,
            &agents.a,
            &person("Amina", "Hassan", Some("1987-03-14"), None),
        )
        .await;
        let amina_id = id_of(&amina.json);

        // Answered on the device before saving: not raised, nothing flagged.
        let mut judged = person("Amina", "Hasan", Some("1987-03-14"), None);
        judged["not_duplicate_of"] = json!([amina_id.to_string()]);
        let answer = register(&api, &agents.b, &judged).await;
        assert!(
            told(&answer).is_empty(),
            "{}: {:?}",
            backend.name,
            told(&answer)
        );
        // (The one just saved is alike too: judged as well.)
        let both = json!([amina_id.to_string(), answer.json["id"]]);
        let mut judged = person("Amina", "Hasan", Some("1987-03-14"), None);
        judged["not_duplicate_of"] = both;
        let result = push_one(&api, &agents.b, &create(RecordKind::Individual, &judged)).await;
        assert!(told_by(&result).is_empty(), "{}", backend.name);
        assert!(flags(&api).await.is_empty(), "{}", backend.name);

        // Answered after the notice: the answer (an edit) drops the open flag.
        let result = push_one(
            &api,
            &agents.b,
            &create(
                RecordKind::Individual,
                &person("Amina", "Hasan", Some("1987-03-14"), None),
            ),
        )
        .await;
        let found = told_by(&result);
        assert_eq!(found.len(), 3, "{}: {found:?}", backend.name);
        assert_eq!(flags(&api).await.len(), 3, "{}", backend.name);
        let saved = record_of(&result);
        let mut answered = saved.clone();
        answered["not_duplicate_of"] = json!(found.iter().map(|m| m.id).collect::<Vec<_>>());
        let result = push_one(
            &api,
            &agents.b,
            &update(RecordKind::Individual, &saved, &answered),
        )
        .await;
        assert!(told_by(&result).is_empty());
        assert!(flags(&api).await.is_empty(), "{}", backend.name);
        api.stop().await;
    }
}

#[tokio::test]
async fn a_repeated_request_is_told_the_same() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        register(
            &api,
            &agents.a,
            &person("Amina", "Hassan", Some("1987-03-14"), Some("NID-1")),
        )
        .await;

        // Sync: the same mutation sent twice gets the same result, notice included.
        let mutation = create(
            RecordKind::Individual,
            &person("Amina", "Hasan", Some("1987-03-14"), None),
        );
        let first = push_one(&api, &agents.b, &mutation).await;
        assert_eq!(told_by(&first).len(), 1, "{}", backend.name);
        let again = push_one(&api, &agents.b, &mutation).await;
        assert_eq!(again, first, "{}", backend.name);

        // REST: the same Idempotency-Key.
        let body = person("Amina", "Hassan", Some("1987-03-14"), None);
        let send = || {
            api.send(
                "POST",
                "/v1/individuals",
                Some(&agents.b),
                Some(&body),
                &[("idempotency-key", "register-amina-1")],
            )
        };
        let first = send().await;
        assert_eq!(first.status, 201, "{:?}", first.json);
        let replayed = send().await;
        assert_eq!(replayed.status, 201);
        assert_eq!(replayed.headers.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(
            told(&first).len(),
            2,
            "{}: {:?}",
            backend.name,
            told(&first)
        );
        assert_eq!(told(&replayed), told(&first), "{}", backend.name);
        assert_eq!(
            replayed.json, first.json,
            "the stored notice stays out of the body"
        );
        assert_eq!(replayed.etag(), first.etag());
        api.stop().await;
    }
}

#[tokio::test]
async fn a_match_in_another_area_is_named_but_not_shown() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let amina = register(
            &api,
            &agents.a,
            &person("Amina", "Hassan", Some("1987-03-14"), Some("NID-77")),
        )
        .await;
        let amina_id = id_of(&amina.json);
        let result = push_one(
            &api,
            &agents.b,
            &create(
                RecordKind::Individual,
                &person("Amina", "Hasan", Some("1987-03-14"), Some("NID 77")),
            ),
        )
        .await;
        let found = told_by(&result);
        assert_eq!(found.len(), 1, "{}: {found:?}", backend.name);
        // Only id, score and reasons, and the reasons carry no value of hers.
        let wire = serde_json::to_value(&found).unwrap();
        let keys: Vec<&String> = wire[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "reasons", "score"]);
        let text = wire.to_string();
        for secret in ["Hassan", "1987-03-14", "NID", "KE.30"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        // And the agent still cannot open her record.
        let answer = api
            .get(&format!("/v1/individuals/{amina_id}"), &agents.b)
            .await;
        assert_eq!(answer.status, 404);
        api.stop().await;
    }
}

#[tokio::test]
async fn a_deleted_person_is_no_candidate_and_a_batch_sees_its_own_registrations() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let gone = register(
            &api,
            &agents.a,
            &person("Juma", "Otieno", Some("1970-01-01"), None),
        )
        .await;
        let answer = api
            .send(
                "DELETE",
                &format!("/v1/individuals/{}", id_of(&gone.json)),
                Some(&agents.a),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        let again = register(
            &api,
            &agents.b,
            &person("Juma", "Otieno", Some("1970-01-01"), None),
        )
        .await;
        assert!(told(&again).is_empty(), "{}", backend.name);

        // One push registering the same person twice: the second is told of the first.
        let first = person("Grace", "Wekesa", Some("1990-05-05"), None);
        let second = person("Grace", "Wekesa", Some("1990-05-05"), None);
        let results = push(
            &api,
            &agents.b,
            &[
                create(RecordKind::Individual, &first),
                create(RecordKind::Individual, &second),
            ],
        )
        .await;
        let found = told_by(&results[1]);
        assert!(
            found.iter().any(|m| m.id.as_uuid() == &id_of(&first)),
            "{}: {found:?}",
            backend.name
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn only_staff_and_admins_list_the_flags_a_page_at_a_time() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let amina = register(
            &api,
            &agents.a,
            &person("Amina", "Hassan", Some("1987-03-14"), None),
        )
        .await;
        for _ in 0..3 {
            let answer = register(
                &api,
                &agents.b,
                &person("Amina", "Hasan", Some("1987-03-14"), None),
            )
            .await;
            assert!(!told(&answer).is_empty());
        }
        // Citizens are not told, but staff are shown what they registered.
        let citizen = api.token("citizen", "amina-h", None, Some("NID-9"));
        let answer = register(
            &api,
            &citizen,
            &person("Amina", "Hassan", Some("1987-03-14"), Some("NID-9")),
        )
        .await;
        assert!(told(&answer).is_empty(), "{}", backend.name);

        let citizen = api.token("citizen", "someone", None, None);
        for (who, token) in [("agent", &agents.a), ("citizen", &citizen)] {
            let answer = api.get("/v1/duplicates", token).await;
            assert_eq!(answer.status, 403, "{}: {who}", backend.name);
            assert_eq!(answer.problem(), "/problems/forbidden");
            assert_eq!(
                answer.headers.get("content-type").unwrap(),
                "application/problem+json"
            );
        }
        let answer = api.send("GET", "/v1/duplicates", None, None, &[]).await;
        assert_eq!(answer.status, 401);

        let admin = api.token("admin", "root", None, None);
        let staff = api.token("staff", "auditor", None, None);
        for token in [&admin, &staff] {
            let all = api.get("/v1/duplicates", token).await;
            assert_eq!(all.status, 200, "{:?}", all.json);
            assert!(all.json["next_after"].is_null());
            // Each of the 4 later registrations likes Amina and the ones before it.
            let items = all.json["items"].as_array().unwrap();
            assert_eq!(items.len(), 4 + 3 + 2 + 1, "{}: {items:?}", backend.name);
            assert!(items
                .iter()
                .any(|f| f["candidate_id"] == amina.json["id"]
                    && f["flagged_for"] == "citizen:amina-h"));

            let mut paged = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let path = match &after {
                    Some(a) => format!("/v1/duplicates?limit=3&after={a}"),
                    None => "/v1/duplicates?limit=3".to_owned(),
                };
                let page = api.get(&path, token).await;
                assert_eq!(page.status, 200, "{:?}", page.json);
                paged.extend(page.json["items"].as_array().unwrap().clone());
                match page.json["next_after"].as_str() {
                    Some(next) => after = Some(next.to_owned()),
                    None => break,
                }
            }
            assert_eq!(&paged, items);
        }
        for bad in ["limit=0", "limit=501", "after=nonsense", "colour=red"] {
            let answer = api.get(&format!("/v1/duplicates?{bad}"), &staff).await;
            assert_eq!(answer.status, 400, "{bad}: {:?}", answer.json);
            assert_eq!(
                answer.headers.get("content-type").unwrap(),
                "application/problem+json"
            );
        }
        api.stop().await;
    }
}

/// `POST /v1/duplicates/check`: an agent's device asks before saving someone. The answer names
/// matches in every area (ids and reasons only), saves nothing, and refuses what saving would.
#[tokio::test]
async fn a_device_can_ask_before_saving_and_nothing_is_saved() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let agents = agents(&api);
        let first = register(
            &api,
            &agents.a,
            &person("Amina", "Odhiambo", Some("1990-03-04"), Some("12345678")),
        )
        .await;
        let first_id = id_of(&first.json);
        let flags_before = flags(&api).await.len();

        // Agent B, another area: the same ID number, typed differently; and a like name born
        // the same day.
        let typed = person("Akinyi", "Wanjiru", None, Some("12-345 678"));
        let asked = api
            .post(
                "/v1/duplicates/check",
                &agents.b,
                &json!({ "person": typed, "phones": [] }),
            )
            .await;
        assert_eq!(asked.status, 200, "{}: {:?}", backend.name, asked.json);
        let matches: Vec<Match> = serde_json::from_value(asked.json["matches"].clone()).unwrap();
        assert_eq!(matches.len(), 1, "{}: {matches:?}", backend.name);
        assert_eq!(matches[0].id.as_uuid(), &first_id);
        assert_eq!(matches[0].score, 100);
        let alike = person("Aminah", "Odhiambo", Some("1990-03-04"), None);
        let asked = api
            .post(
                "/v1/duplicates/check",
                &agents.b,
                &json!({ "person": alike, "phones": ["+254 712 000 111"] }),
            )
            .await;
        assert_eq!(asked.status, 200, "{}: {:?}", backend.name, asked.json);
        assert_eq!(asked.json["matches"][0]["id"], first_id.to_string());
        assert!(
            !asked.json.to_string().contains("Odhiambo\""),
            "no one else's details: {}",
            asked.json
        );
        // Already answered "a different person": not raised again.
        let mut answered = person("Akinyi", "Wanjiru", None, Some("12345678"));
        answered["not_duplicate_of"] = json!([first_id]);
        let asked = api
            .post(
                "/v1/duplicates/check",
                &agents.b,
                &json!({ "person": answered }),
            )
            .await;
        assert_eq!(asked.json["matches"], json!([]), "{}", backend.name);
        // Nothing was saved or flagged by asking.
        let unsaved = api
            .get(&format!("/v1/individuals/{}", id_of(&typed)), &agents.b)
            .await;
        assert_eq!(unsaved.status, 404, "{}", backend.name);
        assert_eq!(flags(&api).await.len(), flags_before, "{}", backend.name);

        // Who may ask, and bad input.
        let citizen = api.token("citizen", "someone", None, None);
        let refused = api
            .post(
                "/v1/duplicates/check",
                &citizen,
                &json!({ "person": typed }),
            )
            .await;
        assert_eq!(refused.status, 403, "{}: {:?}", backend.name, refused.json);
        let unsigned = api
            .send(
                "POST",
                "/v1/duplicates/check",
                None,
                Some(&json!({ "person": typed })),
                &[],
            )
            .await;
        assert_eq!(unsigned.status, 401, "{}", backend.name);
        let mut unnamed = typed.clone();
        unnamed["given_name"] = json!("");
        unnamed["family_name"] = json!(" ");
        for (body, status) in [
            (json!({ "person": unnamed }), 422),
            (json!({ "person": typed, "phones": ["call me"] }), 400),
            (json!({ "person": typed, "extra": 1 }), 400),
            (json!({ "phones": [] }), 400),
            (json!([]), 400),
        ] {
            let answer = api.post("/v1/duplicates/check", &agents.a, &body).await;
            assert_eq!(
                answer.status, status,
                "{}: {body} → {:?}",
                backend.name, answer.json
            );
            assert_eq!(
                answer.headers["content-type"], "application/problem+json",
                "{}",
                backend.name
            );
        }
    }
}
