//! The OpenAPI document served at /openapi.json says what the server really does: query
//! parameters in the query with their real optionality, every error the server gives documented
//! as the problem+json it is, and each collection's records typed. (`./dev test` also fuzzes the
//! whole API against the document: scripts/fuzz-api.sh.)

mod common;

use common::{backends, Api};
use serde_json::Value;

async fn served_document(api: &Api) -> Value {
    let response = api
        .http
        .get(format!("{}/openapi.json", api.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                all.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    all
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name} in {operation}"))
}

#[tokio::test]
async fn query_parameters_are_declared_in_the_query_with_their_real_optionality() {
    let api = Api::start(&backends().await[0]).await;
    let doc = served_document(&api).await;
    let list = &doc["paths"]["/v1/{collection}"]["get"];
    for name in [
        "after",
        "limit",
        "owner",
        "group",
        "parent",
        "q",
        "include_deleted",
    ] {
        let p = parameter(list, name);
        assert_eq!(p["in"], "query", "{name}: {p}");
        assert_eq!(p["required"], false, "{name}: {p}");
    }
    assert_eq!(parameter(list, "collection")["in"], "path");
    let typed_list = &doc["paths"]["/v1/individuals"]["get"];
    assert_eq!(parameter(typed_list, "owner")["in"], "query");
    assert!(typed_list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "collection"));

    let search = &doc["paths"]["/v1/search"]["get"];
    assert_eq!(parameter(search, "q")["in"], "query");
    assert_eq!(parameter(search, "q")["required"], true);
    assert_eq!(parameter(search, "limit")["in"], "query");
    assert_eq!(parameter(search, "limit")["required"], false);

    let pull = &doc["paths"]["/v1/sync/pull"]["get"];
    for name in ["cursor", "limit"] {
        assert_eq!(parameter(pull, name)["in"], "query", "{name}");
        assert_eq!(parameter(pull, name)["required"], false, "{name}");
    }
    // Every path parameter names a segment of its path, and every segment is a path parameter.
    for (path, method, operation) in operations(&doc) {
        for p in operation["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "path" {
                let name = p["name"].as_str().unwrap();
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: path parameter {name} is not in the path"
                );
                assert_eq!(p["required"], true, "{method} {path} {name}");
            }
        }
    }
    api.stop().await;
}

#[tokio::test]
async fn errors_are_documented_as_problem_json_and_signed_in_routes_document_401() {
    let api = Api::start(&backends().await[0]).await;
    let doc = served_document(&api).await;
    let mut signed_in = 0;
    for (path, method, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        for (status, response) in responses {
            let Some(content) = response["content"].as_object() else {
                continue;
            };
            let is_error = status.as_str() >= "400";
            for (media_type, body) in content {
                let names_problem = body["schema"]["$ref"] == "#/components/schemas/Problem";
                assert!(
                    !(names_problem && media_type != "application/problem+json"),
                    "{method} {path} {status}: a Problem documented as {media_type}"
                );
                // /health answers its report, 503 included; the token exchange relays the
                // provider's OAuth errors.
                if is_error && !["/health", "/v1/auth/token-exchange"].contains(&path.as_str()) {
                    assert_eq!(
                        media_type, "application/problem+json",
                        "{method} {path} {status}"
                    );
                }
            }
        }
        let needs_token = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        if needs_token {
            signed_in += 1;
            for status in ["401", "429", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    assert!(
        signed_in > 70,
        "only {signed_in} operations name the bearer scheme"
    );
    api.stop().await;
}

#[tokio::test]
async fn every_collection_has_typed_operations() {
    let api = Api::start(&backends().await[0]).await;
    let doc = served_document(&api).await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let collections = [
        ("individuals", "Individual"),
        ("contacts", "Contact"),
        ("groups", "Group"),
        ("memberships", "Membership"),
        ("financial-accounts", "FinancialAccount"),
        ("documents", "Document"),
        ("id-types", "IdType"),
        ("programmes", "Programme"),
        ("forms", "FormDefinition"),
        ("applications", "Application"),
        ("notifications", "Notification"),
        ("liveness-checks", "LivenessCheck"),
    ];
    let mut operation_ids = std::collections::HashSet::new();
    for (segment, record) in collections {
        let reference = format!("#/components/schemas/{record}");
        assert!(schemas.contains_key(record), "{record} schema missing");
        let items = &doc["paths"][format!("/v1/{segment}")];
        let one = &doc["paths"][format!("/v1/{segment}/{{id}}")];
        let json = |v: &Value| v["content"]["application/json"]["schema"]["$ref"].clone();
        assert_eq!(json(&items["post"]["requestBody"]), reference, "{segment}");
        assert_eq!(json(&items["post"]["responses"]["201"]), reference);
        assert_eq!(json(&one["put"]["requestBody"]), reference, "{segment}");
        assert_eq!(json(&one["get"]["responses"]["200"]), reference);
        assert_eq!(json(&one["put"]["responses"]["200"]), reference);
        assert_eq!(json(&one["delete"]["responses"]["200"]), reference);
        assert_eq!(
            json(&items["get"]["responses"]["200"]),
            format!("#/components/schemas/{record}Page")
        );
        let page = &schemas[&format!("{record}Page")];
        assert_eq!(page["properties"]["items"]["items"]["$ref"], reference);
        for operation in [&items["get"], &items["post"], &one["get"], &one["put"]] {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(operation_ids.insert(id.clone()), "{id} twice");
        }
    }
    // The generic operations stay (the router serves them), their bodies any record.
    let generic = &doc["paths"]["/v1/{collection}"]["post"]["requestBody"]["content"];
    assert_eq!(
        generic["application/json"]["schema"]["$ref"],
        "#/components/schemas/AnyRecord"
    );
    assert_eq!(
        schemas["AnyRecord"]["anyOf"].as_array().unwrap().len(),
        collections.len()
    );
    api.stop().await;
}

/// One request whose answer must be a documented error.
struct Case {
    method: &'static str,
    url: String,
    /// The operation's path in the document.
    documented: &'static str,
    token: bool,
    body: Option<Value>,
    headers: &'static [(&'static str, &'static str)],
    status: u16,
}

/// The errors the server gives are the documented ones, as problem+json.
#[tokio::test]
async fn documented_errors_are_the_ones_given() {
    let api = Api::start(&backends().await[0]).await;
    let doc = served_document(&api).await;
    let citizen = api.token("citizen", "openapi-citizen", None, None);
    let unknown = uuid::Uuid::now_v7();
    let case = |method, url: String, documented, body: Option<Value>, status| Case {
        method,
        url,
        documented,
        token: true,
        body,
        headers: &[],
        status,
    };
    let submit = serde_json::json!({"to": "submitted"});
    let cases = [
        Case {
            token: false,
            ..case("GET", "/v1/me".into(), "/v1/me", None, 401)
        },
        // Larger than the 2 MiB a record may be (answered by axum's body limit).
        case(
            "PUT",
            format!("/v1/individuals/{unknown}"),
            "/v1/individuals/{id}",
            Some(serde_json::json!({ "given_name": "x".repeat(3 * 1024 * 1024) })),
            413,
        ),
        Case {
            headers: &[("if-match", "not-a-revision")],
            ..case(
                "PUT",
                format!("/v1/individuals/{unknown}"),
                "/v1/individuals/{id}",
                Some(Value::Null),
                400,
            )
        },
        case(
            "POST",
            "/v1/programmes".into(),
            "/v1/programmes",
            Some(common::with(
                common::meta(uuid::Uuid::now_v7()),
                serde_json::json!({"code": "cash_transfer", "name": "Cash transfer"}),
            )),
            403,
        ),
        case(
            "GET",
            format!("/v1/individuals/{unknown}/history"),
            "/v1/individuals/{id}/history",
            None,
            404,
        ),
        case(
            "GET",
            format!("/v1/documents/{unknown}/content"),
            "/v1/documents/{id}/content",
            None,
            404,
        ),
        // Path parameters that do not parse (answered by axum's extractor).
        case(
            "GET",
            "/v1/documents/not-a-uuid/content".into(),
            "/v1/documents/{id}/content",
            None,
            400,
        ),
        case(
            "POST",
            "/v1/applications/not-a-uuid/transitions".into(),
            "/v1/applications/{id}/transitions",
            Some(submit.clone()),
            400,
        ),
        case(
            "POST",
            format!("/v1/applications/{unknown}/transitions"),
            "/v1/applications/{id}/transitions",
            Some(submit),
            404,
        ),
        // No Tus-Resumable.
        case("POST", "/v1/uploads".into(), "/v1/uploads", None, 412),
        case("GET", "/v1/search?q=a".into(), "/v1/search", None, 400),
        case(
            "GET",
            "/v1/individuals?limit=0".into(),
            "/v1/individuals",
            None,
            400,
        ),
    ];
    for c in cases {
        let token = c.token.then_some(citizen.as_str());
        let answer = api
            .send(c.method, &c.url, token, c.body.as_ref(), c.headers)
            .await;
        let what = format!("{} {}", c.method, c.url);
        assert_eq!(answer.status, c.status, "{what}: {:?}", answer.json);
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{what}"
        );
        assert_eq!(answer.json["status"], c.status, "{what}");
        let response =
            &doc["paths"][c.documented][c.method.to_lowercase()]["responses"][c.status.to_string()];
        assert!(
            response["content"]["application/problem+json"].is_object(),
            "{} {} does not document {} as problem+json",
            c.method,
            c.documented,
            c.status
        );
    }
    api.stop().await;
}
