//! The ID token verifier against locally minted tokens: every way a token can be wrong.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;

const ISSUER: &str = "https://id.example.org";
const CLIENT: &str = "doorstep-app";
const NONCE: &str = "n-0S6_WzA2Mj";
const NOW: i64 = 1_700_000_000;

fn keys() -> JwksCache {
    JwksCache::fixed(&serde_json::from_str(include_str!("testdata/jwks.json")).unwrap())
}

fn claims() -> Value {
    let now = super::super::unix_now();
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "pairwise-123", "nonce": NONCE,
        "iat": now, "exp": now + 300, "auth_time": now - 5,
        "acr": "mosip:idp:acr:password mosip:idp:acr:biometrics",
    })
}

fn mint(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-rsa".into());
    let key = EncodingKey::from_rsa_pem(include_bytes!("testdata/rsa.pem")).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn expect<'a>(acr: &'a [String], max_age: Option<u64>) -> IdTokenExpectations<'a> {
    let now = super::super::unix_now();
    IdTokenExpectations {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: NONCE,
        acr_values: acr,
        max_age,
        requested_at: now - 2,
        now,
        leeway: 30,
        access_token: None,
    }
}

async fn check(token: &str) -> Result<IdTokenClaims, SignInError> {
    verify_id_token(token, &keys(), &expect(&[], None)).await
}

fn token_error(result: Result<IdTokenClaims, SignInError>) -> TokenError {
    match result {
        Err(SignInError::IdToken(e)) => e,
        other => panic!("expected an ID token error, got {other:?}"),
    }
}

fn with(mut c: Value, key: &str, value: Value) -> Value {
    c[key] = value;
    c
}

#[tokio::test]
async fn a_good_token_verifies() {
    let claims = check(&mint(&claims())).await.unwrap();
    assert_eq!(claims.subject, "pairwise-123");
    assert!(claims.acr.unwrap().contains("biometrics"));
    let _ = NOW;
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    let t = mint(&with(claims(), "nonce", json!("other")));
    assert_eq!(token_error(check(&t).await), TokenError::NonceMismatch);
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nonce");
    assert_eq!(
        token_error(check(&mint(&c)).await),
        TokenError::NonceMismatch
    );
}

#[tokio::test]
async fn expired_token_is_refused() {
    let now = super::super::unix_now();
    let t = mint(&with(claims(), "exp", json!(now - 120)));
    assert_eq!(token_error(check(&t).await), TokenError::Expired);
}

#[tokio::test]
async fn token_from_the_future_is_refused() {
    let now = super::super::unix_now();
    let t = mint(&with(claims(), "iat", json!(now + 3600)));
    assert_eq!(token_error(check(&t).await), TokenError::IssuedInFuture);
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let t = mint(&with(claims(), "aud", json!("another-app")));
    assert!(matches!(
        token_error(check(&t).await),
        TokenError::WrongAudience { .. }
    ));
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let t = mint(&with(claims(), "iss", json!("https://evil.example.org")));
    let err = token_error(check(&t).await);
    assert!(matches!(err, TokenError::WrongIssuer { .. }), "{err}");
    assert!(err.to_string().contains("evil.example.org"));
}

#[tokio::test]
async fn several_audiences_need_our_azp() {
    let multi = with(claims(), "aud", json!([CLIENT, "registry"]));
    assert_eq!(
        token_error(check(&mint(&multi)).await),
        TokenError::MissingClaim("azp".into())
    );
    let wrong = with(multi.clone(), "azp", json!("registry"));
    assert!(matches!(
        token_error(check(&mint(&wrong)).await),
        TokenError::WrongAuthorizedParty { .. }
    ));
    check(&mint(&with(multi, "azp", json!(CLIENT))))
        .await
        .unwrap();
}

#[tokio::test]
async fn tampered_signature_is_refused() {
    let token = mint(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = with(claims(), "sub", json!("someone-else"));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(
        token_error(check(&tampered).await),
        TokenError::BadSignature
    );
}

#[tokio::test]
async fn alg_none_and_hmac_are_refused_by_name() {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
    for alg in ["none", "HS256"] {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "test-rsa"}).to_string());
        let token = format!("{header}.{payload}.");
        let err = token_error(check(&token).await);
        assert!(
            matches!(err, TokenError::DisallowedAlg { .. }),
            "{alg}: {err}"
        );
    }
    // And a real HS256 token keyed with the public key material.
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("test-rsa".into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims(),
        &EncodingKey::from_secret(include_bytes!("testdata/jwks.json")),
    )
    .unwrap();
    assert!(matches!(
        token_error(check(&hs).await),
        TokenError::DisallowedAlg { .. }
    ));
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated-away".into());
    let key = EncodingKey::from_rsa_pem(include_bytes!("testdata/rsa.pem")).unwrap();
    let t = jsonwebtoken::encode(&header, &claims(), &key).unwrap();
    assert!(matches!(
        token_error(check(&t).await),
        TokenError::UnknownKid { .. }
    ));
}

#[tokio::test]
async fn encrypted_tokens_are_named_as_such() {
    assert_eq!(token_error(check("a.b.c.d.e").await), TokenError::Encrypted);
    let err = verify_userinfo_jwt("a.b.c.d.e", &keys(), ISSUER, CLIENT, "x", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::EncryptedUserInfo), "{err}");
    // The message names the setting that fixes it.
    assert!(err.to_string().contains("userinfo_via_registry"), "{err}");
}

#[tokio::test]
async fn requested_acr_must_be_met() {
    let t = mint(&claims());
    let bio = ["mosip:idp:acr:biometrics".to_string()];
    verify_id_token(&t, &keys(), &expect(&bio, None))
        .await
        .unwrap();
    let otp = ["mosip:idp:acr:generated-code".to_string()];
    let err = token_error(verify_id_token(&t, &keys(), &expect(&otp, None)).await);
    assert!(matches!(err, TokenError::AcrNotSatisfied { .. }), "{err}");
}

#[tokio::test]
async fn max_age_checks_auth_time() {
    let now = super::super::unix_now();
    let fresh = mint(&claims());
    verify_id_token(&fresh, &keys(), &expect(&[], Some(0)))
        .await
        .unwrap();
    let old = mint(&with(claims(), "auth_time", json!(now - 3600)));
    let err = token_error(verify_id_token(&old, &keys(), &expect(&[], Some(600))).await);
    assert_eq!(err, TokenError::AuthTooOld { max_age: 600 });
    let mut none = claims();
    none.as_object_mut().unwrap().remove("auth_time");
    let err = token_error(verify_id_token(&mint(&none), &keys(), &expect(&[], Some(600))).await);
    assert_eq!(err, TokenError::MissingClaim("auth_time".into()));
}

#[tokio::test]
async fn signed_userinfo_must_be_about_the_same_person() {
    let info = json!({"iss": ISSUER, "aud": CLIENT, "sub": "pairwise-123", "individual_id": "49"});
    let claims = verify_userinfo_jwt(&mint(&info), &keys(), ISSUER, CLIENT, "pairwise-123", 0)
        .await
        .unwrap();
    assert_eq!(claims["individual_id"], "49");
    // eSignet variant without iss/aud.
    let bare = json!({"sub": "pairwise-123"});
    verify_userinfo_jwt(&mint(&bare), &keys(), ISSUER, CLIENT, "pairwise-123", 0)
        .await
        .unwrap();
    let err = verify_userinfo_jwt(&mint(&info), &keys(), ISSUER, CLIENT, "someone-else", 0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SignInError::UserInfo(TokenError::SubjectMismatch)),
        "{err}"
    );
}

#[tokio::test]
async fn at_hash_must_match_the_access_token() {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(b"the-access-token");
    let t = mint(&with(
        claims(),
        "at_hash",
        json!(URL_SAFE_NO_PAD.encode(&hash[..16])),
    ));
    let mut e = expect(&[], None);
    e.access_token = Some("the-access-token");
    verify_id_token(&t, &keys(), &e).await.unwrap();
    e.access_token = Some("another-access-token");
    let err = token_error(verify_id_token(&t, &keys(), &e).await);
    assert_eq!(err, TokenError::AccessTokenHashMismatch);
}
