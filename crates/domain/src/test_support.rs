//! Helpers shared by this crate's unit tests.

use crate::ids::RecordId;

/// A fixed, readable UUIDv7 record id: `id(1)`, `id(2)`, … are distinct and stable across runs.
pub(crate) fn id(n: u8) -> RecordId {
    format!("0190b6a2-8a3e-7c1d-9f00-0000000000{n:02x}")
        .parse()
        .unwrap()
}
