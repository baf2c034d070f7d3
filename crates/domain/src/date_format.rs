//! Calendar dates on the wire as `YYYY-MM-DD` (ISO 8601 / RFC 3339 `full-date`).
//!
//! `time`'s own serde support writes a [`Date`] as a `[year, ordinal]` pair unless an extra
//! crate feature is switched on somewhere in the build. Naming the format on each field with
//! `#[serde(with = "crate::date_format")]` keeps the wire format fixed whatever features other
//! crates enable, and matches what OpenG2P and the G2P Connect specifications send.
//!
//! For `Option<Date>` fields use `#[serde(default, with = "crate::date_format::option")]`.

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::Date;

/// `YYYY-MM-DD`, e.g. `2024-03-01`.
pub const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Formats `date` as `YYYY-MM-DD`.
pub fn format(date: Date) -> String {
    // Formatting a `Date` with a year, month and day can only fail for years outside ±9999,
    // which `Date` cannot hold without time's `large-dates` feature.
    date.format(FORMAT)
        .unwrap_or_else(|_| unreachable!("a Date always fits [year]-[month]-[day]"))
}

/// Parses `YYYY-MM-DD`; anything else (times, offsets, other orders) is refused.
pub fn parse(text: &str) -> Result<Date, time::error::Parse> {
    Date::parse(text, FORMAT)
}

/// Serde `serialize_with` for a [`Date`].
pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*date))
}

/// Serde `deserialize_with` for a [`Date`].
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(|err| {
        serde::de::Error::custom(format_args!(
            "`{text}` is not a date in YYYY-MM-DD form: {err}"
        ))
    })
}

/// The same format for `Option<Date>`: `null` (or, with `#[serde(default)]`, a missing field)
/// is `None`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    /// Serde `serialize_with` for an `Option<Date>`.
    pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.serialize_some(&super::format(*date)),
            None => serializer.serialize_none(),
        }
    }

    /// Serde `deserialize_with` for an `Option<Date>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| {
                super::parse(&text).map_err(|err| {
                    serde::de::Error::custom(format_args!(
                        "`{text}` is not a date in YYYY-MM-DD form: {err}"
                    ))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_are_written_and_read_as_iso_8601() {
        assert_eq!(format(date!(2024 - 03 - 01)), "2024-03-01");
        assert_eq!(parse("2024-03-01").unwrap(), date!(2024 - 03 - 01));
        assert_eq!(format(date!(0033 - 12 - 31)), "0033-12-31");
    }

    #[test]
    fn other_date_shapes_are_refused() {
        for text in [
            "01/03/2024",
            "2024-3-1",
            "2024-02-30",
            "2024-03-01T00:00:00Z",
            "",
        ] {
            assert!(parse(text).is_err(), "{text} should not parse");
        }
    }
}
