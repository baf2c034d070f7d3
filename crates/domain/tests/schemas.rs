//! With the `openapi` and `specta` features on, every model type must produce a schema the
//! server and the app can use: flattened record metadata included, timestamps and ids as strings.
//!
//! Run with `cargo test -p doorstep-domain --features openapi,specta`; without the features
//! this file compiles to nothing.

#[cfg(feature = "openapi")]
mod openapi {
    use doorstep_domain::*;
    use serde_json::Value;
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(components(schemas(
        Individual,
        Contact,
        Group,
        Membership,
        FinancialAccount,
        Document,
        IdType,
        Programme,
        FormDefinition,
        Application,
        Notification,
        LivenessCheck,
        RecordKind,
        ValidationErrors,
        DomainError,
    )))]
    struct Model;

    fn schemas() -> Value {
        serde_json::to_value(Model::openapi()).unwrap()["components"]["schemas"].clone()
    }

    /// Property names of a schema, following `allOf` (how utoipa renders `serde(flatten)`).
    fn property_names(schemas: &Value, schema: &Value) -> Vec<String> {
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(parts) = schema["allOf"].as_array() {
            for part in parts {
                let resolved = match part["$ref"].as_str() {
                    Some(reference) => &schemas[reference.rsplit('/').next().unwrap()],
                    None => part,
                };
                names.extend(property_names(schemas, resolved));
            }
        }
        names
    }

    #[test]
    fn records_include_their_metadata_fields() {
        let schemas = schemas();
        for record in [
            "Individual",
            "Group",
            "Membership",
            "Application",
            "Document",
        ] {
            let names = property_names(&schemas, &schemas[record]);
            for field in [
                "id",
                "created_at",
                "updated_at",
                "created_by",
                "rev",
                "deleted_at",
            ] {
                assert!(
                    names.iter().any(|n| n == field),
                    "{record} lacks {field}: {names:?}"
                );
            }
        }
        let individual = property_names(&schemas, &schemas["Individual"]);
        assert!(individual.iter().any(|n| n == "given_name"));
        assert!(individual.iter().any(|n| n == "reg_ids"));
    }

    #[test]
    fn dates_and_ids_are_strings() {
        let schemas = schemas();
        let meta = &schemas["RecordMeta"]["properties"];
        assert_eq!(meta["created_at"]["type"], "string", "{meta}");
        assert_eq!(meta["created_at"]["format"], "date-time");
        // Membership is `allOf: [RecordMeta, {own fields}]`.
        let start = schemas["Membership"]["allOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|part| &part["properties"]["start_date"])
            .find(|property| property.is_object())
            .expect("Membership has start_date");
        assert_eq!(start["format"], "date", "{start}");
    }
}

#[cfg(feature = "specta")]
mod typescript {
    use doorstep_domain::*;
    use specta::TypeCollection;
    use specta_typescript::{BigIntExportBehavior, Typescript};

    #[test]
    fn every_type_exports_to_typescript() {
        let mut types = TypeCollection::default();
        types
            .register::<Individual>()
            .register::<Contact>()
            .register::<Group>()
            .register::<Membership>()
            .register::<FinancialAccount>()
            .register::<Document>()
            .register::<IdType>()
            .register::<Programme>()
            .register::<FormDefinition>()
            .register::<Application>()
            .register::<Notification>()
            .register::<LivenessCheck>()
            .register::<RecordKind>()
            .register::<ValidationErrors>()
            .register::<DomainError>();
        let output = Typescript::default()
            .bigint(BigIntExportBehavior::Number)
            .export(&types)
            .expect("the model exports to TypeScript");
        for expected in [
            "export type Individual",
            "given_name",
            "created_at: string",
            "export type ApplicationStatus",
            "\"more_information_needed\"",
        ] {
            assert!(
                output.contains(expected),
                "missing {expected:?} in:\n{output}"
            );
        }
    }
}
