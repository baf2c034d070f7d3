//! The rules a step-up ID token must meet beyond its signature, issuer, audience and expiry
//! (checked with the bearer-token code, `auth::Authenticator::verify_id_token`). Pure: the
//! caller passes the claims, the challenge and the time, so each rule is tested alone.

use serde_json::{Map, Value};

/// Why a proof is refused: the `code` the problem's `errors` carry, and the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token was issued for another challenge (or another sign-in).
    Nonce,
    /// The provider vouched for a weaker authentication than the one asked for.
    WeakerAcr {
        found: Option<String>,
        required: Vec<String>,
    },
    /// The token does not say when the person authenticated.
    NoAuthTime,
    /// The person authenticated before this check started: an earlier session was reused.
    StaleAuthTime,
    /// The token is about someone else than the registrant the check is for.
    OtherPerson,
    /// The challenge was used already (a replayed token or a second proof).
    Replayed,
    /// The challenge ran out before the proof arrived.
    Expired,
    /// The token itself does not verify (signature, issuer, audience, expiry…).
    Token(String),
}

impl Refusal {
    /// A stable code for the reason, in the problem's `errors[].code`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Nonce => "nonce_mismatch",
            Refusal::WeakerAcr { .. } => "acr_too_weak",
            Refusal::NoAuthTime => "auth_time_missing",
            Refusal::StaleAuthTime => "auth_time_stale",
            Refusal::OtherPerson => "other_person",
            Refusal::Replayed => "replayed",
            Refusal::Expired => "challenge_expired",
            Refusal::Token(_) => "token_invalid",
        }
    }

    /// What went wrong and what to do, for the person or the agent.
    pub fn message(&self) -> String {
        match self {
            Refusal::Nonce => "The sign-in answered another liveness check, not this one. Start the check again.".into(),
            Refusal::WeakerAcr { found, required } => format!(
                "The identity provider confirmed a weaker way of signing in ({}) than this check needs ({}). Start the check again and sign in with {}.",
                found.as_deref().unwrap_or("none stated"),
                required.join(" or "),
                if required.iter().any(|r| r == super::ESIGNET_BIOMETRICS) { "your face or fingerprint" } else { "one of those" },
            ),
            Refusal::NoAuthTime => "The identity provider did not say when the person signed in, so the check cannot tell it was done now.".into(),
            Refusal::StaleAuthTime => "The sign-in happened before this check started (an earlier session was reused). Start the check again and sign in anew.".into(),
            Refusal::OtherPerson => "The person who signed in is not the person this check is for.".into(),
            Refusal::Replayed => "This liveness check was already answered; a proof counts once. Start a new check.".into(),
            Refusal::Expired => "This liveness check ran out of time. Start a new check.".into(),
            Refusal::Token(why) => format!("The identity provider's answer does not verify: {why}."),
        }
    }
}

/// What the check asks of the token.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    pub nonce: &'a str,
    /// Any one of these in `acr` passes; ignored when `fresh_login_only`.
    pub acr_values: &'a [String],
    pub fresh_login_only: bool,
    /// When the challenge was made (Unix seconds).
    pub started_at: i64,
    pub skew: i64,
}

/// What a passing token proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// The `acr` value that met the requirement (or the token's `acr` as given, when only a
    /// fresh login was required).
    pub acr: Option<String>,
    pub auth_time: i64,
}

/// Check nonce, acr and auth_time, in that order (the nonce first: a token of another attempt
/// says nothing about this one).
pub fn check(claims: &Map<String, Value>, expect: &Expectations<'_>) -> Result<Passed, Refusal> {
    // Compared in constant time: a nonce is a secret until the check is done.
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !constant_time_eq(nonce.as_bytes(), expect.nonce.as_bytes()) {
        return Err(Refusal::Nonce);
    }
    // `acr` may hold several space-separated values (eSignet).
    let acr = claims.get("acr").and_then(Value::as_str).map(str::to_owned);
    let matched = if expect.fresh_login_only {
        acr.clone()
    } else {
        let found = acr
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .find(|value| expect.acr_values.iter().any(|r| r == value))
            .map(str::to_owned);
        match found {
            Some(value) => Some(value),
            None => {
                return Err(Refusal::WeakerAcr {
                    found: acr,
                    required: expect.acr_values.to_vec(),
                })
            }
        }
    };
    let auth_time = match claims.get("auth_time") {
        Some(Value::Number(n)) => n.as_f64().map(|t| t as i64).ok_or(Refusal::NoAuthTime)?,
        _ => return Err(Refusal::NoAuthTime),
    };
    if auth_time < expect.started_at - expect.skew {
        return Err(Refusal::StaleAuthTime);
    }
    Ok(Passed {
        acr: matched,
        auth_time,
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the token names the registrant. When it carries the person's ID number (the claim
/// named in `[auth] individual_id_claim`), that number must be one the registrant holds as their
/// ID of the registry's type, whatever else is true; without one (eSignet's ID token carries no
/// personal claims), the token's issuer and subject must be linked to that registrant already
/// (the person signed in to the registry before, and was linked by their number then).
pub fn same_person(
    token_number: Option<&str>,
    registrant_numbers: &[String],
    linked_to_registrant: bool,
) -> bool {
    match token_number.filter(|n| !n.is_empty()) {
        Some(number) => registrant_numbers.iter().any(|r| r == number),
        None => linked_to_registrant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_domain::liveness::{liveness_due, next_due_date};
    use serde_json::json;
    use time::macros::{date, datetime};

    const BIO: &str = "mosip:idp:acr:biometrics";
    const PWD: &str = "mosip:idp:acr:password";

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn expect(required: &[String], fresh: bool) -> Expectations<'_> {
        Expectations {
            nonce: "n-1",
            acr_values: required,
            fresh_login_only: fresh,
            started_at: 1_000_000,
            skew: 60,
        }
    }

    #[test]
    fn a_fresh_biometric_login_with_the_nonce_passes() {
        let required = vec![BIO.to_string()];
        let ok = check(
            &claims(json!({"nonce": "n-1", "acr": format!("{PWD} {BIO}"), "auth_time": 1_000_010})),
            &expect(&required, false),
        );
        assert_eq!(
            ok,
            Ok(Passed {
                acr: Some(BIO.into()),
                auth_time: 1_000_010
            })
        );
    }

    #[test]
    fn each_rule_refuses_with_its_own_reason() {
        let required = vec![BIO.to_string()];
        let e = expect(&required, false);
        let cases = [
            (
                json!({"nonce": "n-2", "acr": BIO, "auth_time": 1_000_010}),
                "nonce_mismatch",
            ),
            (
                json!({"acr": BIO, "auth_time": 1_000_010}),
                "nonce_mismatch",
            ),
            (
                json!({"nonce": "n-1", "acr": PWD, "auth_time": 1_000_010}),
                "acr_too_weak",
            ),
            (
                json!({"nonce": "n-1", "auth_time": 1_000_010}),
                "acr_too_weak",
            ),
            // A prefix of a required value is not that value.
            (
                json!({"nonce": "n-1", "acr": "mosip:idp:acr:bio", "auth_time": 1_000_010}),
                "acr_too_weak",
            ),
            (json!({"nonce": "n-1", "acr": BIO}), "auth_time_missing"),
            (
                json!({"nonce": "n-1", "acr": BIO, "auth_time": "1000010"}),
                "auth_time_missing",
            ),
            (
                json!({"nonce": "n-1", "acr": BIO, "auth_time": 999_939}),
                "auth_time_stale",
            ),
        ];
        for (c, code) in cases {
            assert_eq!(
                check(&claims(c.clone()), &e).unwrap_err().code(),
                code,
                "{c}"
            );
        }
        // Within the skew: a clock a little behind the registry's still counts.
        assert!(check(
            &claims(json!({"nonce": "n-1", "acr": BIO, "auth_time": 999_940})),
            &e
        )
        .is_ok());
    }

    #[test]
    fn a_provider_without_acr_needs_only_a_fresh_login() {
        let none: Vec<String> = Vec::new();
        let e = expect(&none, true);
        assert_eq!(
            check(&claims(json!({"nonce": "n-1", "auth_time": 1_000_000})), &e),
            Ok(Passed {
                acr: None,
                auth_time: 1_000_000
            })
        );
        assert_eq!(
            check(&claims(json!({"nonce": "n-1", "auth_time": 900_000})), &e).unwrap_err(),
            Refusal::StaleAuthTime
        );
    }

    #[test]
    fn the_weaker_acr_message_names_what_was_found_and_needed() {
        let message = Refusal::WeakerAcr {
            found: Some(PWD.into()),
            required: vec![BIO.into()],
        }
        .message();
        assert!(message.contains(PWD) && message.contains(BIO), "{message}");
    }

    #[test]
    fn the_person_is_matched_by_number_or_link() {
        let numbers = vec!["4918273645".to_string()];
        assert!(same_person(Some("4918273645"), &numbers, false));
        assert!(same_person(None, &numbers, true));
        assert!(!same_person(Some("1111111111"), &numbers, false));
        // A number in the token that is not the registrant's outweighs a linked subject.
        assert!(!same_person(Some("1111111111"), &numbers, true));
        assert!(!same_person(None, &numbers, false));
        assert!(!same_person(Some(""), &[String::new()], false));
    }

    /// The due day a passed check gives, and whether a person is due, for a table of intervals
    /// and days (the registry's default interval fills `next_due` in `write::prepare`).
    #[test]
    fn due_dates() {
        let done = datetime!(2026-03-10 09:30 +03:00);
        for (interval, due) in [
            (0, date!(2026 - 03 - 10)),
            (1, date!(2026 - 03 - 11)),
            (30, date!(2026 - 04 - 09)),
            (90, date!(2026 - 06 - 08)),
            (365, date!(2027 - 03 - 10)),
        ] {
            assert_eq!(next_due_date(done, interval), Some(due), "{interval} days");
            assert!(!liveness_due(
                Some(done),
                interval,
                due.previous_day().unwrap()
            ));
            assert!(liveness_due(Some(done), interval, due));
        }
        // Counted on the calendar of the offset the check was recorded in.
        let late = datetime!(2026-12-31 23:30 +03:00);
        assert_eq!(next_due_date(late, 365), Some(date!(2027 - 12 - 31)));
        assert!(liveness_due(None, 365, date!(2026 - 01 - 01)));
    }
}
