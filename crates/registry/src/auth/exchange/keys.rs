//! The registry's keys at the identity provider: the client assertion's signing key and the
//! userinfo decryption key, read from PEM files, each with the public JWK to register and the
//! id (`kid`) it is registered under.

use super::*;

/// The key the provider encrypts userinfo to, and its public JWK to register.
pub(super) struct DecryptionKey {
    pub(super) key: rsa::RsaPrivateKey,
    pub(super) public_jwk: Value,
    /// The configured `userinfo_decryption_key_id`, else the thumbprint.
    pub(super) kid: String,
    pub(super) thumbprint: String,
}

impl DecryptionKey {
    pub(super) fn load(path: &Path, key_id: Option<&str>) -> Result<DecryptionKey, ExchangeError> {
        let pem = read_pem(path)?;
        let key = rsa_from_pem(&pem).ok_or_else(|| ExchangeError::Key {
            path: path.to_owned(),
            reason: format!("not an RSA (PKCS#8 or PKCS#1) private key in PEM; userinfo encryption uses {USERINFO_ENCRYPTION_ALG}"),
        })?;
        let members = rsa_members(&key).map_err(|reason| ExchangeError::Key {
            path: path.to_owned(),
            reason,
        })?;
        let (public_jwk, thumbprint) =
            public_jwk(members, "enc", Some(USERINFO_ENCRYPTION_ALG), key_id);
        Ok(DecryptionKey {
            key,
            public_jwk,
            kid: key_id
                .map(str::to_owned)
                .unwrap_or_else(|| thumbprint.clone()),
            thumbprint,
        })
    }

    /// The signed JWT inside the provider's JWE.
    pub(super) fn decrypt(&self, compact: &str) -> Result<Vec<u8>, Refusal> {
        let refuse = |why: String| {
            Refusal::unavailable(format!(
                "the identity provider's encrypted userinfo cannot be read: {why}"
            ))
        };
        let decrypted = jwe::decrypt(compact, &self.key).map_err(|e| {
            let hint = match e {
                JweError::KeyUnwrap => {
                    let used = jwe::header(compact)
                        .ok()
                        .and_then(|h| h.get("kid").and_then(Value::as_str).map(str::to_owned))
                        .map(|kid| format!(" (the provider used key `{kid}`)"))
                        .unwrap_or_default();
                    format!("{used}; register the registry's current `use: enc` key `{}` with the provider, or set [signin] userinfo_decryption_key_path to the key registered there", self.kid)
                }
                JweError::UnsupportedAlg(_) | JweError::UnsupportedEnc(_) => format!(
                    "; register the client for {USERINFO_ENCRYPTION_ALG} with A256GCM"
                ),
                _ => String::new(),
            };
            refuse(format!("{e}{hint}"))
        })?;
        // Nested JWT (RFC 7519 §5.2): the plaintext must be the provider's signed JWT. Encrypted
        // bare JSON would be claims the app had to take on the registry's word.
        let signed = std::str::from_utf8(&decrypted.plaintext)
            .ok()
            .map(str::trim)
            .filter(|t| t.split('.').count() == 3 && !t.starts_with('{'));
        let Some(signed) = signed else {
            return Err(refuse(
                "it is not signed inside (no nested JWT), so the app could not verify it; register the client with userinfo_signed_response_alg RS256 as well as encryption".into(),
            ));
        };
        Ok(signed.as_bytes().to_vec())
    }
}

/// The registry's client key: the signing half, and the public JWK to register.
pub(super) struct ClientKey {
    pub(super) rsa: bool,
    pub(super) encoding: EncodingKey,
    pub(super) public_jwk: Value,
    /// The id sent in assertions: the configured `key_id`, else the thumbprint.
    pub(super) kid: String,
    /// RFC 7638 thumbprint of the public key.
    pub(super) thumbprint: String,
}

impl ClientKey {
    pub(super) fn load(path: &Path, key_id: Option<&str>) -> Result<ClientKey, ExchangeError> {
        use p256::pkcs8::DecodePrivateKey;
        let err = |reason: String| ExchangeError::Key {
            path: path.to_owned(),
            reason,
        };
        let pem = read_pem(path)?;
        let (rsa_key, members) = if let Some(key) = rsa_from_pem(&pem) {
            (true, rsa_members(&key).map_err(err)?)
        } else if let Ok(key) = p256::SecretKey::from_pkcs8_pem(&pem) {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let point = key.public_key().to_encoded_point(false);
            let coord = |c: Option<&p256::FieldBytes>| {
                URL_SAFE_NO_PAD.encode(c.expect("uncompressed point"))
            };
            (
                false,
                vec![
                    ("crv", "P-256".to_string()),
                    ("kty", "EC".to_string()),
                    ("x", coord(point.x())),
                    ("y", coord(point.y())),
                ],
            )
        } else {
            return Err(err(
                "not an RSA (PKCS#8 or PKCS#1) or P-256 (PKCS#8) private key in PEM; convert an EC key with `openssl pkcs8 -topk8 -nocrypt`".into(),
            ));
        };
        let encoding = if rsa_key {
            EncodingKey::from_rsa_pem(pem.as_bytes())
        } else {
            EncodingKey::from_ec_pem(pem.as_bytes())
        }
        .map_err(|e| err(e.to_string()))?;
        let (public_jwk, thumbprint) = public_jwk(members, "sig", None, key_id);
        Ok(ClientKey {
            rsa: rsa_key,
            encoding,
            public_jwk,
            kid: key_id
                .map(str::to_owned)
                .unwrap_or_else(|| thumbprint.clone()),
            thumbprint,
        })
    }

    /// The first algorithm the key can sign with that the provider accepts (RS256 before PS256
    /// for RSA: eSignet's Java implementation knows only RS256).
    pub(super) fn algorithm(&self, supported: Option<&[String]>) -> Result<Algorithm, String> {
        let ours: &[(Algorithm, &str)] = if self.rsa {
            &[(Algorithm::RS256, "RS256"), (Algorithm::PS256, "PS256")]
        } else {
            &[(Algorithm::ES256, "ES256")]
        };
        match supported {
            None => Ok(ours[0].0),
            Some(list) => ours
                .iter()
                .find(|(_, name)| list.iter().any(|s| s == name))
                .map(|(alg, _)| *alg)
                .ok_or_else(|| {
                    format!(
                        "the identity provider accepts client assertions signed with {} only, which the [signin] {} key cannot make",
                        list.join(", "),
                        if self.rsa { "RSA" } else { "P-256" }
                    )
                }),
        }
    }
}

/// A key file's PEM text, wiped from memory when dropped.
pub(super) fn read_pem(path: &Path) -> Result<zeroize::Zeroizing<String>, ExchangeError> {
    std::fs::read_to_string(path)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| ExchangeError::Key {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

/// An RSA private key in PKCS#8 or PKCS#1 PEM.
pub(super) fn rsa_from_pem(pem: &str) -> Option<rsa::RsaPrivateKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .ok()
}

/// The RSA public JWK's required members (RFC 7638 order), if the key is long enough.
pub(super) fn rsa_members(key: &rsa::RsaPrivateKey) -> Result<Vec<(&'static str, String)>, String> {
    use rsa::traits::PublicKeyParts;
    if key.size() < 256 {
        return Err("RSA keys must be at least 2048 bits".into());
    }
    let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
    Ok(vec![("e", e), ("kty", "RSA".to_string()), ("n", n)])
}

/// The public JWK from its required members (sorted), with `kid` = `key_id` or, without one, the
/// RFC 7638 thumbprint; and the thumbprint.
pub(super) fn public_jwk(
    members: Vec<(&'static str, String)>,
    key_use: &str,
    alg: Option<&str>,
    key_id: Option<&str>,
) -> (Value, String) {
    // RFC 7638: the required members, sorted, no whitespace.
    let canonical = format!(
        "{{{}}}",
        members
            .iter()
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    let mut jwk: Map<String, Value> = members
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
    jwk.insert("kid".into(), key_id.unwrap_or(&thumbprint).into());
    jwk.insert("use".into(), key_use.into());
    if let Some(alg) = alg {
        jwk.insert("alg".into(), alg.into());
    }
    (Value::Object(jwk), thumbprint)
}

/// A key id as providers register it: printable ASCII, no spaces, not too long.
pub(super) fn check_key_id(name: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "`{name}` = {id:?} must be the key's id as registered at the provider: 1 to 128 printable ASCII characters without spaces"
        ));
    }
    Ok(())
}
