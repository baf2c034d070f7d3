//! `Principal` as an axum extractor, so a handler that takes `principal: Principal` cannot run
//! for an unauthenticated caller.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::Response;

use super::{unauthenticated_response, AuthError, Authenticator, Principal};

impl<S> FromRequestParts<S> for Principal
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    /// problem+json with `WWW-Authenticate` (401), or 503 when the provider's keys are out of reach.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A middleware or an earlier extractor may have verified this request already.
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let reject = |e: AuthError| unauthenticated_response(&e);
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let header = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(value.to_str().map_err(|_| {
                reject(AuthError::Malformed(
                    "the Authorization header is not plain ASCII".into(),
                ))
            })?),
            (Some(_), Some(_)) => {
                return Err(reject(AuthError::Malformed(
                    "the request has several Authorization headers; send exactly one".into(),
                )))
            }
        };
        let principal = Authenticator::from_ref(state)
            .authenticate(header)
            .await
            .map_err(reject)?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
