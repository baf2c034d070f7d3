//! The gazetteer (`/v1/areas`) and the rule it puts on every address written, on SQLite and
//! PostgreSQL: who reads which part of it, the ETag, an admin's replacement checked whole, and
//! addresses held to it on REST and on sync push alike.

mod common;

use common::sync::{create, push, record_of, update};
use common::{backends, individual, meta, with, Api};
use doorstep_domain::sync::MutationResult;
use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use uuid::Uuid;

/// Two counties, the first with two wards and a village in one of them.
fn gazetteer() -> Value {
    json!({"items": [
        {"code": "KE.31", "parent": null, "level": 1, "name": "Siaya"},
        {"code": "KE.30", "parent": null, "level": 1, "name": "Kisumu"},
        {"code": "KE.30.1", "parent": "KE.30", "level": 2, "name": "Kondele"},
        {"code": "KE.30.2", "parent": "KE.30", "level": 2, "name": "Nyalenda A"},
        {"code": "KE.30.1.7", "parent": "KE.30.1", "level": 3, "name": "Manyatta"},
        {"code": "KE.31.1", "parent": "KE.31", "level": 2, "name": "Yala Township"},
    ]})
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect()
}

fn household(areas: Value) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"name": "Achieng household", "kind": "household",
               "address": {"country": "KE", "locality": "Kisumu", "admin_areas": areas}}),
    )
}

fn areas(chain: &[(u8, &str, &str)]) -> Value {
    chain
        .iter()
        .map(|(level, code, name)| json!({"level": level, "code": code, "name": name}))
        .collect()
}

async fn put_areas(api: &Api, token: Option<&str>, body: &Value) -> common::Answer {
    api.send("PUT", "/v1/areas", token, Some(body), &[]).await
}

/// `GET /v1/areas` with `If-None-Match: etag`.
async fn get_unless(api: &Api, token: &str, etag: &str) -> common::Answer {
    api.send(
        "GET",
        "/v1/areas",
        Some(token),
        None,
        &[("if-none-match", etag)],
    )
    .await
}

#[tokio::test]
async fn each_caller_reads_their_part_and_only_admins_replace_it() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "root", None, None);
        let staff = api.token("staff", "reviewer", None, None);
        let agent = api.token("agent", "wanjiru", Some("KE.30.1"), None);
        let citizen = api.token("citizen", "amina", None, None);

        assert_eq!(
            api.send("GET", "/v1/areas", None, None, &[]).await.status,
            401
        );
        assert_eq!(put_areas(&api, None, &gazetteer()).await.status, 401);
        for token in [&staff, &agent, &citizen] {
            let refused = put_areas(&api, Some(token), &gazetteer()).await;
            assert_eq!(refused.status, 403, "{}: {:?}", api.backend, refused.json);
            assert_eq!(refused.problem(), "/problems/forbidden");
        }
        let empty = api.get("/v1/areas", &agent).await;
        assert_eq!(empty.status, 200);
        assert_eq!(empty.json, json!({"items": []}));

        let replaced = put_areas(&api, Some(&admin), &gazetteer()).await;
        assert_eq!(replaced.status, 204, "{}: {:?}", api.backend, replaced.json);
        let all = api.get("/v1/areas", &staff).await;
        assert_eq!(
            codes(&all.json),
            [
                "KE.30",
                "KE.31",
                "KE.30.1",
                "KE.30.2",
                "KE.31.1",
                "KE.30.1.7"
            ],
            "{}: level, then code",
            api.backend
        );
        assert_eq!(all.etag(), replaced.etag(), "{}", api.backend);
        assert_eq!(codes(&api.get("/v1/areas", &citizen).await.json).len(), 6);

        // An agent: the area, its ancestors and its subtree; not the neighbours.
        let mine = api.get("/v1/areas", &agent).await;
        assert_eq!(codes(&mine.json), ["KE.30", "KE.30.1", "KE.30.1.7"]);
        assert_ne!(mine.etag(), all.etag());
        let again = get_unless(&api, &agent, &mine.etag()).await;
        assert_eq!(again.status, 304, "{}", api.backend);
        assert_eq!(again.etag(), mine.etag());
        let stale = get_unless(&api, &agent, &all.etag()).await;
        assert_eq!(stale.status, 200);

        // A change outside the agent's part leaves their ETag; one inside changes it.
        let mut outside = gazetteer();
        outside["items"][5]["name"] = json!("Yala");
        assert_eq!(put_areas(&api, Some(&admin), &outside).await.status, 204);
        assert_eq!(api.get("/v1/areas", &agent).await.etag(), mine.etag());
        let mut inside = outside.clone();
        inside["items"][4]["name"] = json!("Manyatta B");
        assert_eq!(put_areas(&api, Some(&admin), &inside).await.status, 204);
        assert_ne!(api.get("/v1/areas", &agent).await.etag(), mine.etag());
        api.stop().await;
    }
}

#[tokio::test]
async fn a_bad_gazetteer_is_refused_whole_with_every_problem() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "root", None, None);
        assert_eq!(
            put_areas(&api, Some(&admin), &gazetteer()).await.status,
            204
        );
        let before = api.get("/v1/areas", &admin).await;

        let bad = json!({"items": [
            {"code": "KE.30", "parent": null, "level": 1, "name": "Kisumu"},
            {"code": "KE.30", "parent": null, "level": 1, "name": "Twice"},
            {"code": "KE 31", "parent": null, "level": 1, "name": "Spaced"},
            {"code": "KE.32.1", "parent": "KE.32", "level": 2, "name": "Orphan"},
            {"code": "KE.30.1", "parent": "KE.30", "level": 3, "name": "Wrong level"},
            {"code": "KE.33", "parent": null, "level": 2, "name": "No parent"},
            {"code": "KE.34", "parent": null, "level": 1, "name": ""},
            {"code": "KE.35", "parent": null, "level": 9, "name": "Too deep"},
            {"code": "KE.31.5", "parent": "KE.30", "level": 2, "name": "Other county's code"},
        ]});
        let refused = put_areas(&api, Some(&admin), &bad).await;
        assert_eq!(refused.status, 422, "{}: {:?}", api.backend, refused.json);
        assert_eq!(refused.problem(), "/problems/invalid");
        assert_eq!(refused.headers["content-type"], "application/problem+json");
        let fields: Vec<(&str, &str)> = refused.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        for expected in [
            ("items[1].code", "duplicate"),
            ("items[2].code", "invalid_format"),
            ("items[3].parent", "unknown_reference"),
            ("items[4].level", "inconsistent"),
            ("items[5].parent", "required"),
            ("items[6].name", "required"),
            ("items[7].level", "out_of_range"),
            ("items[8].code", "inconsistent"),
        ] {
            assert!(fields.contains(&expected), "{expected:?} not in {fields:?}");
        }
        for malformed in [
            json!({"items": [{"code": "KE.30", "level": 1, "name": "x", "extra": 1}]}),
            json!({"areas": []}),
            json!({"items": [{"code": "KE.30", "level": 300, "name": "x"}]}),
        ] {
            let answer = put_areas(&api, Some(&admin), &malformed).await;
            assert_eq!(answer.status, 400, "{malformed}: {:?}", answer.json);
        }
        let after = api.get("/v1/areas", &admin).await;
        assert_eq!(after.json, before.json, "{}: nothing changed", api.backend);
        assert_eq!(after.etag(), before.etag());
        api.stop().await;
    }
}

#[tokio::test]
async fn addresses_name_the_gazetteers_areas_on_rest_and_on_sync_push() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let admin = api.token("admin", "root", None, None);
        let agent = api.token("agent", "wanjiru", Some("KE.30"), None);
        let made_up = areas(&[(1, "XX.1", "Anywhere")]);

        // No gazetteer yet: any areas are taken.
        let early = api
            .post("/v1/groups", &agent, &household(made_up.clone()))
            .await;
        assert_eq!(early.status, 201, "{}: {:?}", api.backend, early.json);
        assert_eq!(
            put_areas(&api, Some(&admin), &gazetteer()).await.status,
            204
        );

        let good = areas(&[(1, "KE.30", "Kisumu"), (2, "KE.30.1", "Kondele")]);
        let created = api
            .post("/v1/groups", &agent, &household(good.clone()))
            .await;
        assert_eq!(created.status, 201, "{}: {:?}", api.backend, created.json);
        assert_eq!(created.json["address"]["admin_areas"], good);

        for (chain, field, code) in [
            (
                areas(&[(1, "KE.30", "Kisumu City")]),
                "address.admin_areas[0].name",
                "inconsistent",
            ),
            (
                areas(&[(1, "KE.30", "Kisumu"), (2, "KE.30.9", "Nowhere")]),
                "address.admin_areas[1].code",
                "unknown_reference",
            ),
            (
                areas(&[(1, "KE.30", "Kisumu"), (2, "KE.31.1", "Yala Township")]),
                "address.admin_areas[1].code",
                "inconsistent",
            ),
            (
                areas(&[(1, "KE.30", "Kisumu"), (3, "KE.30.1", "Kondele")]),
                "address.admin_areas[1].level",
                "inconsistent",
            ),
        ] {
            let refused = api
                .post("/v1/groups", &agent, &household(chain.clone()))
                .await;
            assert_eq!(
                refused.status, 422,
                "{}: {chain}: {:?}",
                api.backend, refused.json
            );
            assert_eq!(refused.problem(), "/problems/invalid");
            assert_eq!(
                refused.json["errors"][0]["field"], field,
                "{:?}",
                refused.json
            );
            assert_eq!(refused.json["errors"][0]["code"], code);

            // The same through sync push: refused with the same field, nothing applied.
            let body = household(chain.clone());
            let results = push(&api, &agent, &[create(RecordKind::Group, &body)]).await;
            match &results[0] {
                MutationResult::Rejected {
                    problem, errors, ..
                } => {
                    assert_eq!(problem, "/problems/invalid");
                    assert_eq!(errors[0].field, field, "{}", api.backend);
                }
                other => panic!("{}: {chain}: {other:?}", api.backend),
            }
            let id = body["id"].as_str().unwrap();
            assert_eq!(
                api.get(&format!("/v1/groups/{id}"), &agent).await.status,
                404
            );
        }

        // A contact's address is held to the same rule.
        let person = individual(Uuid::now_v7(), "Achieng", "Otieno", None);
        assert_eq!(
            api.post("/v1/individuals", &agent, &person).await.status,
            201
        );
        let contact = |areas: &Value| {
            with(
                meta(Uuid::now_v7()),
                json!({"registrant_id": person["id"], "address": {"country": "KE", "admin_areas": areas}}),
            )
        };
        let refused = api.post("/v1/contacts", &agent, &contact(&made_up)).await;
        assert_eq!(refused.status, 422, "{:?}", refused.json);
        assert_eq!(
            refused.json["errors"][0]["field"],
            "address.admin_areas[0].code"
        );
        let results = push(
            &api,
            &agent,
            &[create(RecordKind::Contact, &contact(&good))],
        )
        .await;
        assert!(
            matches!(results[0], MutationResult::Applied { .. }),
            "{results:?}"
        );

        // A sync edit of a household saved before the gazetteer, leaving its areas alone, is
        // applied; one that sets new areas is held to the gazetteer.
        let before = early.json;
        let renamed = with(before.clone(), json!({"name": "Achieng-Otieno household"}));
        let results = push(
            &api,
            &agent,
            &[update(RecordKind::Group, &before, &renamed)],
        )
        .await;
        let after = record_of(&results[0]);
        assert_eq!(after["name"], "Achieng-Otieno household", "{}", api.backend);
        let mut moved = after.clone();
        moved["address"]["admin_areas"] = areas(&[(1, "KE.31", "Kisumu")]);
        let results = push(&api, &agent, &[update(RecordKind::Group, &after, &moved)]).await;
        assert!(
            matches!(&results[0], MutationResult::Rejected { errors, .. } if errors[0].field == "address.admin_areas[0].name"),
            "{}: {results:?}",
            api.backend
        );
        api.stop().await;
    }
}

#[tokio::test]
async fn the_demo_seeds_a_gazetteer_its_households_name() {
    for backend in backends().await {
        let api = Api::start_with(&backend, |config| config.demo = true).await;
        let agent = api.token("agent", "wanjiru", Some("KE.30.1"), None);
        let mine = api.get("/v1/areas", &agent).await;
        assert_eq!(codes(&mine.json), ["KE.30", "KE.30.1"], "{}", api.backend);
        assert_eq!(mine.json["items"][0]["name"], "Kisumu");
        let households = api.get("/v1/groups?limit=5", &agent).await;
        let first = &households.json["items"][0];
        assert_eq!(
            first["address"]["admin_areas"][1]["code"], "KE.30.1",
            "{}: {first}",
            api.backend
        );
        api.stop().await;
    }
}
