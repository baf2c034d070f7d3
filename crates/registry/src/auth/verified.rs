//! Tokens already verified, remembered until they expire.
//!
//! A client sends the same access token with every request of a session. Checking its ES256 or
//! RS256 signature costs far more than the rest of a small write's request handling (it was the
//! largest item in the registry bench's CPU profile), so the principal a token proved is kept
//! and the next request with exactly that token is answered from here.
//!
//! What keeps this as strict as checking every time:
//! - only tokens that passed every check are remembered, keyed by the SHA-256 of the whole
//!   token, so a token differing in any byte (signature included) is verified afresh;
//! - an entry ends at the token's `exp` (without the clock-skew leeway verification allows), so
//!   an expired token is never accepted from here;
//! - an entry answers only while the provider's key set is the one it was verified with (the
//!   key cache's generation): once a refresh withdraws or replaces a key, every token is checked
//!   again, so a token signed by a withdrawn key is refused as before;
//! - an entry lives at most [`MAX_REMEMBER`] seconds whatever happens;
//! - at most [`CAPACITY`] entries: when full, expired ones go first, then everything (a burst of
//!   new sign-ins costs verifications, never unbounded memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::principal::Identity;

/// Longest time a verified token is remembered, in seconds.
pub const MAX_REMEMBER: u64 = 300;
/// Most tokens remembered at once.
pub const CAPACITY: usize = 10_000;

type TokenHash = [u8; 32];

struct Entry {
    identity: Identity,
    /// The provider (its index) and its key set's generation the token was verified with;
    /// `None` for the development key.
    keys: Option<(usize, u64)>,
    /// Unix second from which the entry no longer answers.
    until: u64,
}

#[derive(Default)]
pub(super) struct VerifiedTokens {
    entries: Mutex<HashMap<TokenHash, Entry>>,
}

impl VerifiedTokens {
    /// The identity `token` proved, if it was verified, has not expired since and its
    /// provider's key set is still the generation it was verified with (`keys[provider]`).
    pub(super) fn get(&self, token: &str, keys: &[u64]) -> Option<Identity> {
        self.get_at(token, keys, now())
    }

    /// Remember that `token`, whose `exp` claim is `expires` (Unix seconds), proved `identity`
    /// with provider `keys.0`'s key set generation `keys.1` (`None`: the development key).
    pub(super) fn insert(
        &self,
        token: &str,
        keys: Option<(usize, u64)>,
        expires: u64,
        identity: Identity,
    ) {
        self.insert_at(token, keys, expires, identity, now())
    }

    fn get_at(&self, token: &str, keys: &[u64], now: u64) -> Option<Identity> {
        let key = hash(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some(entry)
                if now < entry.until && entry.keys.is_none_or(|(p, k)| keys.get(p) == Some(&k)) =>
            {
                Some(entry.identity.clone())
            }
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    fn insert_at(
        &self,
        token: &str,
        keys: Option<(usize, u64)>,
        expires: u64,
        identity: Identity,
        now: u64,
    ) {
        let until = expires.min(now.saturating_add(MAX_REMEMBER));
        if until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now < e.until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            hash(token),
            Entry {
                identity,
                keys,
                until,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::principal::Claimed;

    fn someone(subject: &str) -> Identity {
        Identity {
            issuer: "https://idp.example".into(),
            subject: subject.into(),
            verified_email: None,
            claimed: Claimed::Absent,
            claimed_area: None,
            individual_id: None,
            name: None,
        }
    }

    #[test]
    fn a_token_answers_until_its_expiry_and_no_longer() {
        let cache = VerifiedTokens::default();
        cache.insert_at("a.b.c", Some((0, 0)), 1_000, someone("alice"), 900);
        assert_eq!(cache.get_at("a.b.c", &[0], 999), Some(someone("alice")));
        assert_eq!(cache.get_at("a.b.c", &[0], 1_000), None);
        // An expired entry is dropped when found.
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn only_the_exact_token_answers() {
        let cache = VerifiedTokens::default();
        cache.insert_at("a.b.c", Some((0, 0)), 1_000, someone("alice"), 900);
        assert_eq!(cache.get_at("a.b.d", &[0], 901), None);
        assert_eq!(cache.get_at("a.b.c ", &[0], 901), None);
    }

    #[test]
    fn a_new_key_set_means_checking_again() {
        let cache = VerifiedTokens::default();
        cache.insert_at("a.b.c", Some((0, 0)), 1_000, someone("alice"), 900);
        assert_eq!(cache.get_at("a.b.c", &[1], 901), None);
        // Another provider's keys rotating does not matter.
        cache.insert_at("p2", Some((1, 5)), 1_000, someone("carol"), 900);
        assert!(cache.get_at("p2", &[9, 5], 901).is_some());
        assert!(cache.get_at("p2", &[9, 6], 901).is_none());
        // The development key does not rotate.
        cache.insert_at("dev", None, 1_000, someone("bob"), 900);
        assert_eq!(cache.get_at("dev", &[1], 901), Some(someone("bob")));
    }

    #[test]
    fn a_long_lived_token_is_remembered_for_at_most_the_limit() {
        let cache = VerifiedTokens::default();
        cache.insert_at("t", Some((0, 0)), 1_000_000, someone("alice"), 100);
        assert!(cache.get_at("t", &[0], 100 + MAX_REMEMBER - 1).is_some());
        assert!(cache.get_at("t", &[0], 100 + MAX_REMEMBER).is_none());
    }

    #[test]
    fn an_already_expired_token_is_not_remembered() {
        let cache = VerifiedTokens::default();
        cache.insert_at("t", Some((0, 0)), 100, someone("alice"), 100);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            // Half of them expire at 150.
            let expires = if i % 2 == 0 { 150 } else { 10_000 };
            cache.insert_at(&format!("t{i}"), Some((0, 0)), expires, someone("x"), 100);
        }
        assert_eq!(cache.len(), CAPACITY);
        // Full at 200: the expired half goes, the new one comes in.
        cache.insert_at("new", Some((0, 0)), 10_000, someone("y"), 200);
        assert_eq!(cache.len(), CAPACITY / 2 + 1);
        assert!(cache.get_at("new", &[0], 201).is_some());
        assert!(cache.get_at("t1", &[0], 201).is_some());
    }
}
