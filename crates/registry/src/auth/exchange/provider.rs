//! Talking to the identity provider: its discovery document (cached), the code redemption with
//! a signed client assertion, and the userinfo fetch, decrypted when it arrives as a JWE.

use super::*;

/// What the exchange uses from the provider's discovery document.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Metadata {
    pub(super) issuer: String,
    pub(super) token_endpoint: String,
    #[serde(default)]
    pub(super) userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub(super) token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub(super) token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
}

impl Inner {
    pub(super) async fn metadata(&self) -> Result<Metadata, String> {
        let mut cached = self.metadata.lock().await;
        if let Some((meta, at)) = &*cached {
            if at.elapsed() < METADATA_TTL {
                return Ok(meta.clone());
            }
        }
        let issuer = &self.config.issuer;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let response = self.http.get(&url).send().await.map_err(|e| {
            format!(
                "cannot reach the identity provider ({url}): {}",
                describe(&e)
            )
        })?;
        if !response.status().is_success() {
            return Err(format!(
                "the identity provider answered HTTP {} for {url}",
                response.status()
            ));
        }
        let meta: Metadata = response.json().await.map_err(|e| {
            format!(
                "the identity provider's discovery document ({url}) is not usable: {}",
                describe(&e)
            )
        })?;
        if &meta.issuer != issuer {
            return Err(format!(
                "the discovery document at {url} is for issuer {:?}, not the configured {issuer:?}",
                meta.issuer
            ));
        }
        check_url("token_endpoint", &meta.token_endpoint)?;
        if let Some(userinfo) = &meta.userinfo_endpoint {
            check_url("userinfo_endpoint", userinfo)?;
        }
        if let Some(methods) = &meta.token_endpoint_auth_methods_supported {
            if !methods.iter().any(|m| m == "private_key_jwt") {
                return Err(
                    "the identity provider does not accept private_key_jwt at its token endpoint"
                        .into(),
                );
            }
        }
        *cached = Some((meta.clone(), Instant::now()));
        Ok(meta)
    }

    pub(super) async fn redeem(&self, request: &ExchangeRequest) -> Result<Response, String> {
        let (status, body, url, alg) = self.token_request(request).await?;
        if status.is_success() {
            let mut body = body;
            body.remove("refresh_token");
            return Ok(json_response(StatusCode::OK, Value::Object(body)));
        }
        let Some(error) = body.get("error").and_then(Value::as_str) else {
            return Err(format!(
                "the identity provider's token endpoint answered HTTP {status}"
            ));
        };
        if CLIENT_REFUSED.contains(&error) {
            return Ok(self.client_refused(error, &body, &url, alg));
        }
        let mut out = Map::new();
        out.insert("error".into(), error.into());
        if let Some(d) = body.get("error_description").and_then(Value::as_str) {
            out.insert("error_description".into(), d.into());
        }
        Ok(json_response(StatusCode::BAD_REQUEST, Value::Object(out)))
    }

    /// Redeem a code for the registry itself (a liveness proof): the provider's ID token and
    /// access token, or why not (the provider's OAuth error, or the service being unreachable or
    /// misconfigured).
    pub(super) async fn redeem_tokens(
        &self,
        request: &ExchangeRequest,
    ) -> Result<Redeemed, (ProblemKind, String)> {
        let unavailable = |e: String| (ProblemKind::Unavailable, e);
        let (status, body, url, alg) = self.token_request(request).await.map_err(unavailable)?;
        if status.is_success() {
            let id_token = body
                .get("id_token")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    unavailable("the identity provider's token response has no id_token".into())
                })?;
            return Ok(Redeemed {
                id_token,
                access_token: body
                    .get("access_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        if CLIENT_REFUSED.contains(&error) {
            // Logged with what to fix, as for a sign-in.
            let _ = self.client_refused(error, &body, &url, alg);
            return Err((
                ProblemKind::SignInMisconfigured,
                format!("the identity provider does not accept this registry's sign-in client ({error}); the registry's operator must fix its [signin] settings"),
            ));
        }
        Err((
            ProblemKind::BadRequest,
            format!(
                "the identity provider refused the code ({}{}); start the check again",
                if error.is_empty() {
                    "no reason given"
                } else {
                    error
                },
                body.get("error_description")
                    .and_then(Value::as_str)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        ))
    }

    /// The token request with a client assertion: the provider's status and JSON answer, the
    /// token endpoint and the assertion's algorithm.
    async fn token_request(
        &self,
        request: &ExchangeRequest,
    ) -> Result<(StatusCode, Map<String, Value>, String, Algorithm), String> {
        let meta = self.metadata().await?;
        let alg = self.key.algorithm(
            meta.token_endpoint_auth_signing_alg_values_supported
                .as_deref(),
        )?;
        let assertion = self.assertion(&meta.token_endpoint, alg)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", request.code.as_str()),
            ("redirect_uri", request.redirect_uri.as_str()),
            ("code_verifier", request.code_verifier.as_str()),
            ("client_id", self.config.client_id.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        if let Some(resource) = &request.resource {
            form.push(("resource", resource));
        }
        let url = &meta.token_endpoint;
        let response = self.http.post(url).form(&form).send().await.map_err(|e| {
            format!(
                "cannot reach the identity provider's token endpoint ({url}): {}",
                describe(&e)
            )
        })?;
        let status = response.status();
        let body: Map<String, Value> = response.json().await.map_err(|e| {
            format!(
                "the identity provider's token endpoint answered HTTP {status} without JSON: {}",
                describe(&e)
            )
        })?;
        Ok((status, body, url.clone(), alg))
    }

    /// The provider refuses the registry's client itself: every sign-in fails the same way until the
    /// operator fixes the registration or the keys, so the log says what was sent and what to
    /// check, and the app is told that the service is misconfigured rather than to try again.
    pub(super) fn client_refused(
        &self,
        error: &str,
        body: &Map<String, Value>,
        token_endpoint: &str,
        alg: Algorithm,
    ) -> Response {
        let description = body
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        tracing::error!(
            error,
            error_description = description,
            client_id = %self.config.client_id,
            kid = %self.key.kid,
            alg = ?alg,
            token_endpoint,
            "the identity provider refused the registry's sign-in client: every sign-in fails until this is fixed. \
             The client assertion was signed for client_id {:?} with key id (kid) {:?}. Check [signin] client_id; \
             register the public JWKS printed by `doorstep-registry signin-jwks --config <file>` for the client; \
             and set [signin] key_id to the id the key is registered under at the provider",
            self.config.client_id,
            self.key.kid,
        );
        problem(
            ProblemKind::SignInMisconfigured,
            format!(
                "the identity provider does not accept this registry's sign-in client ({error}), so signing in cannot work until the registry's operator fixes its [signin] settings or the client's registration at the provider; trying again will not help (the registry's log names the key id that was sent)"
            ),
        )
    }

    /// The provider's userinfo for `access_token`, as the app gets it (see [`relay_userinfo`]).
    pub(super) async fn userinfo(&self, access_token: &str) -> Result<Response, Refusal> {
        let (content_type, body) = self.fetch_userinfo(access_token).await?;
        relay_userinfo(&content_type, body, self.decryption.as_ref())
    }

    /// The provider's userinfo for `access_token`, for the registry's own use (see
    /// [`read_userinfo`]).
    pub(super) async fn userinfo_for_registry(
        &self,
        access_token: &str,
    ) -> Result<Userinfo, Refusal> {
        let (content_type, body) = self.fetch_userinfo(access_token).await?;
        read_userinfo(&content_type, body, self.decryption.as_ref())
    }

    /// The userinfo endpoint's answer: its content type and body (at most [`MAX_USERINFO`]).
    async fn fetch_userinfo(&self, access_token: &str) -> Result<(String, Vec<u8>), Refusal> {
        let meta = self.metadata().await.map_err(Refusal::unavailable)?;
        let Some(url) = &meta.userinfo_endpoint else {
            return Err(Refusal::unavailable(
                "the identity provider publishes no userinfo_endpoint",
            ));
        };
        let mut response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header(header::ACCEPT, "application/jwt, application/json")
            .send()
            .await
            .map_err(|e| {
                Refusal::unavailable(format!(
                    "cannot reach the identity provider's userinfo endpoint ({url}): {}",
                    describe(&e)
                ))
            })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Refusal {
                kind: ProblemKind::Unauthenticated,
                detail: format!("the identity provider refused the access token at its userinfo endpoint (HTTP {status}); sign in again"),
            });
        }
        if !status.is_success() {
            return Err(Refusal::unavailable(format!(
                "the identity provider's userinfo endpoint ({url}) answered HTTP {status}"
            )));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            Refusal::unavailable(format!(
                "the identity provider's userinfo answer was cut off: {}",
                describe(&e)
            ))
        })? {
            if body.len() + chunk.len() > MAX_USERINFO {
                return Err(Refusal::unavailable(format!(
                    "the identity provider's userinfo answer is larger than {MAX_USERINFO} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((content_type, body))
    }

    /// The client assertion of RFC 7523 §3 as eSignet wants it.
    pub(super) fn assertion(&self, token_endpoint: &str, alg: Algorithm) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut jti = [0u8; 16];
        getrandom::getrandom(&mut jti)
            .map_err(|e| format!("no randomness for the assertion id: {e}"))?;
        let claims = json!({
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": token_endpoint,
            "iat": now,
            "exp": now + self.config.assertion_lifetime_seconds,
            "jti": hex::encode(jti),
        });
        let mut header = Header::new(alg);
        header.kid = Some(self.key.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &self.key.encoding)
            .map_err(|e| format!("cannot sign the client assertion: {e}"))
    }
}

/// What a code redemption for the registry itself gave.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub id_token: String,
    /// For the provider's userinfo, when the ID token lacks a claim the registry needs.
    pub access_token: Option<String>,
}

/// The provider's userinfo as the registry reads it for itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Userinfo {
    /// Plain JSON, read straight from the provider's endpoint over the registry's own
    /// connection (as the token response is).
    Claims(Map<String, Value>),
    /// The provider's signed JWT (decrypted from its JWE if it was encrypted), which the caller
    /// verifies with the provider's keys before reading anything from it.
    Signed(String),
}

/// The media type of a `Content-Type` header, without parameters, in lower case.
fn mime_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// [`Userinfo`] from the provider's answer: JSON as an object, a JWT as it is, a JWE decrypted
/// to the signed JWT inside it (never encrypted claims without the provider's signature).
pub(super) fn read_userinfo(
    content_type: &str,
    body: Vec<u8>,
    decryption: Option<&DecryptionKey>,
) -> Result<Userinfo, Refusal> {
    let mime = mime_of(content_type);
    match mime.as_str() {
        "application/json" => match serde_json::from_slice(&body) {
            Ok(Value::Object(claims)) => Ok(Userinfo::Claims(claims)),
            _ => Err(Refusal::unavailable(
                "the identity provider's userinfo is not a JSON object",
            )),
        },
        "application/jwt" => Ok(Userinfo::Signed(signed_jwt(&body, decryption)?)),
        other => Err(unexpected_type(other)),
    }
}

/// What the app gets for the provider's userinfo answer: JSON or a signed JWT unchanged, a JWE
/// decrypted to the signed JWT inside it. Never claims of the registry's own making, and never
/// decrypted claims that are not signed by the provider: the app trusts only the provider's
/// signature.
pub(super) fn relay_userinfo(
    content_type: &str,
    body: Vec<u8>,
    decryption: Option<&DecryptionKey>,
) -> Result<Response, Refusal> {
    let mime = mime_of(content_type);
    match mime.as_str() {
        "application/json" => Ok(typed_response("application/json", body)),
        "application/jwt" => Ok(typed_response(
            "application/jwt",
            signed_jwt(&body, decryption)?.into_bytes(),
        )),
        other => Err(unexpected_type(other)),
    }
}

/// The signed JWT an `application/jwt` userinfo answer carries: as it is, or decrypted from its
/// JWE (which must hold a signed JWT, [`DecryptionKey::decrypt`]).
fn signed_jwt(body: &[u8], decryption: Option<&DecryptionKey>) -> Result<String, Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Refusal::unavailable("the identity provider's userinfo JWT is not text"))?
        .trim();
    if !jwe::is_compact_jwe(text) {
        return Ok(text.to_owned());
    }
    let Some(key) = decryption else {
        return Err(Refusal::unavailable(
            "the identity provider encrypts userinfo for this client, but the registry has no key to decrypt it: its operator must set [signin] userinfo_decryption_key_path and register the registry's `use: enc` key with the provider",
        ));
    };
    String::from_utf8(key.decrypt(text)?)
        .map_err(|_| Refusal::unavailable("the identity provider's userinfo JWT is not text"))
}

fn unexpected_type(other: &str) -> Refusal {
    Refusal::unavailable(format!(
        "the identity provider's userinfo endpoint answered with content type {other:?}, not application/jwt or application/json"
    ))
}
