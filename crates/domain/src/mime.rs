//! Recognising file types from their first bytes.
//!
//! The type a browser or phone reports for an upload comes from the file name and can be wrong
//! or forged; the bytes cannot lie about their format. So the registry records the type it
//! sniffs here, and accepts only the types in [`UPLOAD_ALLOW_LIST`].

/// PDF documents.
pub const PDF: &str = "application/pdf";
/// PNG images.
pub const PNG: &str = "image/png";
/// JPEG images (most phone cameras and scanners).
pub const JPEG: &str = "image/jpeg";
/// GIF images.
pub const GIF: &str = "image/gif";
/// WebP images.
pub const WEBP: &str = "image/webp";
/// TIFF images (document scanners).
pub const TIFF: &str = "image/tiff";
/// HEIC images (HEIF with HEVC, the iPhone camera default).
pub const HEIC: &str = "image/heic";
/// Other HEIF images.
pub const HEIF: &str = "image/heif";
/// AVIF images (HEIF with AV1).
pub const AVIF: &str = "image/avif";

/// Types accepted as uploaded documents: scans, photos and PDFs. GIF and AVIF are recognised
/// but not accepted: no identity or proof document arrives in them, and every format accepted
/// is one more the server's image processing must handle safely.
pub const UPLOAD_ALLOW_LIST: &[&str] = &[PDF, PNG, JPEG, WEBP, TIFF, HEIC, HEIF];

/// How many leading bytes [`sniff_mime`] needs to recognise every type it knows.
pub const SNIFF_LEN: usize = 64;

/// Whether `mime` may be uploaded as a document.
pub fn is_allowed_upload(mime: &str) -> bool {
    UPLOAD_ALLOW_LIST.contains(&mime)
}

/// Usual file extension for a recognised type, without the dot.
pub fn extension_for(mime: &str) -> Option<&'static str> {
    Some(match mime {
        PDF => "pdf",
        PNG => "png",
        JPEG => "jpg",
        GIF => "gif",
        WEBP => "webp",
        TIFF => "tiff",
        HEIC => "heic",
        HEIF => "heif",
        AVIF => "avif",
        _ => return None,
    })
}

/// The media type of a file from its first bytes (at least [`SNIFF_LEN`] when the file is that
/// long), or `None` if it is none of the types above.
pub fn sniff_mime(first_bytes: &[u8]) -> Option<&'static str> {
    let b = first_bytes;
    if b.starts_with(b"%PDF-") {
        Some(PDF)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(GIF)
    } else if b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP" {
        Some(WEBP)
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        Some(TIFF)
    } else {
        sniff_heif(b)
    }
}

/// HEIF-family files start with an ISO-BMFF `ftyp` box: a 4-byte big-endian box size, `ftyp`,
/// a major brand, a minor version and a list of compatible brands. The brands tell HEIC (HEVC
/// coded) from AVIF and plain HEIF.
fn sniff_heif(b: &[u8]) -> Option<&'static str> {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return None;
    }
    let declared = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if declared < 16 || !declared.is_multiple_of(4) {
        return None;
    }
    let box_end = declared.min(b.len());
    let major = &b[8..12];
    // Compatible brands follow the 4-byte minor version.
    let compatible = b[16..box_end].chunks_exact(4);
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible).collect();
    let has = |wanted: &[&[u8]]| brands.iter().any(|brand| wanted.contains(brand));

    const HEIC_BRANDS: &[&[u8]] = &[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ];
    const AVIF_BRANDS: &[&[u8]] = &[b"avif", b"avis"];
    const HEIF_BRANDS: &[&[u8]] = &[b"mif1", b"msf1", b"heif"];

    // The major brand is the most specific statement; compatible brands decide otherwise.
    if HEIC_BRANDS.contains(&major) {
        Some(HEIC)
    } else if AVIF_BRANDS.contains(&major) {
        Some(AVIF)
    } else if has(HEIC_BRANDS) {
        Some(HEIC)
    } else if has(AVIF_BRANDS) {
        Some(AVIF)
    } else if has(HEIF_BRANDS) {
        Some(HEIF)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes.extend_from_slice(b"\0\0\0\x08meta"); // the next box
        bytes
    }

    #[test]
    fn recognises_documents_and_images() {
        assert_eq!(sniff_mime(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3"), Some(PDF));
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(PNG));
        assert_eq!(
            sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F']),
            Some(JPEG)
        );
        assert_eq!(
            sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0x10, b'E', b'x']),
            Some(JPEG)
        );
        assert_eq!(sniff_mime(b"GIF89a\x01\0\x01\0"), Some(GIF));
        assert_eq!(sniff_mime(b"GIF87a\x01\0\x01\0"), Some(GIF));
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WEBPVP8 "), Some(WEBP));
        assert_eq!(sniff_mime(b"II*\0\x08\0\0\0"), Some(TIFF));
        assert_eq!(sniff_mime(b"MM\0*\0\0\0\x08"), Some(TIFF));
    }

    #[test]
    fn recognises_heif_family_by_brand() {
        assert_eq!(sniff_mime(&ftyp(b"heic", &[b"mif1", b"heic"])), Some(HEIC));
        assert_eq!(sniff_mime(&ftyp(b"heix", &[b"mif1"])), Some(HEIC));
        // iPhones write major brand `mif1` with `heic` among the compatible brands.
        assert_eq!(sniff_mime(&ftyp(b"mif1", &[b"mif1", b"heic"])), Some(HEIC));
        assert_eq!(sniff_mime(&ftyp(b"mif1", &[b"mif1"])), Some(HEIF));
        assert_eq!(sniff_mime(&ftyp(b"msf1", &[b"msf1"])), Some(HEIF));
        assert_eq!(sniff_mime(&ftyp(b"avif", &[b"mif1", b"avif"])), Some(AVIF));
    }

    #[test]
    fn other_iso_media_files_are_not_images() {
        assert_eq!(sniff_mime(&ftyp(b"isom", &[b"isom", b"mp41"])), None);
        assert_eq!(sniff_mime(&ftyp(b"qt  ", &[])), None);
        // A brand outside the declared box is not a compatible brand.
        let mut tricky = ftyp(b"isom", &[]);
        tricky.extend_from_slice(b"heic");
        assert_eq!(sniff_mime(&tricky), None);
    }

    #[test]
    fn unknown_and_short_input() {
        assert_eq!(sniff_mime(b""), None);
        assert_eq!(sniff_mime(b"%PD"), None);
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff_mime(b"PK\x03\x04"), None, "zip/docx is not accepted");
        assert_eq!(sniff_mime(b"<html><body>"), None);
        assert_eq!(sniff_mime(b"\0\0\0\x18ftyp"), None, "truncated ftyp box");
    }

    #[test]
    fn allow_list() {
        for mime in [PDF, PNG, JPEG, WEBP, TIFF, HEIC, HEIF] {
            assert!(is_allowed_upload(mime), "{mime}");
            assert!(extension_for(mime).is_some());
        }
        assert!(!is_allowed_upload(GIF));
        assert!(!is_allowed_upload("text/html"));
        assert_eq!(extension_for("text/html"), None);
    }
}
