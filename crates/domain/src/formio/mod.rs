//! Form.io forms checked on the server with the result the citizen's browser gives.
//!
//! Programmes' application forms are Form.io definitions, rendered in the app by `@formio/js`
//! (with `Evaluator.noeval`: no JavaScript from a form ever runs). The registry is the
//! authority, so it checks every submission again, here, in Rust, for the subset of Form.io
//! that the form builder offers; a definition outside the subset is refused when it is written,
//! naming the component and what it uses, so nothing is silently skipped.
//!
//! - [`check_definition`] reads a form definition ([`schema`]): supported component types
//!   ([`schema::SUPPORTED_TYPES`]), supported options, unique keys, bounded size
//!   ([`schema::MAX_COMPONENTS`], [`schema::MAX_NESTING`], the JSON-logic bounds in [`logic`]),
//!   patterns the `regex` crate can run ([`pattern`]), conditions and calculations that only
//!   read fields of the form and do not depend on each other in a loop.
//! - [`validate_submission`] checks a submission's answers and returns them cleaned, as
//!   Form.io's own processing would: answers to no field of the form are dropped (Form.io's
//!   server filters them); calculated values (`calculateValue` as JSON logic) are computed
//!   again; a field hidden by a condition (its own, or a panel's around it) is not checked, and
//!   its answer is dropped when the browser drops it — its own condition hid it, or a layout
//!   component that clears on hide (a well by default; a panel, field set or columns only with
//!   `clearOnHide: true`) was hidden by its condition — unless the field sets
//!   `clearOnHide: false`; a field with `hidden: true` is not checked and keeps its value;
//!   every other field is checked: required, min/max length and
//!   words, pattern, e-mail, numbers (a number, min, max, and the whole number or decimals the
//!   field asks for), dates, days, the option lists of selects, radios and select boxes (always
//!   enforced: the form offers only those), and custom JSON-logic rules (`validate.json`).
//!
//! Where the server is stricter than the browser, it refuses only what the browser's own
//! inputs cannot produce (a text in a number field, 2.5 in a whole-number field, a value
//! outside a select's options): a submission crafted over HTTP, not a citizen's.
//!
//! Parity is checked on one table of cases (`tests/formio-parity/cases.json`), run here, in
//! Vitest through `@formio/js`, and in the app's real web view.
//!
//! Pure: no I/O; time and memory are bounded by the form's (bounded) size.

mod answers;
mod conditions;
mod dates;
pub mod js;
pub mod logic;
pub mod pattern;
pub mod schema;

use serde_json::{Map, Value};

use crate::validate::{code, ValidationErrors};
use answers::Answers;
use js::Js;
use schema::{Form, Kind, Node};

pub use schema::SUPPORTED_TYPES;

/// Checks that `schema` (a FormDefinition's `schema`) stays within what Doorstep offers.
/// Errors name the place in the definition (`schema.components[2].validate.custom`) and the
/// component's key.
pub fn check_definition(schema: &Value) -> Result<(), ValidationErrors> {
    schema::read(schema).map(|_| ())
}

/// Checks the answers `data` of a submission against its form `schema` and returns them
/// cleaned (see the module documentation). Errors name the answer (`data.<key>`). A schema
/// that fails [`check_definition`] gives that check's errors.
pub fn validate_submission(schema: &Value, data: &Value) -> Result<Value, ValidationErrors> {
    CompiledForm::compile(schema)?.validate(data)
}

/// A checked form definition, ready to validate many submissions.
#[derive(Debug, Clone)]
pub struct CompiledForm {
    form: Form,
}

impl CompiledForm {
    pub fn compile(schema: &Value) -> Result<CompiledForm, ValidationErrors> {
        Ok(CompiledForm {
            form: schema::read(schema)?,
        })
    }

    /// See [`validate_submission`].
    pub fn validate(&self, data: &Value) -> Result<Value, ValidationErrors> {
        let outcome = self.process(data);
        if outcome.errors.is_empty() {
            Ok(outcome.data)
        } else {
            Err(outcome.errors)
        }
    }

    /// The cleaned answers and the problems found, both (the parity table compares the
    /// answers of refused submissions too).
    pub fn process(&self, data: &Value) -> Processed {
        let mut errors = ValidationErrors::new();
        let Value::Object(input) = data else {
            errors.push(
                "data",
                code::INVALID_FORMAT,
                "The answers must be an object of answers keyed by field.",
            );
            return Processed {
                data: Value::Object(Map::new()),
                errors,
            };
        };
        let nodes = &self.form.nodes;

        // Only the form's fields are kept (Form.io's server filters the rest); select boxes keep
        // only their options (the browser drops any other box when the value is set).
        let mut kept = Map::new();
        for node in nodes.iter().filter(|n| n.kind.has_value()) {
            if let Some(value) = input.get(&node.key) {
                let value = match (node.kind, value) {
                    (Kind::SelectBoxes, Value::Object(boxes)) => Value::Object(
                        boxes
                            .iter()
                            .filter(|(k, _)| node.rules.boxes.contains(k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    _ => value.clone(),
                };
                kept.insert(node.key.clone(), value);
            }
        }
        let mut work = Answers::new(kept);

        // Conditions and calculations, each after everything it reads. As in @formio/js: a
        // component is shown when its own condition holds and its parent is shown; a field loses
        // its value when its own condition hides it, or when a layout component around it is
        // hidden by a condition and clears on hide (a well by default, a panel, field set or
        // columns only with clearOnHide: true), unless the field itself sets clearOnHide: false.
        let mut hidden_by_condition = vec![false; nodes.len()];
        let mut clears_inside = vec![false; nodes.len()];
        let mut hidden_always = vec![false; nodes.len()];
        for &i in &self.form.order {
            let node = &nodes[i];
            let own_condition = match &node.condition {
                Some(condition) => match condition.shows(&work) {
                    Ok(shows) => !shows,
                    Err(e) => {
                        errors.push(
                            field(node),
                            code::OUT_OF_RANGE,
                            format!(
                                "{}: its condition could not be worked out ({e}).",
                                node.label
                            ),
                        );
                        false
                    }
                },
                None => false,
            };
            let parent_hidden = node.parent.is_some_and(|p| hidden_by_condition[p]);
            hidden_by_condition[i] = own_condition || parent_hidden;
            let parent_clears = node.parent.is_some_and(|p| clears_inside[p]);
            clears_inside[i] = parent_clears
                || (node.condition.is_some() && hidden_by_condition[i] && node.clear_on_hide);
            hidden_always[i] = node.hidden || node.parent.is_some_and(|p| hidden_always[p]);
            if !node.kind.has_value() {
                continue;
            }
            if node.clear_on_hide && (own_condition || parent_clears) {
                work.remove(&node.key);
                continue;
            }
            if let Some(calculation) = &node.calculate {
                match calculation.evaluate(&work) {
                    Ok(result) => work.set(&node.key, calculated(node.kind, result)),
                    Err(e) => errors.push(
                        field(node),
                        code::OUT_OF_RANGE,
                        format!("{} could not be calculated ({e}).", node.label),
                    ),
                }
            }
        }

        // Every shown field, in form order.
        for (i, node) in nodes.iter().enumerate() {
            if !node.kind.has_value() || hidden_by_condition[i] || hidden_always[i] {
                continue;
            }
            check_field(node, &work, &mut errors);
        }
        Processed {
            data: work.into_json(),
            errors,
        }
    }
}

/// A submission after [`CompiledForm::process`].
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The answers kept: the form's fields only, hidden ones dropped, calculations redone.
    pub data: Value,
    /// Empty when the submission is valid.
    pub errors: ValidationErrors,
}

/// What a calculated value becomes once set on its component: `null` is the component's empty
/// value (`""` for text), as @formio/js `calculateComponentValue` does.
fn calculated(kind: Kind, value: Js) -> Js {
    match value {
        Js::Null | Js::Undefined => kind.empty_value().map_or(Js::Null, |e| Js::from_json(&e)),
        other => other,
    }
}

fn field(node: &Node) -> String {
    format!("data.{}", node.key)
}

/// @formio/core `componentHasValue`: what "answered" means for `required`.
fn has_value(kind: Kind, value: Option<&Js>) -> bool {
    fn present(value: &Value, false_counts: bool) -> bool {
        match value {
            Value::Null => false,
            Value::String(s) => !js::trim(s).is_empty(),
            Value::Bool(false) => false_counts,
            Value::Object(map) => map.values().any(|v| present(v, false_counts)),
            Value::Array(items) => items.iter().any(|v| present(v, false_counts)),
            Value::Bool(true) | Value::Number(_) => true,
        }
    }
    let Some(value) = value else {
        return false;
    };
    if kind == Kind::Day && matches!(value, Js::Str(s) if s == "00/00/0000") {
        return false;
    }
    // NaN is "present" to Form.io: it is not null, not text, not false.
    matches!(value, Js::Num(_))
        || present(
            &value.to_json(),
            !matches!(kind, Kind::Checkbox | Kind::SelectBoxes),
        )
}

/// Whether `value` has the type the field stores (what the browser's inputs produce).
fn well_typed(node: &Node, value: &Value) -> Result<(), &'static str> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let ok = match (node.kind, value) {
        (_, Value::Null) => true,
        (Kind::TextField | Kind::TextArea | Kind::Email | Kind::DateTime | Kind::Day, v) => {
            v.is_string()
        }
        (Kind::Number, v) => v.is_number() || v == "",
        (Kind::Checkbox | Kind::Button, v) => v.is_boolean(),
        (Kind::Select, Value::Array(items)) if node.rules.multiple => items.iter().all(scalar),
        (Kind::Select | Kind::Radio, v) => scalar(v) && !node.rules.multiple || v == "",
        (Kind::SelectBoxes, Value::Object(boxes)) => boxes.values().all(Value::is_boolean),
        (Kind::File, Value::Array(files)) => {
            files.iter().all(Value::is_object) && (node.rules.multiple || files.len() <= 1)
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(match node.kind {
        Kind::TextField | Kind::TextArea | Kind::Email | Kind::DateTime | Kind::Day => {
            "must be text"
        }
        Kind::Number => "must be a number",
        Kind::Checkbox | Kind::Button => "must be true or false",
        Kind::Select if node.rules.multiple => "must be a list of the offered options",
        Kind::Select | Kind::Radio => "must be one of the offered options",
        Kind::SelectBoxes => "must tick or untick the offered boxes (true or false each)",
        Kind::File if !node.rules.multiple => "must be one file",
        Kind::File => "must be a list of files",
        Kind::Content | Kind::Layout => unreachable!("no value"),
    })
}

fn check_field(node: &Node, data: &Answers, errors: &mut ValidationErrors) {
    let value = data.json(&node.key);
    let raw = data.get(&node.key);
    let rules = &node.rules;
    let label = &node.label;
    let mut fail = |code: &str, message: String| {
        let message = rules.message.clone().unwrap_or(message);
        errors.push(field(node), code, message);
    };
    if let Some(value) = value {
        if let Err(why) = well_typed(node, value) {
            fail(code::INVALID_FORMAT, format!("{label} {why}."));
            return;
        }
    }
    if rules.required && !has_value(node.kind, raw.as_ref()) {
        fail(code::REQUIRED, format!("{label} is required."));
    }
    // `validate.json` runs whatever the value (it is how one answer is made to depend on another).
    if let Some(rule) = &rules.json {
        match rule.evaluate(data) {
            Ok(Js::Bool(true) | Js::Null) => {}
            Ok(Js::Str(message)) if !message.is_empty() => fail(code::INCONSISTENT, message),
            Ok(_) => fail(
                code::INCONSISTENT,
                format!("{label} does not meet this form's rule."),
            ),
            Err(e) => fail(
                code::OUT_OF_RANGE,
                format!("{label}: the form's rule could not be worked out ({e})."),
            ),
        }
    }
    let (Some(value), Some(as_js)) = (value, raw) else {
        return;
    };
    let text = value.as_str().filter(|s| !s.is_empty());

    if let Some(text) = text {
        let length = js::utf16_len(text) as f64;
        if let Some(min) = rules.min_length.filter(|m| *m != 0.0) {
            if length < min {
                fail(
                    code::OUT_OF_RANGE,
                    format!("{label} must be at least {min} characters long."),
                );
            }
        }
        if let Some(max) = rules.max_length.filter(|m| *m != 0.0) {
            if length > max {
                fail(
                    code::TOO_LONG,
                    format!("{label} must be at most {max} characters long."),
                );
            }
        }
        // `value.trim().split(/\s+/).length`
        let words = js::trim(text)
            .split(js::is_js_space)
            .filter(|w| !w.is_empty())
            .count()
            .max(1) as f64;
        if let Some(min) = rules.min_words.filter(|m| *m != 0.0) {
            if words < min {
                fail(
                    code::OUT_OF_RANGE,
                    format!("{label} must have at least {min} words."),
                );
            }
        }
        if let Some(max) = rules.max_words.filter(|m| *m != 0.0) {
            if words > max {
                fail(
                    code::TOO_LONG,
                    format!("{label} must have at most {max} words."),
                );
            }
        }
        if let Some((source, regex)) = &rules.pattern {
            if !regex.is_match(text) {
                fail(
                    code::PATTERN_MISMATCH,
                    format!("{label} does not match the pattern {source}."),
                );
            }
        }
        if node.kind == Kind::Email && !pattern::formio_email().is_match(text) {
            fail(
                code::INVALID_FORMAT,
                format!("{label} must be a valid e-mail address."),
            );
        }
        if node.kind == Kind::DateTime {
            check_date(node, text, &mut fail);
        }
        if node.kind == Kind::Day && !dates::is_valid_day(text, rules.day_first) {
            fail(code::INVALID_FORMAT, format!("{label} is not a valid day."));
        }
    }
    if node.kind == Kind::Day && rules.day_parts_required.iter().any(|r| *r) {
        check_day_parts(node, text, &mut fail);
    }

    // min/max as @formio/core reads them: text through parseFloat, anything else through Number.
    let number = match &as_js {
        Js::Str(_) => js::parse_float(&as_js),
        other => js::to_number(other),
    };
    if let Some(min) = rules.min {
        if !js::parse_float(&as_js).is_nan() && number < min {
            fail(
                code::OUT_OF_RANGE,
                format!("{label} cannot be less than {}.", js::number_to_string(min)),
            );
        }
    }
    if let Some(max) = rules.max {
        if !as_js.is_nullish() && !number.is_nan() && number > max {
            fail(
                code::OUT_OF_RANGE,
                format!(
                    "{label} cannot be greater than {}.",
                    js::number_to_string(max)
                ),
            );
        }
    }
    if let (Kind::Number, Value::Number(n)) = (node.kind, value) {
        let n = n.as_f64().unwrap_or(f64::NAN);
        if rules.integer && n.fract() != 0.0 {
            fail(
                code::INVALID_FORMAT,
                format!("{label} must be a whole number."),
            );
        } else if let Some(limit) = rules.decimal_limit {
            if decimals(n) > limit {
                fail(
                    code::INVALID_FORMAT,
                    match limit {
                        0 => format!("{label} must be a whole number."),
                        _ => format!(
                            "{label} may have at most {limit} digits after the decimal point."
                        ),
                    },
                );
            }
        }
    }

    if matches!(node.kind, Kind::Select | Kind::Radio | Kind::SelectBoxes) {
        let offered = |v: &Value| rules.offered.contains(&v.to_string());
        let chosen: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            Value::String(s) if s.is_empty() => Vec::new(),
            Value::Object(_) => Vec::new(), // select boxes: only offered boxes were kept
            single => vec![single],
        };
        if chosen.iter().any(|v| !offered(v)) {
            fail(
                code::NOT_ALLOWED,
                format!("{label}: choose one of the offered options."),
            );
        }
    }
}

/// Digits after the decimal point of `n` as JavaScript prints it.
fn decimals(n: f64) -> u32 {
    let text = js::number_to_string(n.abs());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i32);
    (fraction - exponent).max(0) as u32
}

fn check_date(node: &Node, text: &str, fail: &mut impl FnMut(&str, String)) {
    let label = &node.label;
    let Some(date) = dates::DateTime::parse(text) else {
        fail(
            code::INVALID_FORMAT,
            format!("{label} is not a valid date."),
        );
        return;
    };
    let rules = &node.rules;
    let offset = date.offset_minutes.unwrap_or(0);
    let (too_early, too_late) = if rules.enable_time {
        (
            rules
                .min_date
                .is_some_and(|min| date.instant_ms(offset) < min.instant_ms(offset)),
            rules
                .max_date
                .is_some_and(|max| date.instant_ms(offset) > max.instant_ms(offset)),
        )
    } else {
        (
            rules
                .min_date
                .is_some_and(|min| date.day_number() < min.day_number()),
            rules
                .max_date
                .is_some_and(|max| date.day_number() > max.day_number()),
        )
    };
    let show = |d: &dates::DateTime| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    if too_early {
        fail(
            code::OUT_OF_RANGE,
            format!(
                "{label} cannot be before {}.",
                show(rules.min_date.as_ref().expect("checked"))
            ),
        );
    }
    if too_late {
        fail(
            code::OUT_OF_RANGE,
            format!(
                "{label} cannot be after {}.",
                show(rules.max_date.as_ref().expect("checked"))
            ),
        );
    }
}

/// @formio/core `validateRequiredDay`: the parts a day field marks required.
fn check_day_parts(node: &Node, text: Option<&str>, fail: &mut impl FnMut(&str, String)) {
    let label = &node.label;
    let Some(text) = text else {
        fail(code::REQUIRED, format!("{label}: enter the day."));
        return;
    };
    let Some((day, month, year)) = dates::day_parts(text, node.rules.day_first) else {
        return;
    };
    let missing = |n: f64| n.is_nan() || n == 0.0;
    let [needs_day, needs_month, needs_year] = node.rules.day_parts_required;
    if needs_day && missing(day) {
        fail(
            code::REQUIRED,
            format!("{label}: enter the day of the month."),
        );
    } else if needs_month && missing(month) {
        fail(code::REQUIRED, format!("{label}: enter the month."));
    } else if needs_year && missing(year) {
        fail(code::REQUIRED, format!("{label}: enter the year."));
    }
}

#[cfg(test)]
mod tests;
