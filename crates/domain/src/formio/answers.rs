//! The answers while a submission is processed: JSON, except that a calculation may give
//! `NaN` or an infinity, which JavaScript keeps in the form's data (a later calculation reads
//! `NaN`, and prints it as "NaN") until the data is sent as JSON, where it becomes `null`.

use std::cell::Cell;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::js::Js;
use super::logic::EvalError;

/// Most bytes of answers the conditions and calculations of one submission may read. Each read
/// copies the answer (JavaScript values are copied into an evaluation), so many rules reading a
/// very long answer would cost time and memory out of proportion: a submission that needs more
/// than this is refused rather than worked through.
pub const MAX_READ_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Answers {
    values: Map<String, Value>,
    /// Answers that are a number JSON cannot write (stored as `null` in `values`).
    non_finite: HashMap<String, f64>,
    /// Bytes read by rules so far (see [`MAX_READ_BYTES`]).
    read: Cell<usize>,
}

impl Answers {
    pub fn new(values: Map<String, Value>) -> Answers {
        Answers {
            values,
            non_finite: HashMap::new(),
            read: Cell::new(0),
        }
    }

    /// The answer as JavaScript holds it, for a rule (counted against [`MAX_READ_BYTES`]).
    pub fn read(&self, key: &str) -> Result<Option<Js>, EvalError> {
        if let Some(value) = self.values.get(key) {
            let left = MAX_READ_BYTES - self.read.get();
            let weight = weight(value, left).ok_or(EvalError::TooMuchReading)?;
            self.read.set(self.read.get() + weight);
        }
        Ok(self.get(key))
    }

    /// The answer as JavaScript holds it.
    pub fn get(&self, key: &str) -> Option<Js> {
        match self.non_finite.get(key) {
            Some(n) => Some(Js::Num(*n)),
            None => self.values.get(key).map(Js::from_json),
        }
    }

    /// The answer as it will be stored.
    pub fn json(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn set(&mut self, key: &str, value: Js) {
        match value {
            Js::Num(n) if !n.is_finite() => {
                self.non_finite.insert(key.to_owned(), n);
            }
            _ => {
                self.non_finite.remove(key);
            }
        }
        self.values.insert(key.to_owned(), value.to_json());
    }

    pub fn remove(&mut self, key: &str) {
        self.non_finite.remove(key);
        self.values.remove(key);
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.values)
    }
}

impl From<Value> for Answers {
    /// For tests: an object of answers.
    fn from(value: Value) -> Answers {
        match value {
            Value::Object(map) => Answers::new(map),
            _ => Answers::default(),
        }
    }
}

/// About how many bytes copying `value` costs, or `None` past `limit` (the walk stops there).
fn weight(value: &Value, limit: usize) -> Option<usize> {
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += match v {
            Value::String(s) => s.len() + 8,
            Value::Array(items) => {
                stack.extend(items);
                8
            }
            Value::Object(map) => {
                for (k, item) in map {
                    total += k.len();
                    stack.push(item);
                }
                8
            }
            _ => 8,
        };
        if total > limit {
            return None;
        }
    }
    Some(total)
}

/// Whether an answer is a number (for the builder's "greater than" and friends).
pub fn is_number(value: &Js) -> bool {
    matches!(value, Js::Num(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formio::js;

    #[test]
    fn nan_is_kept_for_readers_and_stored_as_null() {
        let mut answers = Answers::default();
        answers.set("size", Js::Num(f64::NAN));
        assert!(matches!(answers.get("size"), Some(Js::Num(n)) if n.is_nan()));
        assert_eq!(answers.json("size"), Some(&Value::Null));
        answers.set("size", Js::Num(3.0));
        assert_eq!(js::to_string(&answers.get("size").unwrap()), "3");
        assert_eq!(answers.into_json(), serde_json::json!({"size": 3}));
    }

    #[test]
    fn rules_may_read_only_so_much() {
        let long = "x".repeat(MAX_READ_BYTES / 3);
        let answers = Answers::from(serde_json::json!({"long": long, "short": "y"}));
        assert!(answers.read("long").unwrap().is_some());
        assert!(answers.read("long").unwrap().is_some());
        assert_eq!(answers.read("long"), Err(EvalError::TooMuchReading));
        assert!(
            answers.get("long").is_some(),
            "the field's own check reads it freely"
        );
        assert!(answers.read("missing").unwrap().is_none());
    }
}
