//! Server-side rules beyond the shared parity table (tests/formio-parity/cases.json): what a
//! definition may not use, and what only a crafted submission can contain (the browser's
//! inputs cannot produce it, so the table, which types into the browser, cannot hold it).

use serde_json::{json, Value};

use super::*;

const BUILDER_DEFAULTS: &str =
    include_str!("../../../../tests/formio-parity/builder-defaults.json");

fn form(components: Value) -> Value {
    json!({"display": "form", "components": components})
}

/// The errors of a definition, as (field, code, message).
fn refused(schema: Value) -> Vec<(String, String, String)> {
    check_definition(&schema)
        .expect_err("refused")
        .errors
        .into_iter()
        .map(|e| (e.field, e.code, e.message))
        .collect()
}

fn refuses(schema: Value, field: &str, needle: &str) {
    let errors = refused(schema);
    assert!(
        errors
            .iter()
            .any(|(f, _, m)| f == field && m.contains(needle)),
        "expected {field} / {needle:?} in {errors:#?}"
    );
}

#[test]
fn every_supported_component_as_the_builder_makes_it_is_accepted() {
    let defaults: serde_json::Map<String, Value> = serde_json::from_str(BUILDER_DEFAULTS).unwrap();
    let types: Vec<&str> = defaults.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = SUPPORTED_TYPES.to_vec();
    expected.sort_unstable();
    assert_eq!(
        types, expected,
        "builder-defaults.json covers exactly the supported types"
    );
    let schema = form(Value::Array(defaults.values().cloned().collect()));
    check_definition(&schema).unwrap();
    // And a default submission of it validates.
    validate_submission(&schema, &json!({"submit": true})).unwrap();
}

#[test]
fn what_needs_javascript_is_refused_naming_the_component() {
    let base = json!({"type": "textfield", "key": "age", "label": "Age", "input": true});
    let with = |extra: Value| {
        let mut c = base.clone();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        form(json!([c]))
    };
    refuses(
        with(json!({"customConditional": "show = data.x > 1"})),
        "schema.components[0].customConditional",
        "\"age\"",
    );
    refuses(
        with(json!({"validate": {"custom": "valid = input > 1"}})),
        "schema.components[0].validate.custom",
        "JavaScript",
    );
    refuses(
        with(json!({"calculateValue": "value = 1"})),
        "schema.components[0].calculateValue",
        "JavaScript",
    );
    refuses(
        with(json!({"customDefaultValue": "value = 1"})),
        "schema.components[0].customDefaultValue",
        "JavaScript",
    );
    refuses(
        with(
            json!({"logic": [{"name": "l", "trigger": {"type": "javascript", "javascript": "result = true"}, "actions": [{"type": "value", "value": "value = 1"}]}]}),
        ),
        "schema.components[0].logic",
        "advanced logic",
    );
    refuses(
        with(json!({"conditional": {"json": {"_get": [{"var": "data"}, "x"]}}})),
        "schema.components[0].conditional.json._get",
        "\"_get\"",
    );
    refuses(
        with(json!({"calculateValue": {"var": "form.title"}})),
        "schema.components[0].calculateValue.var",
        "form.title",
    );
    refuses(
        with(json!({"datePicker": {"minDate": "moment().subtract(1, 'day')"}, "type": "datetime"})),
        "schema.components[0].datePicker.minDate",
        "relative dates",
    );
    refuses(
        form(
            json!([{"type": "button", "key": "b", "input": true, "action": "custom", "custom": "alert(1)"}]),
        ),
        "schema.components[0].action",
        "\"b\"",
    );
    // JSON logic as conditions and calculations is fine.
    let mut fine = with(
        json!({"conditional": {"json": {"==": [{"var": "data.other"}, 1]}}, "calculateValue": {"+": [{"var": "data.other"}, 2]}}),
    );
    fine["components"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "number", "key": "other", "input": true}));
    check_definition(&fine).unwrap();
}

#[test]
fn unknown_types_and_options_are_refused_plainly() {
    refuses(
        form(json!([{"type": "datagrid", "key": "rows", "input": true, "components": []}])),
        "schema.components[0].type",
        "\"datagrid\", which Doorstep does not offer",
    );
    refuses(
        form(
            json!([{"type": "textfield", "key": "t", "input": true, "validate": {"minSelectedCount": 2}}]),
        ),
        "schema.components[0].validate.minSelectedCount",
        "does not offer",
    );
    refuses(
        form(json!([{"type": "textfield", "key": "t", "input": true, "inputMask": "999"}])),
        "schema.components[0].inputMask",
        "input masks",
    );
    refuses(
        form(json!([{"type": "textfield", "key": "t", "input": true, "someNewOption": 3}])),
        "schema.components[0].someNewOption",
        "does not know",
    );
    refuses(
        form(
            json!([{"type": "select", "key": "s", "input": true, "dataSrc": "url", "data": {"url": "https://example.org"}}]),
        ),
        "schema.components[0].dataSrc",
        "Values",
    );
    refuses(
        form(json!([{"type": "textfield", "key": "t", "input": true, "multiple": true}])),
        "schema.components[0].multiple",
        "select and file",
    );
    refuses(
        json!({"display": "wizard", "components": []}),
        "schema.display",
        "wizard",
    );
    refuses(json!({"components": {}}), "schema.components", "list");
    // Harmless options at any value, and blank unknown ones, are fine.
    check_definition(&form(json!([{"type": "textfield", "key": "t", "input": true, "placeholder": "x", "tooltip": "y", "customClass": "z", "futureFlag": false}]))).unwrap();
}

#[test]
fn keys_must_be_unique_plain_and_present() {
    let t = |key: &str| json!({"type": "textfield", "key": key, "input": true});
    refuses(
        form(json!([t("a"), {"type": "panel", "key": "p", "components": [t("a")]}])),
        "schema.components[1].components[0].key",
        "unique",
    );
    refuses(
        form(json!([t("a.b")])),
        "schema.components[0].key",
        "no dots",
    );
    refuses(form(json!([t("")])), "schema.components[0].key", "no key");
}

#[test]
fn conditions_and_calculations_must_read_fields_of_the_form_without_loops() {
    let n = |key: &str, extra: Value| {
        let mut c = json!({"type": "number", "key": key, "input": true});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    refuses(
        form(json!([n(
            "a",
            json!({"conditional": {"show": true, "when": "ghost", "eq": "1"}})
        )])),
        "schema.components[0].conditional.when",
        "\"ghost\"",
    );
    refuses(
        form(json!([
            n(
                "a",
                json!({"conditional": {"show": true, "conjunction": "all", "conditions": [{"component": "b", "operator": "matches", "value": "x"}]}})
            ),
            n("b", json!({}))
        ])),
        "schema.components[0].conditional.conditions[0].operator",
        "\"matches\"",
    );
    let errors = refused(form(json!([
        n(
            "a",
            json!({"calculateValue": {"+": [{"var": "data.b"}, 1]}})
        ),
        n(
            "b",
            json!({"calculateValue": {"+": [{"var": "data.a"}, 1]}})
        ),
    ])));
    assert!(
        errors.iter().any(|(f, c, m)| f == "schema.components"
            && c == code::INCONSISTENT
            && m.contains("a, b")),
        "{errors:?}"
    );
    // A panel hidden by one of its own fields is a loop too.
    let errors = refused(form(
        json!([{"type": "panel", "key": "p", "conditional": {"json": {"var": "data.inner"}}, "components": [n("inner", json!({}))]}]),
    ));
    assert!(
        errors.iter().any(|(_, c, _)| c == code::INCONSISTENT),
        "{errors:?}"
    );
    // Reading a field defined later is fine: order follows what is read.
    let schema = form(json!([
        n(
            "total",
            json!({"calculateValue": {"*": [{"var": "data.part"}, 2]}})
        ),
        n(
            "part",
            json!({"calculateValue": {"+": [{"var": "data.base"}, 1]}})
        ),
        n("base", json!({})),
    ]));
    assert_eq!(
        validate_submission(&schema, &json!({"base": 1})).unwrap(),
        json!({"base": 1, "part": 2, "total": 4})
    );
}

#[test]
fn sizes_are_bounded() {
    let many: Vec<Value> = (0..=schema::MAX_COMPONENTS)
        .map(|i| json!({"type": "textfield", "key": format!("f{i}"), "input": true}))
        .collect();
    refuses(
        form(Value::Array(many)),
        &format!("schema.components[{}]", schema::MAX_COMPONENTS),
        "more than",
    );
    let mut deep = json!({"type": "textfield", "key": "leaf", "input": true});
    for i in 0..=schema::MAX_NESTING {
        deep = json!({"type": "panel", "key": format!("p{i}"), "components": [deep]});
    }
    let errors = refused(form(json!([deep])));
    assert!(
        errors
            .iter()
            .any(|(_, c, m)| c == code::OUT_OF_RANGE && m.contains("nested")),
        "{errors:?}"
    );
    let mut logic = json!({"var": "data.a"});
    for _ in 0..=logic::MAX_DEPTH {
        logic = json!({"!": [logic]});
    }
    let errors = refused(form(
        json!([{"type": "checkbox", "key": "a", "input": true, "calculateValue": logic}]),
    ));
    assert!(
        errors.iter().any(|(_, c, _)| c == code::OUT_OF_RANGE),
        "{errors:?}"
    );
}

#[test]
fn patterns_rust_cannot_run_are_refused_when_the_form_is_checked() {
    for pattern in [r"(\d)\1", r"(?=x)x", "[a-"] {
        let schema = form(
            json!([{"type": "textfield", "key": "t", "input": true, "validate": {"pattern": pattern}}]),
        );
        refuses(schema, "schema.components[0].validate.pattern", "pattern");
    }
}

fn one(component: Value) -> CompiledForm {
    CompiledForm::compile(&form(json!([component]))).unwrap()
}

fn problem(form: &CompiledForm, data: Value) -> Option<(String, String)> {
    form.validate(&data)
        .err()
        .map(|e| (e.errors[0].field.clone(), e.errors[0].code.clone()))
}

#[test]
fn crafted_values_of_the_wrong_type_are_refused() {
    let cases = [
        (
            json!({"type": "textfield", "key": "x", "input": true}),
            json!(5),
        ),
        (
            json!({"type": "number", "key": "x", "input": true}),
            json!("5"),
        ),
        (
            json!({"type": "checkbox", "key": "x", "input": true}),
            json!("yes"),
        ),
        (
            json!({"type": "selectboxes", "key": "x", "input": true, "values": [{"label": "A", "value": "a"}]}),
            json!({"a": "yes"}),
        ),
        (
            json!({"type": "select", "key": "x", "input": true, "data": {"values": [{"label": "A", "value": "a"}]}}),
            json!(["a"]),
        ),
        (
            json!({"type": "file", "key": "x", "input": true, "storage": "base64"}),
            json!([{"name": "a"}, {"name": "b"}]),
        ),
        (
            json!({"type": "datetime", "key": "x", "input": true}),
            json!(20240501),
        ),
    ];
    for (component, value) in cases {
        let form = one(component.clone());
        assert_eq!(
            problem(&form, json!({"x": value})),
            Some(("data.x".into(), code::INVALID_FORMAT.into())),
            "{component} with {value}"
        );
    }
    assert_eq!(
        problem(
            &one(json!({"type": "textfield", "key": "x", "input": true})),
            json!([1])
        ),
        Some(("data".into(), code::INVALID_FORMAT.into()))
    );
}

#[test]
fn options_are_enforced_even_where_the_form_does_not_ask() {
    // The browser's select offers only these; Form.io checks only with onlyAvailableItems.
    let select = one(
        json!({"type": "select", "key": "x", "input": true, "data": {"values": [{"label": "A", "value": "a"}, {"label": "One", "value": "1"}]}}),
    );
    assert_eq!(
        problem(&select, json!({"x": "b"})),
        Some(("data.x".into(), code::NOT_ALLOWED.into()))
    );
    assert!(select.validate(&json!({"x": "a"})).is_ok());
    // @formio/js stores "1" as the number 1 (its automatic data type): both are the option.
    assert!(select.validate(&json!({"x": 1})).is_ok());
    assert!(select.validate(&json!({"x": "1"})).is_ok());
    let radio = one(
        json!({"type": "radio", "key": "x", "input": true, "values": [{"label": "Yes", "value": "yes"}]}),
    );
    assert_eq!(
        problem(&radio, json!({"x": "no"})),
        Some(("data.x".into(), code::NOT_ALLOWED.into()))
    );
}

#[test]
fn numbers_keep_to_the_decimals_the_field_allows() {
    // The browser's number input cannot type more decimals than decimalLimit.
    let whole = one(json!({"type": "number", "key": "x", "input": true, "decimalLimit": 0}));
    assert_eq!(
        problem(&whole, json!({"x": 2.5})),
        Some(("data.x".into(), code::INVALID_FORMAT.into()))
    );
    assert!(whole.validate(&json!({"x": 2})).is_ok());
    let cents = one(json!({"type": "number", "key": "x", "input": true, "decimalLimit": 2}));
    assert!(cents.validate(&json!({"x": 2.25})).is_ok());
    assert!(cents.validate(&json!({"x": 2.255})).is_err());
    let integer =
        one(json!({"type": "number", "key": "x", "input": true, "validate": {"integer": true}}));
    assert!(integer.validate(&json!({"x": 1.5})).is_err());
    assert!(integer.validate(&json!({"x": 3})).is_ok());
}

#[test]
fn dates_must_be_what_the_date_picker_writes() {
    let date = one(json!({"type": "datetime", "key": "x", "input": true}));
    assert!(date
        .validate(&json!({"x": "2024-05-01T10:00:00+03:00"}))
        .is_ok());
    for text in ["May 1, 2024", "2024/05/01", "2024-02-30T00:00:00Z"] {
        assert_eq!(
            problem(&date, json!({"x": text})),
            Some(("data.x".into(), code::INVALID_FORMAT.into())),
            "{text}"
        );
    }
    // A date-only field compares the day the person picked, whatever their offset.
    let ranged = one(
        json!({"type": "datetime", "key": "x", "input": true, "enableTime": false, "datePicker": {"minDate": "2024-01-01"}}),
    );
    assert!(ranged
        .validate(&json!({"x": "2024-01-01T00:00:00+03:00"}))
        .is_ok());
    assert!(ranged
        .validate(&json!({"x": "2023-12-31T23:00:00-05:00"}))
        .is_err());
}

#[test]
fn errors_use_the_forms_own_message_and_name_the_answer() {
    let form = one(
        json!({"type": "textfield", "key": "phone", "label": "Phone", "input": true,
        "validate": {"required": true, "customMessage": "Write it with + and the country code."}}),
    );
    let errors = form.validate(&json!({})).unwrap_err();
    assert_eq!(errors.errors[0].field, "data.phone");
    assert_eq!(errors.errors[0].code, code::REQUIRED);
    assert_eq!(
        errors.errors[0].message,
        "Write it with + and the country code."
    );
    let plain = one(
        json!({"type": "textfield", "key": "name", "label": "Your name", "input": true, "validate": {"maxLength": 3}}),
    );
    assert_eq!(
        plain
            .validate(&json!({"name": "Amina"}))
            .unwrap_err()
            .errors[0]
            .message,
        "Your name must be at most 3 characters long."
    );
}

#[test]
fn the_apps_own_forms_pass() {
    let contact: Value = serde_json::from_str(include_str!(
        "../../../../ui/src/forms/contact-details.json"
    ))
    .unwrap();
    check_definition(&contact).unwrap();
}
