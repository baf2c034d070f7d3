//! The shared pieces of the OpenAPI document ([`crate::http::ApiDoc`]): the record schemas, the
//! errors every signed-in route can answer, and the modifiers that finish the document.
//!
//! The router serves every collection through one set of handlers (`/v1/{collection}`), and the
//! document describes them once that way (bodies are "any record"). [`PerCollection`] then adds
//! the same routes once per collection (`/v1/individuals`, `/v1/individuals/{id}`, …) with the
//! collection's own record type, so a client generated from the document is typed. Errors are
//! always `application/problem+json` ([`ProblemJson`] makes sure of it).

use std::borrow::Cow;
use std::collections::BTreeMap;

use doorstep_domain::api::paths;
use doorstep_domain::{
    Application, Contact, Document, FinancialAccount, FormDefinition, Group, IdType, Individual,
    LivenessCheck, Membership, Notification, Programme,
};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::PathItem;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Ref, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::resources::Collection;

/// Media type of every error body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Name of the schema of a record of `collection` in the document's components.
pub fn record_schema_name(collection: Collection) -> Cow<'static, str> {
    match collection {
        Collection::Individuals => Individual::name(),
        Collection::Contacts => Contact::name(),
        Collection::Groups => Group::name(),
        Collection::Memberships => Membership::name(),
        Collection::FinancialAccounts => FinancialAccount::name(),
        Collection::Documents => Document::name(),
        Collection::IdTypes => IdType::name(),
        Collection::Programmes => Programme::name(),
        Collection::Forms => FormDefinition::name(),
        Collection::Applications => Application::name(),
        Collection::Notifications => Notification::name(),
        Collection::LivenessChecks => LivenessCheck::name(),
    }
}

/// A record of any collection, as the generic `/v1/{collection}` operations take and return it.
/// The per-collection operations name the exact type instead.
pub struct AnyRecord;

impl PartialSchema for AnyRecord {
    fn schema() -> RefOr<Schema> {
        Collection::ALL
            .iter()
            .fold(AnyOfBuilder::new(), |any, c| {
                any.item(Ref::from_schema_name(record_schema_name(*c)))
            })
            .description(Some(
                "A record of the collection named in the path (Individual for individuals, \
                 Contact for contacts, …). The per-collection operations are typed exactly.",
            ))
            .into()
    }
}

impl ToSchema for AnyRecord {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AnyRecord")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        add::<Individual>(schemas);
        add::<Contact>(schemas);
        add::<Group>(schemas);
        add::<Membership>(schemas);
        add::<FinancialAccount>(schemas);
        add::<Document>(schemas);
        add::<IdType>(schemas);
        add::<Programme>(schemas);
        add::<FormDefinition>(schemas);
        add::<Application>(schemas);
        add::<Notification>(schemas);
        add::<LivenessCheck>(schemas);
    }
}

/// A problem+json response with `description`.
pub fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// What any operation that needs a bearer token may answer besides its own responses: the
/// `Caller` extractor's refusals, the rate limit, the request timeout and an unreachable
/// database or identity provider. List it in every such operation's `responses(...)`.
pub struct SignedInErrors;

impl utoipa::IntoResponses for SignedInErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut unauthenticated = problem_response(
            "No bearer token, or one that is malformed, expired, or not from a trusted identity provider",
        );
        unauthenticated.headers.insert(
            "WWW-Authenticate".into(),
            HeaderBuilder::new()
                .schema(String::schema())
                .description(Some("The RFC 6750 challenge: `Bearer realm=\"doorstep-registry\"`, with `error=\"invalid_token\"` when a token was sent"))
                .build(),
        );
        let mut limited = problem_response("Too many requests from this caller");
        limited.headers.insert(
            "Retry-After".into(),
            HeaderBuilder::new()
                .schema(u64::schema())
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
        [
            ("401", unauthenticated),
            (
                "408",
                problem_response("The request took longer than the server allows (30 s; transfers 15 min)"),
            ),
            ("429", limited),
            (
                "503",
                problem_response("The registry's database or the identity provider's keys cannot be reached; nothing was changed, try again in a moment"),
            ),
        ]
        .into_iter()
        .map(|(status, response)| (status.to_owned(), RefOr::T(response)))
        .collect()
    }
}

/// Operations served by the generic record handlers, and what each is called per collection:
/// (`operationId` of the generic operation, prefix, whether the per-collection name is plural).
const GENERIC_OPERATIONS: [(&str, &str, bool); 6] = [
    ("list", "list", true),
    ("create", "create", false),
    ("get_one", "get", false),
    ("update", "update", false),
    ("delete", "delete", false),
    ("history", "history_of", false),
];

/// The generic record routes, expanded once per collection.
const GENERIC_PATHS: [&str; 3] = [paths::COLLECTION, paths::RECORD, paths::RECORD_HISTORY];

/// Adds a typed copy of every generic record operation for each collection (see the module
/// documentation), and a page schema per collection (`IndividualPage`, …).
pub struct PerCollection;

impl utoipa::Modify for PerCollection {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in GENERIC_PATHS {
            let Some(generic) = openapi.paths.paths.get(path) else {
                continue;
            };
            let template = serde_json::to_value(generic).expect("path items serialise");
            for collection in Collection::ALL {
                let concrete = path.replace("{collection}", &collection.segment());
                if openapi.paths.paths.contains_key(&concrete) {
                    continue;
                }
                let mut item = template.clone();
                specialise(&mut item, collection);
                let item: PathItem =
                    serde_json::from_value(item).expect("a specialised path item is a path item");
                openapi.paths.paths.insert(concrete, item);
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        // The shared `Page` (crate domain) holds any JSON; the generic routes hold any record.
        if let Some(page) = components.schemas.get_mut("Page") {
            let mut json = serde_json::to_value(&*page).expect("schemas serialise");
            json["properties"]["items"]["items"] =
                serde_json::json!({ "$ref": "#/components/schemas/AnyRecord" });
            *page = serde_json::from_value(json).expect("a page schema is a schema");
        }
        for collection in Collection::ALL {
            components.schemas.insert(
                format!("{}Page", record_schema_name(collection)),
                page_schema(collection),
            );
        }
    }
}

/// The schema of a page of `collection`'s records (what a list answers).
pub fn page_schema(collection: Collection) -> RefOr<Schema> {
    let record = record_schema_name(collection);
    ObjectBuilder::new()
        .description(Some(format!("A page of {} records.", collection.segment())))
        .property(
            "items",
            ArrayBuilder::new()
                .items(Ref::from_schema_name(record))
                .description(Some(
                    "The records, ordered by id (ids are time-ordered UUIDv7, so oldest first).",
                )),
        )
        .required("items")
        .property(
            "next_after",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some(
                    "Pass as `after` to get the next page; absent on the last page.",
                )),
        )
        .into()
}

/// A page of individuals (what search answers).
pub struct IndividualPage;

impl PartialSchema for IndividualPage {
    fn schema() -> RefOr<Schema> {
        page_schema(Collection::Individuals)
    }
}

impl ToSchema for IndividualPage {
    fn name() -> Cow<'static, str> {
        format!("{}Page", Individual::name()).into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Individual::name().into_owned(), Individual::schema()));
        Individual::schemas(schemas);
    }
}

/// Turn a generic path item (JSON) into the one of `collection`: no `collection` parameter, the
/// collection's record and page schemas, and its own operation ids.
fn specialise(item: &mut serde_json::Value, collection: Collection) {
    let record = record_schema_name(collection);
    let singular = collection.kind().as_str();
    let plural = collection.segment().replace('-', "_");
    for operation in operations(item) {
        if let Some(serde_json::Value::Array(parameters)) = operation.get_mut("parameters") {
            parameters.retain(|p| !(p["name"] == "collection" && p["in"] == "path"));
        }
        let generic = operation
            .get("operationId")
            .and_then(|id| id.as_str())
            .and_then(|id| {
                GENERIC_OPERATIONS
                    .iter()
                    .find(|(generic, ..)| *generic == id)
            });
        if let Some((generic, prefix, plural_noun)) = generic {
            let noun = if *plural_noun {
                plural.as_str()
            } else {
                singular
            };
            operation.insert("operationId".into(), format!("{prefix}_{noun}").into());
            // "No such collection" cannot happen on a collection's own route.
            if ["list", "create"].contains(generic) {
                if let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(|r| r.as_object_mut())
                {
                    responses.remove("404");
                }
            }
        }
        if let Some(summary) = operation.get("summary").and_then(|s| s.as_str()) {
            let summary = format!(
                "{} ({}).",
                summary.trim_end_matches('.'),
                collection.segment()
            );
            operation.insert("summary".into(), summary.into());
        }
        // The generic description explains the per-collection operations.
        operation.remove("description");
        // Only an individual is checked for duplicates.
        if collection != Collection::Individuals {
            if let Some(responses) = operation
                .get_mut("responses")
                .and_then(|r| r.as_object_mut())
            {
                for response in responses.values_mut() {
                    if let Some(headers) =
                        response.get_mut("headers").and_then(|h| h.as_object_mut())
                    {
                        headers.remove(doorstep_domain::api::headers::POSSIBLE_DUPLICATES);
                    }
                }
            }
        }
        for value in operation.values_mut() {
            point_at(value, &record);
        }
    }
}

/// The operations (`get`, `post`, …) of a path item as JSON; other keys are skipped.
fn operations(
    item: &mut serde_json::Value,
) -> impl Iterator<Item = &mut serde_json::Map<String, serde_json::Value>> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    item.as_object_mut()
        .into_iter()
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| METHODS.contains(&method.as_str()))
        .filter_map(|(_, operation)| operation.as_object_mut())
}

/// Point the "any record" and generic page references at the collection's schemas.
fn point_at(value: &mut serde_json::Value, record: &str) {
    match value {
        serde_json::Value::String(s) if s == "#/components/schemas/AnyRecord" => {
            *s = format!("#/components/schemas/{record}");
        }
        serde_json::Value::String(s) if s == "#/components/schemas/Page" => {
            *s = format!("#/components/schemas/{record}Page");
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| point_at(v, record)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| point_at(v, record)),
        _ => {}
    }
}

/// A signed-in identity may hold no role at all here (an issuer trusted only for roles the staff
/// directory gives, and no entry for them: `auth/roles.rs`): every route that takes a caller may
/// then answer 403. Routes that document a 403 of their own keep their wording; the others get
/// this one, so the document lists every status the server gives.
pub struct NoRoleForbidden;

impl utoipa::Modify for NoRoleForbidden {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        edit_responses(openapi, |path, responses| {
            // The sign-in routes are called before the app has a registry token.
            let takes_a_caller = path.starts_with("/v1/") && !path.starts_with("/v1/auth/");
            if !takes_a_caller || !responses.contains_key("401") || responses.contains_key("403") {
                return false;
            }
            let forbidden = problem_response(
                "The identity is proven but holds no role in this registry: not in the staff directory, and its issuer grants no citizens",
            );
            responses.insert(
                "403".into(),
                serde_json::to_value(forbidden).expect("responses serialise"),
            );
            true
        });
    }
}

/// Let `edit` change each operation's responses (as JSON), given the operation's path; it says
/// whether it changed anything, and only changed path items are written back.
fn edit_responses(
    openapi: &mut utoipa::openapi::OpenApi,
    mut edit: impl FnMut(&str, &mut serde_json::Map<String, serde_json::Value>) -> bool,
) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let mut json = serde_json::to_value(&*item).expect("path items serialise");
        let mut changed = false;
        for operation in operations(&mut json) {
            if let Some(responses) = operation
                .get_mut("responses")
                .and_then(|r| r.as_object_mut())
            {
                changed |= edit(path, responses);
            }
        }
        if changed {
            *item = serde_json::from_value(json).expect("path items deserialise");
        }
    }
}

/// Every error body is problem+json: a response documented with the `Problem` schema under
/// `application/json` is moved to `application/problem+json`, which is what the server sends.
pub struct ProblemJson;

impl utoipa::Modify for ProblemJson {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        edit_responses(openapi, |_, responses| {
            let mut changed = false;
            for response in responses.values_mut() {
                let Some(content) = response.get_mut("content").and_then(|c| c.as_object_mut())
                else {
                    continue;
                };
                let is_problem = content
                    .get("application/json")
                    .is_some_and(|c| c["schema"]["$ref"] == "#/components/schemas/Problem");
                if is_problem {
                    let problem = content.remove("application/json").expect("checked");
                    content.entry(PROBLEM_JSON).or_insert(problem);
                    changed = true;
                }
            }
            changed
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi;

    /// `#[utoipa::path(path = ...)]` needs literals: each must be one of the domain's paths
    /// (the ones the router and the app's client use), and every domain path is documented.
    #[test]
    fn documented_paths_are_the_domains() {
        let doc = crate::http::ApiDoc::openapi();
        let expansions: Vec<String> = GENERIC_PATHS
            .iter()
            .flat_map(|p| {
                Collection::ALL
                    .iter()
                    .map(move |c| p.replace("{collection}", &c.segment()))
            })
            .collect();
        for documented in doc.paths.paths.keys() {
            assert!(
                paths::ALL.contains(&documented.as_str()) || expansions.contains(documented),
                "{documented} is documented but is not a path of doorstep_domain::api::paths"
            );
        }
        for path in paths::ALL {
            assert!(
                doc.paths.paths.contains_key(*path),
                "{path} (doorstep_domain::api::paths) is not documented"
            );
        }
    }

    #[test]
    fn generic_pages_hold_any_record() {
        let doc = serde_json::to_value(crate::http::ApiDoc::openapi()).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Page"]["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/AnyRecord"
        );
    }
}
