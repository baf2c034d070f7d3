//! The one-time secrets of an authorization request that Doorstep makes itself: `state` and
//! `nonce` (the PKCE pair comes from the `openidconnect` crate, 32 random bytes as well).
//!
//! Each is 32 bytes from the OS CSPRNG, base64url-encoded (43 characters, 256 bits of entropy).
//! Comparisons with what comes back use constant time so a local attacker probing the loopback
//! listener learns nothing from response timing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A fresh random value, base64url without padding.
pub(crate) fn random_token() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(bytes.as_mut()).expect("the OS random number generator works");
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// Equal, in time that does not depend on where the first difference is.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        // The challenge the authorization request sends, computed by the openidconnect crate.
        use openidconnect::{PkceCodeChallenge, PkceCodeVerifier};
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(*a, *b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
