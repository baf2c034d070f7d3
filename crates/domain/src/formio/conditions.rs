//! When a component is shown: its `conditional`, evaluated as @formio/js evaluates it in the
//! citizen's browser (`utils.checkCondition`), in its order of preference:
//!
//! 1. the legacy simple condition `{show, when, eq}`, or the builder's simple conditions
//!    `{show, conjunction, conditions: [{component, operator, value}]}`;
//! 2. otherwise `conditional.json`, a JSON-logic expression whose result is read with plain
//!    JavaScript truthiness (so `null` hides);
//! 3. otherwise the component is shown.
//!
//! (`customConditional` is JavaScript and is refused when the form is checked.)

use serde_json::Value;

use super::answers::{self, Answers};
use super::js::{self, Js};
use super::logic::{EvalError, Logic};
use super::schema::Kind;

/// A component's condition for being shown.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `{show, when, eq}`: `show` and `eq` as the strings JavaScript's `String()` makes.
    Legacy {
        when: String,
        eq: String,
        show: String,
    },
    /// The builder's simple conditions.
    Simple {
        show: bool,
        any: bool,
        conditions: Vec<Simple>,
    },
    Json(Logic),
}

/// One of the builder's simple conditions.
#[derive(Debug, Clone)]
pub struct Simple {
    /// The field it looks at, and that field's kind (emptiness depends on it).
    pub key: String,
    pub kind: Kind,
    pub operator: Operator,
    pub value: Value,
}

/// The operators of the builder's simple conditions that Doorstep offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    IsEqual,
    IsNotEqual,
    IsEmpty,
    IsNotEmpty,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Includes,
    NotIncludes,
    StartsWith,
    EndsWith,
}

impl Operator {
    pub const NAMES: &'static [&'static str] = &[
        "isEqual",
        "isNotEqual",
        "isEmpty",
        "isNotEmpty",
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
        "includes",
        "notIncludes",
        "startsWith",
        "endsWith",
    ];

    pub fn parse(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "isEqual" => IsEqual,
            "isNotEqual" => IsNotEqual,
            "isEmpty" => IsEmpty,
            "isNotEmpty" => IsNotEmpty,
            "greaterThan" => GreaterThan,
            "greaterThanOrEqual" => GreaterThanOrEqual,
            "lessThan" => LessThan,
            "lessThanOrEqual" => LessThanOrEqual,
            "includes" => Includes,
            "notIncludes" => NotIncludes,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            _ => return None,
        })
    }
}

impl Condition {
    /// The fields the condition reads.
    pub fn reads(&self) -> Vec<String> {
        match self {
            Condition::Legacy { when, .. } => vec![when.clone()],
            Condition::Simple { conditions, .. } => {
                conditions.iter().map(|c| c.key.clone()).collect()
            }
            Condition::Json(logic) => logic.reads().iter().map(|p| p.key.clone()).collect(),
        }
    }

    /// Whether the component is shown, given the answers so far.
    pub fn shows(&self, data: &Answers) -> Result<bool, EvalError> {
        Ok(match self {
            Condition::Legacy { when, eq, show } => legacy(actual_value(data, when)?, eq, show),
            Condition::Simple {
                show,
                any,
                conditions,
            } => {
                let mut results = Vec::with_capacity(conditions.len());
                for condition in conditions {
                    results.push(condition.holds(data)?);
                }
                let result = if *any {
                    results.iter().any(|r| *r)
                } else {
                    results.iter().all(|r| *r)
                };
                result == *show
            }
            Condition::Json(logic) => js::truthy(&logic.evaluate(data)?),
        })
    }
}

/// `getComponentActualValue`: a missing, null or empty-object value reads as `""`.
fn actual_value(data: &Answers, key: &str) -> Result<Js, EvalError> {
    Ok(match data.read(key)? {
        None | Some(Js::Null | Js::Undefined) => Js::Str(String::new()),
        Some(Js::Obj(map)) if map.is_empty() => Js::Str(String::new()),
        Some(value) => value,
    })
}

/// @formio/js `checkSimpleConditional` for `{when, eq, show}`.
fn legacy(value: Js, eq: &str, show: &str) -> bool {
    // lodash `has(value, eq)`: an object's own key, or an array's index.
    let member = match &value {
        Js::Obj(map) => map.get(eq).map(Js::from_json),
        Js::Arr(items) => eq
            .parse::<usize>()
            .ok()
            .filter(|i| i.to_string() == eq)
            .and_then(|i| items.get(i).cloned()),
        _ => None,
    };
    if let Some(member) = member {
        return js::to_string(&member) == show;
    }
    if let Js::Arr(items) = &value {
        if items.iter().any(|item| js::to_string(item) == eq) {
            return show == "true";
        }
    }
    (js::to_string(&value) == eq) == (show == "true")
}

impl Simple {
    fn holds(&self, data: &Answers) -> Result<bool, EvalError> {
        use Operator::*;
        Ok(match self.operator {
            // Emptiness is asked of the whole value (the component's own `isEmpty`).
            IsEmpty => is_empty(self.kind, data.read(&self.key)?.as_ref()),
            IsNotEmpty => !is_empty(self.kind, data.read(&self.key)?.as_ref()),
            op => {
                let value = actual_value(data, &self.key)?;
                let compared = Js::from_json(&self.value);
                // `getResult`: a list value holds if any of its items does.
                match value {
                    Js::Arr(items) => items.iter().any(|item| execute(op, item, &compared)),
                    single => execute(op, &single, &compared),
                }
            }
        })
    }
}

fn execute(op: Operator, value: &Js, compared: &Js) -> bool {
    use Operator::*;
    match op {
        IsEqual => is_equal_to(value, compared),
        IsNotEqual => !is_equal_to(value, compared),
        GreaterThan => answers::is_number(value) && js::less(compared, value),
        LessThan => answers::is_number(value) && js::less(value, compared),
        GreaterThanOrEqual => {
            answers::is_number(value)
                && (js::less(compared, value) || lodash_equal(value, compared))
        }
        LessThanOrEqual => {
            answers::is_number(value)
                && (js::less(value, compared) || lodash_equal(value, compared))
        }
        Includes => includes(value, compared),
        NotIncludes => !includes(value, compared),
        StartsWith => lodash_string(value).starts_with(&lodash_string(compared)),
        EndsWith => lodash_string(value).ends_with(&lodash_string(compared)),
        IsEmpty | IsNotEmpty => unreachable!("asked of the whole value"),
    }
}

/// @formio/js `IsEqualTo.execute`.
fn is_equal_to(value: &Js, compared: &Js) -> bool {
    let mut compared = compared.clone();
    let value_set = js::truthy(value) || matches!(value, Js::Bool(false));
    if value_set && js::truthy(&compared) && js_typeof(value) != js_typeof(&compared) {
        if let Js::Str(text) = &compared {
            if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                compared = Js::from_json(&parsed);
            }
        }
    }
    // Select boxes: `value[compared]` when it is a boolean.
    if let (Js::Obj(map), true) = (value, js::truthy(&compared)) {
        if let Some(Value::Bool(ticked)) = map.get(&js::to_string(&compared)) {
            return *ticked;
        }
    }
    match (value, &compared) {
        (Js::Obj(_) | Js::Arr(_), Js::Obj(_) | Js::Arr(_)) => {
            is_match(&value.to_json(), &compared.to_json())
        }
        _ => lodash_equal(&compared, value),
    }
}

fn js_typeof(value: &Js) -> &'static str {
    match value {
        Js::Undefined => "undefined",
        Js::Bool(_) => "boolean",
        Js::Num(_) => "number",
        Js::Str(_) => "string",
        Js::Null | Js::Arr(_) | Js::Obj(_) => "object",
    }
}

/// lodash `isEqual`: deep equality, with NaN equal to itself.
fn lodash_equal(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Num(x), Js::Num(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Js::Arr(_) | Js::Obj(_), Js::Arr(_) | Js::Obj(_)) => a.to_json() == b.to_json(),
        _ => js::strict_equals(a, b),
    }
}

/// lodash `isMatch(object, source)`: every part of `source` is in `object`.
fn is_match(object: &Value, source: &Value) -> bool {
    match (object, source) {
        (Value::Object(o), Value::Object(s)) => s
            .iter()
            .all(|(k, v)| o.get(k).is_some_and(|ov| is_match(ov, v))),
        (Value::Array(o), Value::Array(s)) => s.iter().all(|v| o.iter().any(|ov| is_match(ov, v))),
        (o, s) => o == s,
    }
}

/// lodash `includes(collection, value)`.
fn includes(collection: &Js, value: &Js) -> bool {
    match collection {
        Js::Str(text) => text.contains(js::to_string(value).as_str()),
        Js::Arr(items) => items.iter().any(|item| lodash_equal(item, value)),
        Js::Obj(map) => map
            .values()
            .any(|item| lodash_equal(&Js::from_json(item), value)),
        _ => false,
    }
}

/// lodash `toString`: `null`/`undefined` are `""`.
fn lodash_string(value: &Js) -> String {
    if value.is_nullish() {
        String::new()
    } else {
        js::to_string(value)
    }
}

/// A component's `isEmpty()` in @formio/js, for the kinds Doorstep offers.
pub fn is_empty(kind: Kind, value: Option<&Js>) -> bool {
    match value {
        None | Some(Js::Null | Js::Undefined) => true,
        Some(Js::Str(s)) => s.is_empty(),
        Some(Js::Arr(items)) => match items.as_slice() {
            [] => true,
            [only] => kind.empty_value().map(|e| Js::from_json(&e)).as_ref() == Some(only),
            _ => false,
        },
        Some(Js::Bool(false)) => kind == Kind::Checkbox,
        Some(Js::Obj(map)) => {
            map.is_empty()
                || (kind == Kind::SelectBoxes
                    && !map.values().any(|v| js::truthy(&Js::from_json(v))))
        }
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Answers {
        Answers::from(v)
    }

    #[test]
    fn legacy_conditions_compare_strings() {
        let c = |when: &str, eq: &str, show: &str| Condition::Legacy {
            when: when.into(),
            eq: eq.into(),
            show: show.into(),
        };
        let d =
            data(json!({"yes": true, "n": 3, "sb": {"a": true, "b": false}, "multi": ["x", "y"]}));
        assert!(c("yes", "true", "true").shows(&d).unwrap());
        assert!(!c("yes", "true", "false").shows(&d).unwrap());
        assert!(c("n", "3", "true").shows(&d).unwrap());
        assert!(c("sb", "a", "true").shows(&d).unwrap());
        assert!(!c("sb", "b", "true").shows(&d).unwrap());
        assert!(c("multi", "y", "true").shows(&d).unwrap());
        assert!(!c("missing", "x", "true").shows(&d).unwrap());
        assert!(
            c("missing", "", "true").shows(&d).unwrap(),
            "missing reads as empty text"
        );
    }

    #[test]
    fn simple_conditions_use_the_builders_operators() {
        let s = |key: &str, kind: Kind, op: Operator, value: Value| Simple {
            key: key.into(),
            kind,
            operator: op,
            value,
        };
        let d = data(
            json!({"age": 70, "name": "Amina", "ok": false, "sb": {"a": false}, "multi": ["x"]}),
        );
        assert!(
            s("age", Kind::Number, Operator::IsEqual, json!("70"))
                .holds(&d)
                .unwrap(),
            "text parsed as JSON"
        );
        assert!(s("age", Kind::Number, Operator::GreaterThan, json!(65))
            .holds(&d)
            .unwrap());
        assert!(
            !s("name", Kind::TextField, Operator::GreaterThan, json!("A"))
                .holds(&d)
                .unwrap(),
            "numbers only"
        );
        assert!(
            s("age", Kind::Number, Operator::GreaterThanOrEqual, json!(70))
                .holds(&d)
                .unwrap()
        );
        assert!(s("ok", Kind::Checkbox, Operator::IsEmpty, json!(null))
            .holds(&d)
            .unwrap());
        assert!(s("sb", Kind::SelectBoxes, Operator::IsEmpty, json!(null))
            .holds(&d)
            .unwrap());
        assert!(s("none", Kind::TextField, Operator::IsEmpty, json!(null))
            .holds(&d)
            .unwrap());
        assert!(
            s("name", Kind::TextField, Operator::StartsWith, json!("Am"))
                .holds(&d)
                .unwrap()
        );
        assert!(s("name", Kind::TextField, Operator::Includes, json!("min"))
            .holds(&d)
            .unwrap());
        assert!(s("multi", Kind::Select, Operator::IsEqual, json!("x"))
            .holds(&d)
            .unwrap());
        let all = Condition::Simple {
            show: false,
            any: false,
            conditions: vec![s("age", Kind::Number, Operator::LessThan, json!(18))],
        };
        assert!(all.shows(&d).unwrap(), "show: false inverts");
    }
}
