//! JSON that means one thing: objects whose keys appear once.
//!
//! `serde_json` keeps the last of two equal keys, so `{"holder_name": "A", "holder_name": "B"}`
//! reads as "B" here while a log line, a proxy or a reviewer's tool may read "A". A body that
//! says two things is refused instead, with the key named, wherever bytes from the network are
//! read (REST bodies, sync batches, application transitions).

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Parse `bytes` as JSON, refusing any object with a repeated key, then read it as `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let value = to_value(bytes)?;
    serde_json::from_value(value)
}

/// Parse `bytes` as a JSON value, refusing any object with a repeated key.
pub fn to_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0)
}

/// A [`Value`] whose objects had no repeated keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        // JSON has no NaN or infinity, so `from_f64` only fails on input serde_json never makes.
        Ok(Strict(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Strict, D::Error> {
        Strict::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice in one object; send it once"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Strict(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for body in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"x": {"holder_name": "A", "holder_name": "B"}}"#,
            r#"[{"ok": true}, {"k": 1, "k": 1}]"#,
        ] {
            let error = to_value(body.as_bytes()).unwrap_err().to_string();
            assert!(error.contains("appears twice"), "{body}: {error}");
        }
    }

    #[test]
    fn everything_else_reads_as_serde_json_reads_it() {
        let body = r#"{"n": -3, "u": 18446744073709551615, "f": 1.5, "s": "é\u0000", "b": false,
                       "z": null, "list": [1, "two", {"three": 3}], "empty": {}}"#;
        assert_eq!(
            to_value(body.as_bytes()).unwrap(),
            serde_json::from_str::<Value>(body).unwrap()
        );
        #[derive(Deserialize, PartialEq, Debug)]
        struct Typed {
            n: i32,
        }
        assert_eq!(from_slice::<Typed>(b"{\"n\": 4}").unwrap(), Typed { n: 4 });
        assert!(to_value(b"{\"a\": 1,}").is_err());
        assert_eq!(to_value(b"[]").unwrap(), json!([]));
    }
}
