//! Programmes' forms and the answers given on them (issue 17, "Server-side rules"): a form that
//! needs JavaScript is refused when written, and every application that is not a draft passes
//! its form version, on REST and sync push, on both backends. The rules themselves are the
//! domain's (`doorstep_domain::formio`, with its parity table); these tests hold the paths.

mod common;

use common::sync::{create, push, record_of, update};
use common::{backends, individual, meta, publish_form, with, Answer, Api};
use doorstep_domain::sync::MutationResult;
use doorstep_domain::RecordKind;
use serde_json::{json, Value};
use uuid::Uuid;

/// A child benefit form: required name and age (0–17), a disability box that shows a required
/// description, and a calculated number of months until the child turns 18.
fn child_form() -> Value {
    json!({"display": "form", "components": [
        {"type": "textfield", "key": "childName", "label": "Child's name", "input": true, "validate": {"required": true, "maxLength": 50}},
        {"type": "number", "key": "childAge", "label": "Child's age", "input": true, "validate": {"required": true, "min": 0, "max": 17}},
        {"type": "checkbox", "key": "disabled", "label": "The child has a disability", "input": true},
        {"type": "textarea", "key": "disabilityDetails", "label": "Describe it", "input": true, "validate": {"required": true},
         "conditional": {"show": true, "when": "disabled", "eq": "true"}},
        {"type": "number", "key": "monthsLeft", "label": "Months until 18", "input": true, "disabled": true,
         "calculateValue": {"*": [{"-": [18, {"var": "data.childAge"}]}, 12]}},
        {"type": "button", "key": "submit", "label": "Submit", "input": true, "action": "submit"}
    ]})
}

struct World {
    admin: String,
    agent: String,
    staff: String,
    programme: Value,
    child: Value,
}

async fn world(api: &Api) -> World {
    let admin = api.token("admin", "root", None, None);
    let agent = api.token("agent", "agent-a", Some("KE.30"), None);
    let staff = api.token("staff", "reviewer", None, None);
    let programme = api
        .post(
            "/v1/programmes",
            &admin,
            &with(
                meta(Uuid::now_v7()),
                // Several applications per person: these tests send the same person's answers
                // more than once (the one-per-programme rule has its own tests, write_rules.rs).
                json!({"code": "child_benefit", "name": "Child benefit", "allow_multiple_applications": true}),
            ),
        )
        .await;
    assert_eq!(programme.status, 201, "{:?}", programme.json);
    let child = api
        .post(
            "/v1/individuals",
            &agent,
            &individual(Uuid::now_v7(), "Zawadi", "Njoroge", None),
        )
        .await;
    assert_eq!(child.status, 201, "{:?}", child.json);
    World {
        admin,
        agent,
        staff,
        programme: programme.json,
        child: child.json,
    }
}

fn form(programme: &Value, version: u32, schema: Value) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"programme_id": programme["id"], "version": version, "schema": schema}),
    )
}

fn application(w: &World, version: u32, data: Value) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"programme_id": w.programme["id"], "applicant_id": w.child["id"], "form_version": version,
               "data": data, "status": "draft"}),
    )
}

/// The fields a 422 names, sorted.
fn fields(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 422, "{:?}", answer.json);
    let mut fields: Vec<String> = answer.json["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

/// The fields a rejected mutation names, sorted; panics if it was not rejected as invalid.
fn rejected_fields(result: &MutationResult) -> Vec<String> {
    let MutationResult::Rejected {
        problem, errors, ..
    } = result
    else {
        panic!("not rejected: {result:?}");
    };
    assert_eq!(problem, "/problems/invalid", "{result:?}");
    let mut fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    fields.sort();
    fields
}

async fn transition(api: &Api, token: &str, id: &Value, body: Value) -> Answer {
    api.post(
        &format!("/v1/applications/{}/transitions", id.as_str().unwrap()),
        token,
        &body,
    )
    .await
}

#[tokio::test]
async fn a_form_that_needs_javascript_is_refused_naming_the_component_on_every_path() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        let scripted = json!({"components": [
            {"type": "textfield", "key": "nickname", "label": "Nickname", "input": true,
             "customConditional": "show = data.childAge < 5"}
        ]});
        let unknown = json!({"components": [{"type": "datagrid", "key": "siblings", "input": true, "components": []}]});

        let answer = api
            .post(
                "/v1/forms",
                &w.admin,
                &form(&w.programme, 1, scripted.clone()),
            )
            .await;
        assert_eq!(
            fields(&answer),
            ["schema.components[0].customConditional"],
            "{}",
            api.backend
        );
        assert!(answer.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"nickname\""));
        let answer = api
            .post(
                "/v1/forms",
                &w.admin,
                &form(&w.programme, 1, unknown.clone()),
            )
            .await;
        assert_eq!(fields(&answer), ["schema.components[0].type"]);
        assert!(answer.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"datagrid\""));

        let results = push(
            &api,
            &w.admin,
            &[
                create(RecordKind::FormDefinition, &form(&w.programme, 1, scripted)),
                create(RecordKind::FormDefinition, &form(&w.programme, 1, unknown)),
            ],
        )
        .await;
        assert_eq!(
            rejected_fields(&results[0]),
            ["schema.components[0].customConditional"]
        );
        assert_eq!(rejected_fields(&results[1]), ["schema.components[0].type"]);

        // Nothing was stored; a form within the subset is, on either path.
        let listed = api
            .get(
                &format!("/v1/forms?parent={}", w.programme["id"].as_str().unwrap()),
                &w.admin,
            )
            .await;
        assert_eq!(listed.json["items"], json!([]), "{}", api.backend);
        publish_form(
            &api,
            &w.admin,
            w.programme["id"].as_str().unwrap(),
            1,
            child_form(),
        )
        .await;
        let pushed = push(
            &api,
            &w.admin,
            &[create(
                RecordKind::FormDefinition,
                &form(&w.programme, 2, child_form()),
            )],
        )
        .await;
        assert_eq!(record_of(&pushed[0])["version"], 2);
        api.stop().await;
    }
}

#[tokio::test]
async fn an_application_must_name_a_form_version_of_its_programme() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        publish_form(
            &api,
            &w.admin,
            w.programme["id"].as_str().unwrap(),
            1,
            child_form(),
        )
        .await;
        let answer = api
            .post("/v1/applications", &w.agent, &application(&w, 2, json!({})))
            .await;
        assert_eq!(fields(&answer), ["form_version"], "{}", api.backend);
        assert!(answer.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no form version 2"));
        let results = push(
            &api,
            &w.agent,
            &[create(
                RecordKind::Application,
                &application(&w, 2, json!({})),
            )],
        )
        .await;
        assert_eq!(rejected_fields(&results[0]), ["form_version"]);
        let draft = api
            .post("/v1/applications", &w.agent, &application(&w, 1, json!({})))
            .await;
        assert_eq!(draft.status, 201, "{:?}", draft.json);
        api.stop().await;
    }
}

#[tokio::test]
async fn a_draft_is_kept_as_typed_and_its_answers_are_checked_and_cleaned_when_submitted() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        publish_form(
            &api,
            &w.admin,
            w.programme["id"].as_str().unwrap(),
            1,
            child_form(),
        )
        .await;

        // Drafts may be incomplete, by REST and by sync.
        let typed = json!({"childName": "", "monthsLeft": 5, "notAField": "x"});
        let draft = api
            .post(
                "/v1/applications",
                &w.agent,
                &application(&w, 1, typed.clone()),
            )
            .await;
        assert_eq!(draft.status, 201, "{:?}", draft.json);
        assert_eq!(draft.json["data"], typed);
        let pushed = push(
            &api,
            &w.agent,
            &[create(
                RecordKind::Application,
                &application(&w, 1, typed.clone()),
            )],
        )
        .await;
        assert_eq!(record_of(&pushed[0])["data"], typed);

        // Submitting it as it is: refused by field, and nothing changes.
        let id = &draft.json["id"];
        let refused = transition(&api, &w.agent, id, json!({"to": "submitted"})).await;
        assert_eq!(
            fields(&refused),
            ["data.childAge", "data.childName"],
            "{}",
            api.backend
        );
        let still = api
            .get(
                &format!("/v1/applications/{}", id.as_str().unwrap()),
                &w.agent,
            )
            .await;
        assert_eq!(still.json["status"], "draft");
        assert_eq!(still.json["rev"], 1);

        // Completed (as a draft, still kept as typed), then submitted: what is stored is
        // cleaned: the hidden description and the unknown answer dropped, the months computed.
        let mut completed = draft.json.clone();
        completed["data"] = json!({"childName": "Baraka", "childAge": 7, "disabled": false,
                                   "disabilityDetails": "left from before", "monthsLeft": 1, "notAField": "x"});
        let saved = api
            .put(
                &format!("/v1/applications/{}", id.as_str().unwrap()),
                &w.agent,
                &completed,
                1,
            )
            .await;
        assert_eq!(saved.status, 200, "{:?}", saved.json);
        assert_eq!(saved.json["data"], completed["data"]);
        let submitted = transition(&api, &w.agent, id, json!({"to": "submitted"})).await;
        assert_eq!(submitted.status, 200, "{:?}", submitted.json);
        let cleaned =
            json!({"childName": "Baraka", "childAge": 7, "disabled": false, "monthsLeft": 132});
        assert_eq!(submitted.json["data"], cleaned);
        let stored = api
            .get(
                &format!("/v1/applications/{}", id.as_str().unwrap()),
                &w.staff,
            )
            .await;
        assert_eq!(stored.json["data"], cleaned);
        assert_eq!(stored.json["status"], "submitted");
        api.stop().await;
    }
}

#[tokio::test]
async fn answers_changed_after_a_request_for_more_are_checked_on_rest_and_sync() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(&api).await;
        publish_form(
            &api,
            &w.admin,
            w.programme["id"].as_str().unwrap(),
            1,
            child_form(),
        )
        .await;
        let draft = api
            .post(
                "/v1/applications",
                &w.agent,
                &application(&w, 1, json!({"childName": "Baraka", "childAge": 7})),
            )
            .await;
        let id = draft.json["id"].clone();
        assert_eq!(
            transition(&api, &w.agent, &id, json!({"to": "submitted"}))
                .await
                .status,
            200
        );
        assert_eq!(
            transition(&api, &w.staff, &id, json!({"to": "under_review"}))
                .await
                .status,
            200
        );
        let asked = transition(
            &api,
            &w.staff,
            &id,
            json!({"to": "more_information_needed", "note": "Is the child disabled?"}),
        )
        .await;
        assert_eq!(asked.status, 200, "{:?}", asked.json);
        let current = asked.json;
        let rev = current["rev"].as_u64().unwrap();

        // A crafted edit over HTTP that breaks the form: refused by field, on both paths.
        let mut broken = current.clone();
        broken["data"] = json!({"childName": "Baraka", "childAge": 30, "disabled": true});
        let answer = api
            .put(
                &format!("/v1/applications/{}", id.as_str().unwrap()),
                &w.agent,
                &broken,
                rev,
            )
            .await;
        assert_eq!(
            fields(&answer),
            ["data.childAge", "data.disabilityDetails"],
            "{}",
            api.backend
        );
        let results = push(
            &api,
            &w.agent,
            &[update(RecordKind::Application, &current, &broken)],
        )
        .await;
        assert_eq!(
            rejected_fields(&results[0]),
            ["data.childAge", "data.disabilityDetails"]
        );

        // A good answer is taken, with its calculation done again by the registry.
        let mut answered = current.clone();
        answered["data"] = json!({"childName": "Baraka", "childAge": 8, "disabled": true,
                                  "disabilityDetails": "Hearing", "monthsLeft": 999});
        let results = push(
            &api,
            &w.agent,
            &[update(RecordKind::Application, &current, &answered)],
        )
        .await;
        let stored = record_of(&results[0]);
        assert_eq!(
            stored["data"]["monthsLeft"], 120,
            "{}: {stored}",
            api.backend
        );
        assert_eq!(stored["data"]["disabilityDetails"], "Hearing");
        let resubmitted = transition(&api, &w.agent, &id, json!({"to": "submitted"})).await;
        assert_eq!(resubmitted.status, 200, "{:?}", resubmitted.json);
        assert_eq!(resubmitted.json["data"]["monthsLeft"], 120);
        api.stop().await;
    }
}

/// The invariant's source check (ARCHITECTURE.md: every application write that is not a draft
/// passes its form version). The registry builds store writes in few places; each is listed
/// here with why it cannot store an unchecked application. A new place fails this test until
/// someone has looked at it.
#[test]
fn every_store_write_of_an_application_goes_through_the_form_check() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // The store itself only carries out what it is given.
                if !path.ends_with("storage") {
                    stack.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let builds = text
                .match_indices("Write {")
                .filter(|(at, _)| {
                    let before = &text[..*at];
                    !before.ends_with("-> ") && !before.ends_with("struct ")
                })
                .count();
            if builds > 0 {
                let name = path
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                found.insert(name, (builds, text));
            }
        }
    }
    let places: Vec<(&str, usize)> = found.iter().map(|(k, (n, _))| (k.as_str(), *n)).collect();
    assert_eq!(
        places,
        [
            // The transition: the application (checked by form_rules::submission when it moves
            // to submitted; other moves change only its status).
            ("api/applications.rs", 1),
            // The registry's own notifications (status changes, decisions, announcements): never
            // an application.
            ("api/notify.rs", 1),
            // write::prepare, the one pipeline of REST and sync writes: form_rules::check.
            ("api/write.rs", 1),
            // Demo households: applications only as drafts (demo::tests holds it).
            ("demo/households.rs", 1),
            // Demo programmes and their forms (demo::tests checks the forms).
            ("demo/mod.rs", 1),
        ],
        "a place that builds store writes changed: make sure no application that is not a draft is written without api::form_rules, then update this list"
    );
    let prepare = &found["api/write.rs"].1;
    let body = &prepare[prepare.find("pub async fn prepare(").unwrap()..];
    let body = &body[..body.find("\n}\n").unwrap()];
    assert!(
        body.contains("form_rules::check(state, &mut typed, &mut body)"),
        "prepare checks forms and answers"
    );
    let transition = &found["api/applications.rs"].1;
    let checked = transition
        .find("form_rules::submission(")
        .expect("the transition checks the answers");
    let written = transition.find("let application_write = Write {").unwrap();
    assert!(
        checked < written,
        "the answers are checked before the application is written"
    );
}
