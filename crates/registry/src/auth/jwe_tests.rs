//! JWE vectors made here, the way a provider makes them (RFC 7516 §5.1), with the public half of
//! a test key; then altered one part at a time.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};

use super::{decrypt, is_compact_jwe, JweError};

const RSA: &str = include_str!("../../tests/keys/rsa-1.pem");
const OTHER_RSA: &str = include_str!("../../tests/keys/rsa-2.pem");
/// What eSignet encrypts: its signed userinfo JWT (not verified here, only carried).
const INNER: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwZXJzb24tMSJ9.c2lnbmF0dXJl";

fn key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).unwrap()
}

fn random(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).unwrap();
    bytes
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWE of `plaintext` for `to`, with `header` as the protected header. The content key
/// is `cek_len` bytes and picks the cipher (16: AES-128-GCM, else AES-256-GCM), whatever `enc`
/// says, so a header that lies about it can be made.
pub(crate) fn encrypt(
    header: &Value,
    plaintext: &[u8],
    to: &RsaPublicKey,
    cek_len: usize,
) -> String {
    let protected = b64(header.to_string().as_bytes());
    let cek = random(cek_len);
    let padding = if header["alg"] == "RSA-OAEP" {
        Oaep::new::<sha1::Sha1>()
    } else {
        Oaep::new::<sha2::Sha256>()
    };
    let encrypted_key = to
        .encrypt(&mut rsa::rand_core::OsRng, padding, &cek)
        .unwrap();
    let iv = random(12);
    let payload = Payload {
        msg: plaintext,
        aad: protected.as_bytes(),
    };
    let nonce = Nonce::from_slice(&iv);
    let mut sealed = if cek_len == 16 {
        Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .encrypt(nonce, payload)
    } else {
        Aes256Gcm::new_from_slice(&cek[..32])
            .unwrap()
            .encrypt(nonce, payload)
    }
    .unwrap();
    let tag = sealed.split_off(sealed.len() - 16);
    [
        protected,
        b64(&encrypted_key),
        b64(&iv),
        b64(&sealed),
        b64(&tag),
    ]
    .join(".")
}

fn esignet_header() -> Value {
    json!({ "alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "kid": "enc-1" })
}

/// INNER sealed under `header` for the key in `pem`, with a content key of `cek_len` bytes.
fn sealed_for(header: Value, pem: &str, cek_len: usize) -> String {
    encrypt(
        &header,
        INNER.as_bytes(),
        &key(pem).to_public_key(),
        cek_len,
    )
}

fn sealed_with(header: Value) -> String {
    sealed_for(header, RSA, 32)
}

fn error(compact: &str) -> JweError {
    decrypt(compact, &key(RSA)).unwrap_err()
}

/// `compact` with part `index` replaced by `f` of its bytes.
fn alter(compact: &str, index: usize, f: impl Fn(&mut Vec<u8>)) -> String {
    let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
    let mut bytes = URL_SAFE_NO_PAD.decode(&parts[index]).unwrap();
    f(&mut bytes);
    parts[index] = b64(&bytes);
    parts.join(".")
}

#[test]
fn esignet_userinfo_decrypts_to_the_signed_jwt() {
    let jwe = sealed_with(esignet_header());
    assert!(is_compact_jwe(&jwe));
    let out = decrypt(&jwe, &key(RSA)).unwrap();
    assert_eq!(&out.plaintext[..], INNER.as_bytes());
    assert_eq!(out.header["cty"], "JWT");
    assert!(
        !format!("{out:?}").contains(INNER),
        "Debug hides the content"
    );
}

#[test]
fn rsa_oaep_with_sha1_and_a128gcm_decrypt_too() {
    let header = json!({ "alg": "RSA-OAEP", "enc": "A128GCM" });
    let jwe = encrypt(&header, b"{}", &key(RSA).to_public_key(), 16);
    assert_eq!(&decrypt(&jwe, &key(RSA)).unwrap().plaintext[..], b"{}");
}

#[test]
fn a_jwe_for_another_key_is_named_as_such() {
    let jwe = sealed_for(esignet_header(), OTHER_RSA, 32);
    assert_eq!(error(&jwe), JweError::KeyUnwrap);
    assert!(error(&jwe).to_string().contains("another key"));
}

#[test]
fn altered_tag_ciphertext_iv_or_header_fail_authentication() {
    let jwe = sealed_with(esignet_header());
    let flip = |b: &mut Vec<u8>| b[0] ^= 1;
    assert_eq!(error(&alter(&jwe, 4, flip)), JweError::Content, "tag");
    assert_eq!(
        error(&alter(&jwe, 3, flip)),
        JweError::Content,
        "ciphertext"
    );
    assert_eq!(error(&alter(&jwe, 2, flip)), JweError::Content, "iv");
    // The header is the AAD: a changed `kid` (still valid JSON, same algorithms) is detected.
    let header = alter(&jwe, 0, |b| {
        *b = String::from_utf8(b.clone())
            .unwrap()
            .replace("enc-1", "enc-2")
            .into_bytes()
    });
    assert_eq!(error(&header), JweError::Content, "header");
    assert_eq!(
        error(&alter(&jwe, 1, flip)),
        JweError::KeyUnwrap,
        "encrypted key"
    );
}

#[test]
fn unsupported_algorithms_are_refused_by_name() {
    for alg in ["RSA1_5", "dir", "A256KW", "ECDH-ES", "none"] {
        let mut header = esignet_header();
        header["alg"] = alg.into();
        let err = error(&sealed_with(header));
        assert_eq!(err, JweError::UnsupportedAlg(alg.into()));
        assert!(err.to_string().contains(alg), "{err}");
    }
    for enc in ["A256CBC-HS512", "A128CBC-HS256", "A192GCM"] {
        let mut header = esignet_header();
        header["enc"] = enc.into();
        assert_eq!(
            error(&sealed_with(header)),
            JweError::UnsupportedEnc(enc.into())
        );
    }
    let mut header = esignet_header();
    header.as_object_mut().unwrap().remove("enc");
    assert_eq!(error(&sealed_with(header)), JweError::MissingHeader("enc"));
}

#[test]
fn compression_and_critical_extensions_are_refused() {
    let mut header = esignet_header();
    header["zip"] = "DEF".into();
    assert_eq!(error(&sealed_with(header)), JweError::Compressed);
    let mut header = esignet_header();
    header["crit"] = json!(["exp"]);
    assert_eq!(error(&sealed_with(header)), JweError::Critical);
}

#[test]
fn a_content_key_of_the_wrong_length_is_refused() {
    // The header says A256GCM, the key is an AES-128 one.
    assert_eq!(
        error(&sealed_for(esignet_header(), RSA, 16)),
        JweError::CekLength {
            enc: "A256GCM",
            expected: 32,
            found: 16
        }
    );
}

#[test]
fn garbled_input_is_named() {
    assert_eq!(error(INNER), JweError::NotCompact);
    assert_eq!(error("a.b.c.d.e.f"), JweError::NotCompact);
    assert_eq!(error("!!.a.b.c.d"), JweError::Base64("protected header"));
    assert_eq!(error(&format!("{}.a.b.c.d", b64(b"[1]"))), JweError::Header);
    let jwe = sealed_with(esignet_header());
    assert_eq!(
        error(&alter(&jwe, 2, |iv| iv.truncate(8))),
        JweError::IvLength(8)
    );
    assert_eq!(
        error(&alter(&jwe, 4, |tag| tag.truncate(12))),
        JweError::TagLength(12)
    );
}
