//! The two tus request headers with structure: `Upload-Metadata` and `Upload-Checksum`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::blobs::Sha256Hex;

/// A header the client sent is malformed; the message says how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderError(pub String);

/// What the client announces about a file when it creates an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// SHA-256 of the whole file: the finished upload must match it.
    pub sha256: Sha256Hex,
    /// The file's name, already cleaned with `doorstep_domain::sanitize_file_name`.
    pub filename: Option<String>,
    /// The type the client claims. Informational only: the registry trusts the sniffed type.
    pub content_type: Option<String>,
}

/// Longest `Upload-Metadata` accepted: generous for a name and a hash, small enough to store.
pub const MAX_METADATA_BYTES: usize = 4096;

/// Parse tus `Upload-Metadata`: comma-separated `key base64(value)` pairs (value optional), keys
/// unique. Requires `sha256`; keeps `filename` and `content_type`; ignores other keys, as tus asks.
pub fn parse_metadata(header: &str) -> Result<Announced, HeaderError> {
    if header.len() > MAX_METADATA_BYTES {
        return Err(HeaderError(format!(
            "Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes."
        )));
    }
    let mut seen = Vec::new();
    let (mut sha256, mut filename, mut content_type) = (None, None, None);
    for pair in header.split(',') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let encoded = parts.next();
        if parts.next().is_some() {
            return Err(HeaderError(format!(
                "Upload-Metadata pair {key:?} has more than a key and a value."
            )));
        }
        if seen.contains(&key) {
            return Err(HeaderError(format!(
                "Upload-Metadata repeats the key {key:?}."
            )));
        }
        seen.push(key);
        let value = || -> Result<String, HeaderError> {
            let bytes = STANDARD.decode(encoded.unwrap_or_default()).map_err(|_| {
                HeaderError(format!(
                    "Upload-Metadata value of {key:?} is not valid base64."
                ))
            })?;
            String::from_utf8(bytes)
                .map_err(|_| HeaderError(format!("Upload-Metadata value of {key:?} is not UTF-8.")))
        };
        match key {
            "sha256" => {
                sha256 = Some(Sha256Hex::parse(&value()?).map_err(|_| {
                    HeaderError(
                        "Upload-Metadata `sha256` must be the file's SHA-256 as 64 lower-case hex digits."
                            .into(),
                    )
                })?)
            }
            "filename" => filename = Some(doorstep_domain::sanitize_file_name(&value()?)),
            "content_type" | "filetype" => content_type = Some(value()?),
            _ => {}
        }
    }
    Ok(Announced {
        sha256: sha256.ok_or_else(|| {
            HeaderError(
                "Upload-Metadata must include `sha256`: the hex SHA-256 of the whole file.".into(),
            )
        })?,
        filename,
        content_type,
    })
}

/// Parse tus `Upload-Checksum: sha256 <base64 digest>`.
pub fn parse_checksum(header: &str) -> Result<[u8; 32], HeaderError> {
    let (algorithm, encoded) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| HeaderError("Upload-Checksum must be `sha256 <base64 digest>`.".into()))?;
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(HeaderError(format!(
            "Upload-Checksum algorithm {algorithm:?} is not supported; use sha256."
        )));
    }
    STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            HeaderError("Upload-Checksum digest must be 32 bytes in standard base64.".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn metadata_pairs_parse() {
        let header = format!(
            "filename {},sha256 {}, content_type {},is_confidential",
            b64("../scan\u{202E}.pdf"),
            b64(SHA),
            b64("application/pdf")
        );
        let announced = parse_metadata(&header).unwrap();
        assert_eq!(announced.sha256.as_str(), SHA);
        assert_eq!(announced.filename.as_deref(), Some("scan.pdf"));
        assert_eq!(announced.content_type.as_deref(), Some("application/pdf"));
    }

    #[test]
    fn metadata_errors_are_clear() {
        assert!(parse_metadata("").unwrap_err().0.contains("sha256"));
        assert!(parse_metadata(&format!("sha256 {}", b64("abc")))
            .unwrap_err()
            .0
            .contains("64"));
        assert!(parse_metadata("sha256 !!!")
            .unwrap_err()
            .0
            .contains("base64"));
        let twice = format!("sha256 {0},sha256 {0}", b64(SHA));
        assert!(parse_metadata(&twice).unwrap_err().0.contains("repeats"));
    }

    #[test]
    fn checksum_header_parses() {
        let digest = [7u8; 32];
        let header = format!("sha256 {}", STANDARD.encode(digest));
        assert_eq!(parse_checksum(&header).unwrap(), digest);
        assert!(parse_checksum("md5 AAAA").unwrap_err().0.contains("md5"));
        assert!(parse_checksum("sha256 AAAA").is_err());
        assert!(parse_checksum("sha256").is_err());
    }
}
