//! Files attached to records: ID card scans, proof of address, photos.
//!
//! The file itself lives in an object store (OpenG2P uses S3/MinIO, named by UUID); this record
//! describes it and links it to the record it supports. The type is what the bytes say
//! ([`crate::mime::sniff_mime`]), the hash lets any copy be checked against the original, and the
//! name is cleaned ([`sanitize_file_name`]) because it is shown to people and may end up on disk.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::RecordId;
use crate::mime::{is_allowed_upload, PDF};
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::{code, is_sha256_hex, Validate, ValidationErrors};

/// Longest file name kept, in bytes: the limit of common file systems.
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Largest document accepted: 100 MiB, the registry's upload limit (a long video statement or
/// a large multi-page scan); the vault and the upload endpoint use the same bound.
pub const MAX_DOCUMENT_BYTES: u64 = 100 * 1024 * 1024;
/// Name given to a file whose name is empty once cleaned.
pub const FALLBACK_FILE_NAME: &str = "document";
/// Longest extension kept intact when a long name is shortened.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// A stored file and what it is evidence of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Document {
    #[serde(flatten)]
    pub meta: RecordMeta,
    pub kind: DocumentKind,
    /// Name for display and download, cleaned with [`sanitize_file_name`].
    pub file_name: String,
    /// Media type sniffed from the content, one of [`crate::mime::UPLOAD_ALLOW_LIST`].
    pub mime_type: String,
    pub size_bytes: u64,
    /// SHA-256 of the content, 64 lower-case hex digits.
    pub sha256: String,
    /// The record this document supports (an individual, a group, an application…).
    pub linked_record: RecordId,
    /// When the photo or scan was taken, as reported by the capturing device.
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    /// For a [`DocumentKind::Consent`]: what the person agreed to and how (the document itself
    /// is the signature drawn on the device or a photo of the signed paper form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentTerms>,
    /// Whether registry staff checked it: pending until a reviewer decides. Set only through
    /// the registry's review desk; a change of the document's kind or record makes it pending
    /// again.
    #[serde(default)]
    pub verification_status: DocumentStatus,
    /// The reviewer's decision (who, when, why if rejected); absent while pending.
    #[serde(default)]
    pub review: Option<crate::review::Review>,
}

impl_record!(Document, RecordKind::Document);

impl Document {
    /// Whether the document counts towards what a programme requires: not deleted, and not
    /// rejected by a reviewer (a pending one counts: the office checks it while reviewing).
    pub fn counts_as_sent(&self) -> bool {
        !self.meta.is_deleted() && self.verification_status != DocumentStatus::Rejected
    }
}

/// What a reviewer found a document to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DocumentStatus {
    /// Not looked at yet.
    #[default]
    Pending,
    /// A reviewer checked it and accepts it.
    Verified,
    /// A reviewer cannot accept it (unreadable, expired, someone else's); the review says why.
    Rejected,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Pending => "pending",
            DocumentStatus::Verified => "verified",
            DocumentStatus::Rejected => "rejected",
        }
    }
}

/// A person's consent to a field agent acting for them (and for their household, when given by
/// the head), as captured with its evidence document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConsentTerms {
    /// Which statement was shown: its stable id (the wording lives with the app, per language).
    pub statement: String,
    /// The language the statement was shown in, BCP 47.
    pub language: String,
    /// The person ticked "I agree" after the statement was read to or by them.
    pub agreed: bool,
    pub method: ConsentMethod,
}

/// How the person signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ConsentMethod {
    /// Drawn on the device's screen (touch or mouse).
    SignaturePad,
    /// A photo of a paper form the person signed.
    SignedPaper,
}

impl Validate for Document {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());

        if self.file_name.is_empty() {
            errors.push("file_name", code::REQUIRED, "Give the file a name.");
        } else if sanitize_file_name(&self.file_name) != self.file_name {
            errors.push(
                "file_name",
                code::INVALID_FORMAT,
                format!(
                    "Rename the file without folder names, control characters or the characters \
                     < > : \" | ? * (at most {MAX_FILE_NAME_BYTES} bytes)."
                ),
            );
        }

        if !is_allowed_upload(&self.mime_type) {
            errors.push(
                "mime_type",
                code::NOT_ALLOWED,
                "This kind of file is not accepted; upload a photo (JPEG, PNG, WebP, HEIC), a scan (TIFF) or a PDF.",
            );
        } else if self.kind == DocumentKind::Photo && self.mime_type == PDF {
            errors.push(
                "mime_type",
                code::INCONSISTENT,
                "A photo must be an image file, not a PDF.",
            );
        }

        if self.size_bytes == 0 {
            errors.push(
                "size_bytes",
                code::OUT_OF_RANGE,
                "The file is empty; upload it again.",
            );
        } else if self.size_bytes > MAX_DOCUMENT_BYTES {
            errors.push(
                "size_bytes",
                code::OUT_OF_RANGE,
                format!(
                    "The file is larger than {} MB; scan at a lower resolution or split it.",
                    MAX_DOCUMENT_BYTES / (1024 * 1024)
                ),
            );
        }
        if !is_sha256_hex(&self.sha256) {
            errors.push(
                "sha256",
                code::INVALID_FORMAT,
                "The file's fingerprint is missing or malformed; upload the file again.",
            );
        }
        if self.linked_record.is_nil() {
            errors.push(
                "linked_record",
                code::REQUIRED,
                "Choose the record this document belongs to.",
            );
        }
        match (&self.consent, self.kind == DocumentKind::Consent) {
            (None, true) => errors.push(
                "consent",
                code::REQUIRED,
                "Say which statement the person agreed to, in which language, and how they signed.",
            ),
            (Some(_), false) => errors.push(
                "consent",
                code::INCONSISTENT,
                "Only a consent document carries consent terms.",
            ),
            (Some(terms), true) => {
                if !terms.agreed {
                    errors.push(
                        "consent.agreed",
                        code::REQUIRED,
                        "The person must tick \"I agree\" before consent is recorded.",
                    );
                }
                if !crate::validate::is_valid_code(&terms.statement) {
                    errors.push(
                        "consent.statement",
                        code::INVALID_FORMAT,
                        "Name the statement shown by its id (letters, digits, - and _).",
                    );
                }
                if !crate::validate::is_valid_language_tag(&terms.language) {
                    errors.push(
                        "consent.language",
                        code::INVALID_FORMAT,
                        "Give the statement's language as a language code such as sw or fr.",
                    );
                }
            }
            (None, false) => {}
        }
        crate::review::check_review(
            &mut errors,
            self.review.as_ref(),
            self.verification_status == DocumentStatus::Rejected,
            self.verification_status == DocumentStatus::Pending,
        );
        errors.into_result()
    }
}

/// What a document is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DocumentKind {
    IdCard,
    ProofOfAddress,
    IncomeCertificate,
    /// A photo of the registrant.
    Photo,
    /// The registrant's consent to an agent acting for them (see [`ConsentTerms`]).
    Consent,
    Other,
}

/// Cleans a file name received from a device so it is safe to show and to store:
/// - only the last path component is kept (`C:\Users\x\scan.pdf` → `scan.pdf`);
/// - control characters and Unicode direction overrides (used to disguise `gpj.exe` as
///   `exe.jpg`) are removed;
/// - characters Windows forbids in names (`< > : " | ? *`) become `_`;
/// - runs of white space become one space; leading dots and spaces and trailing dots and spaces
///   are dropped (no hidden files, no `..`);
/// - Windows device names (`CON`, `NUL`, `COM1`…) get a `_` prefix;
/// - the name is cut to [`MAX_FILE_NAME_BYTES`] bytes on a character boundary, keeping a short
///   extension;
/// - an empty result becomes [`FALLBACK_FILE_NAME`].
///
/// Cleaning an already clean name returns it unchanged.
pub fn sanitize_file_name(name: &str) -> String {
    let last_component = name.rsplit(['/', '\\']).next().unwrap_or(name);

    let mut cleaned = String::with_capacity(last_component.len());
    let mut pending_space = false;
    for c in last_component.chars() {
        // Tabs and line breaks are white space as well as control characters: they separate
        // words, so they become a space rather than gluing words together.
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() || is_direction_control(c) {
            continue;
        }
        if pending_space && !cleaned.is_empty() {
            cleaned.push(' ');
        }
        pending_space = false;
        cleaned.push(if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
            '_'
        } else {
            c
        });
    }
    let trimmed = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return FALLBACK_FILE_NAME.to_owned();
    }

    let mut result = if is_windows_device_name(trimmed) {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    };
    if result.len() > MAX_FILE_NAME_BYTES {
        result = shorten(&result);
    }
    result
}

/// Cuts `name` to [`MAX_FILE_NAME_BYTES`], keeping its extension if that is short.
fn shorten(name: &str) -> String {
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.len() <= MAX_KEPT_EXTENSION_BYTES)
        .unwrap_or("");
    let stem = &name[..name.len() - extension.len()];
    let mut cut = MAX_FILE_NAME_BYTES - extension.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(['.', ' ']);
    format!("{stem}{extension}")
}

/// Unicode bidirectional formatting characters, which can make a name display differently
/// from what it is.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Names Windows reserves for devices, with or without an extension (`nul.txt` too).
fn is_windows_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && matches!(upper.as_bytes()[3], b'1'..=b'9'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use crate::mime::{GIF, JPEG};
    use time::macros::datetime;

    fn document() -> Document {
        Document {
            meta: RecordMeta::new(
                "0190b6a2-8a3e-7c1d-9f00-000000000001".parse().unwrap(),
                datetime!(2024-05-01 8:00 UTC),
                ActorId::new("agent"),
            ),
            kind: DocumentKind::IdCard,
            file_name: "id-front.jpg".into(),
            mime_type: JPEG.into(),
            size_bytes: 245_760,
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            linked_record: "0190b6a2-8a3e-7c1d-9f00-000000000002".parse().unwrap(),
            captured_at: datetime!(2024-05-01 7:55 +03:00),
            consent: None,
            verification_status: DocumentStatus::Pending,
            review: None,
        }
    }

    #[test]
    fn a_rejected_document_says_why_and_no_longer_counts() {
        let mut d = document();
        assert!(d.counts_as_sent());
        d.verification_status = DocumentStatus::Rejected;
        assert!(d.validate().unwrap_err().has("review", code::REQUIRED));
        d.review = Some(crate::review::Review {
            by: ActorId::new("staff:otieno"),
            at: datetime!(2024-05-02 8:00 UTC),
            reason: Some("The photo is blurred; take it again in daylight.".into()),
        });
        assert_eq!(d.validate(), Ok(()));
        assert!(!d.counts_as_sent());
        d.verification_status = DocumentStatus::Verified;
        assert!(d.counts_as_sent());
        d.meta.soft_delete(datetime!(2024-05-03 8:00 UTC));
        assert!(!d.counts_as_sent());
        // An old record without the fields reads as pending.
        let mut json = serde_json::to_value(document()).unwrap();
        json.as_object_mut().unwrap().remove("verification_status");
        json.as_object_mut().unwrap().remove("review");
        let back: Document = serde_json::from_value(json).unwrap();
        assert_eq!(back.verification_status, DocumentStatus::Pending);
    }

    #[test]
    fn a_consent_document_says_what_was_agreed_and_only_it_does() {
        let mut consent = document();
        consent.kind = DocumentKind::Consent;
        assert!(consent
            .validate()
            .unwrap_err()
            .has("consent", code::REQUIRED));
        consent.consent = Some(ConsentTerms {
            statement: "agent-consent-1".into(),
            language: "fr".into(),
            agreed: true,
            method: ConsentMethod::SignaturePad,
        });
        assert_eq!(consent.validate(), Ok(()));
        let terms = consent.consent.as_mut().unwrap();
        terms.agreed = false;
        terms.language = "not a language".into();
        terms.statement = "<script>".into();
        let errors = consent.validate().unwrap_err();
        for field in ["consent.agreed", "consent.language", "consent.statement"] {
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field}: {errors:?}"
            );
        }
        let mut id_card = document();
        id_card.consent = Some(ConsentTerms {
            statement: "agent-consent-1".into(),
            language: "fr".into(),
            agreed: true,
            method: ConsentMethod::SignedPaper,
        });
        assert!(id_card
            .validate()
            .unwrap_err()
            .has("consent", code::INCONSISTENT));
    }

    #[test]
    fn clean_document_is_valid() {
        assert_eq!(document().validate(), Ok(()));
    }

    #[test]
    fn sanitising_file_names() {
        let cases = [
            ("scan.pdf", "scan.pdf"),
            ("C:\\Users\\amina\\Desktop\\scan.pdf", "scan.pdf"),
            ("/etc/passwd", "passwd"),
            ("../../secret.txt", "secret.txt"),
            ("..", FALLBACK_FILE_NAME),
            ("", FALLBACK_FILE_NAME),
            ("dir/", FALLBACK_FILE_NAME),
            (".hidden", "hidden"),
            ("name.", "name"),
            ("  id   card\tfront .jpg ", "id card front .jpg"),
            ("bad\0name\n.png", "badname .png"),
            ("what?<is>:this|*\".pdf", "what__is__this___.pdf"),
            ("photo\u{202E}gpj.exe", "photogpj.exe"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("com1.pdf", "_com1.pdf"),
            ("com10.pdf", "com10.pdf"),
            (
                "Kitambulisho cha Taifa — Amina.jpg",
                "Kitambulisho cha Taifa — Amina.jpg",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(sanitize_file_name(input), expected, "{input:?}");
        }
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.jpeg", "é".repeat(200));
        let cleaned = sanitize_file_name(&long);
        assert!(cleaned.len() <= MAX_FILE_NAME_BYTES);
        assert!(cleaned.ends_with(".jpeg"));
        assert!(cleaned.starts_with('é'));
        let no_extension = "x".repeat(400);
        assert_eq!(sanitize_file_name(&no_extension).len(), MAX_FILE_NAME_BYTES);
    }

    #[test]
    fn sanitising_is_idempotent() {
        for input in ["a/b/../c.pdf", " . x .", "CON", "q?.png", &"ü".repeat(300)] {
            let once = sanitize_file_name(input);
            assert_eq!(sanitize_file_name(&once), once, "{input:?}");
        }
    }

    #[test]
    fn unsanitised_name_is_refused() {
        let mut document = document();
        document.file_name = "../id.jpg".into();
        assert!(document
            .validate()
            .unwrap_err()
            .has("file_name", code::INVALID_FORMAT));
    }

    #[test]
    fn type_size_and_hash_rules() {
        let mut document = document();
        document.mime_type = GIF.into();
        document.size_bytes = MAX_DOCUMENT_BYTES + 1;
        document.sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855".into();
        let errors = document.validate().unwrap_err();
        assert!(errors.has("mime_type", code::NOT_ALLOWED));
        assert!(errors.has("size_bytes", code::OUT_OF_RANGE));
        assert!(errors.has("sha256", code::INVALID_FORMAT));
    }

    #[test]
    fn photo_must_be_an_image() {
        let mut document = document();
        document.kind = DocumentKind::Photo;
        assert_eq!(document.validate(), Ok(()));
        document.mime_type = PDF.into();
        assert!(document
            .validate()
            .unwrap_err()
            .has("mime_type", code::INCONSISTENT));
    }
}
