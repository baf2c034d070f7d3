//! The signed-in session: who the person is (from the verified ID token and userinfo) and the
//! access token for the registry.
//!
//! Tokens never reach disk in plain text. A session lives in memory; on a personal device the
//! person may choose "stay signed in", and then it is also kept in the OS keyring (the same
//! keyring, service and abstraction as the vault's data keys), never in a file. There is no
//! refresh token: when the access token expires, the person signs in again.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::vault::{KeyStoreError, SecretStore};

/// Keyring account under which a remembered session is kept.
pub const SESSION_ACCOUNT: &str = "signin-session";

/// An access token. Wiped from memory when dropped; `Debug` never shows it.
#[derive(Clone)]
pub struct AccessToken(Zeroizing<String>);

impl AccessToken {
    pub fn new(token: Zeroizing<String>) -> Self {
        AccessToken(token)
    }

    /// The token itself, for an `Authorization: Bearer` header. Do not log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Who signed in, as the provider vouched for it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub issuer: String,
    /// The provider's subject identifier (eSignet: pairwise and opaque, per client).
    pub subject: String,
    /// The person's national ID or VID, as released by consent (eSignet `individual_id`).
    pub individual_id: Option<String>,
    pub name: Option<String>,
    pub birthdate: Option<String>,
    pub phone_number: Option<String>,
    /// How the person authenticated (space-separated `acr` values).
    pub acr: Option<String>,
    /// When the person authenticated (Unix seconds).
    pub auth_time: Option<i64>,
}

impl std::fmt::Debug for Identity {
    // Personal data stays out of logs: only the non-personal fields are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("issuer", &self.issuer)
            .field("acr", &self.acr)
            .field("auth_time", &self.auth_time)
            .finish_non_exhaustive()
    }
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    access_token: AccessToken,
    /// When the access token stops working (Unix seconds).
    pub expires_at: i64,
}

impl Session {
    pub fn new(identity: Identity, access_token: AccessToken, expires_at: i64) -> Self {
        Session {
            identity,
            access_token,
            expires_at,
        }
    }

    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// Expired at `now` (Unix seconds), with no grace: a token that expires mid-request fails.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }
}

/// The form kept in the keyring.
#[derive(Serialize, Deserialize)]
struct Stored {
    identity: Identity,
    access_token: Zeroizing<String>,
    expires_at: i64,
}

/// Holds the current session; optionally remembers it in the keyring across restarts.
pub struct SessionStore {
    keyring: Arc<dyn SecretStore>,
    account: String,
    current: Mutex<Option<Session>>,
}

impl SessionStore {
    /// A store that remembers sessions in `keyring` under [`SESSION_ACCOUNT`]. Kiosks pass
    /// `NoKeyStore`, which remembers nothing.
    pub fn new(keyring: Arc<dyn SecretStore>) -> Self {
        Self::with_account(keyring, SESSION_ACCOUNT)
    }

    /// As [`SessionStore::new`], under another account name (tests; several profiles).
    pub fn with_account(keyring: Arc<dyn SecretStore>, account: &str) -> Self {
        SessionStore {
            keyring,
            account: account.to_owned(),
            current: Mutex::new(None),
        }
    }

    /// Make `session` current. With `remember`, also keep it in the keyring ("stay signed in");
    /// without, forget any remembered one, so "not on this device" really means not. The
    /// session is current even when the keyring then fails (the error says it was not kept).
    pub fn set(&self, session: Session, remember: bool) -> Result<(), KeyStoreError> {
        *self.lock() = Some(session.clone());
        if remember {
            let stored = Stored {
                identity: session.identity.clone(),
                access_token: session.access_token.0.clone(),
                expires_at: session.expires_at,
            };
            let bytes = Zeroizing::new(serde_json::to_vec(&stored).expect("session serializes"));
            self.keyring.store_secret(&self.account, &bytes)?;
        } else {
            self.keyring.remove_secret(&self.account)?;
        }
        Ok(())
    }

    /// The current session if it has not expired at `now` (Unix seconds). An expired session is
    /// dropped from memory and the keyring.
    pub fn current(&self, now: i64) -> Result<Option<Session>, KeyStoreError> {
        let mut current = self.lock();
        if current.as_ref().is_some_and(|s| s.is_expired(now)) {
            *current = None;
            self.keyring.remove_secret(&self.account)?;
        }
        Ok(current.clone())
    }

    /// On start: bring back a remembered session, unless it has expired (then it is removed).
    /// A damaged entry is removed too, and the person simply signs in again.
    pub fn restore(&self, now: i64) -> Result<Option<Session>, KeyStoreError> {
        let Some(bytes) = self.keyring.load_secret(&self.account)? else {
            return Ok(None);
        };
        let Ok(stored) = serde_json::from_slice::<Stored>(&bytes) else {
            self.keyring.remove_secret(&self.account)?;
            return Ok(None);
        };
        if now >= stored.expires_at {
            self.keyring.remove_secret(&self.account)?;
            return Ok(None);
        }
        let session = Session::new(
            stored.identity,
            AccessToken(stored.access_token),
            stored.expires_at,
        );
        *self.lock() = Some(session.clone());
        Ok(Some(session))
    }

    /// Sign out: forget the session in memory and in the keyring.
    pub fn sign_out(&self) -> Result<(), KeyStoreError> {
        *self.lock() = None;
        self.keyring.remove_secret(&self.account)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Default)]
    struct MemoryKeyring(Mutex<HashMap<String, Vec<u8>>>);

    impl SecretStore for MemoryKeyring {
        fn load_secret(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyStoreError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get(account)
                .cloned()
                .map(Zeroizing::new))
        }
        fn store_secret(&self, account: &str, secret: &[u8]) -> Result<(), KeyStoreError> {
            self.0
                .lock()
                .unwrap()
                .insert(account.into(), secret.to_vec());
            Ok(())
        }
        fn remove_secret(&self, account: &str) -> Result<(), KeyStoreError> {
            self.0.lock().unwrap().remove(account);
            Ok(())
        }
    }

    fn session(expires_at: i64) -> Session {
        Session::new(
            Identity {
                issuer: "https://id.example.org".into(),
                subject: "s-1".into(),
                individual_id: Some("4918273645".into()),
                name: Some("Amina Njoroge".into()),
                birthdate: None,
                phone_number: None,
                acr: None,
                auth_time: None,
            },
            AccessToken::new(Zeroizing::new("secret-access-token".into())),
            expires_at,
        )
    }

    #[test]
    fn debug_output_hides_the_token_and_personal_data() {
        let text = format!("{:?}", session(100));
        assert!(!text.contains("secret-access-token"), "{text}");
        assert!(!text.contains("Amina"), "{text}");
        assert!(!text.contains("4918273645"), "{text}");
    }

    #[test]
    fn remembered_sessions_come_back_until_they_expire() {
        let keyring = Arc::new(MemoryKeyring::default());
        let store = SessionStore::new(keyring.clone());
        store.set(session(1_000), true).unwrap();
        let again = SessionStore::new(keyring.clone());
        let restored = again.restore(500).unwrap().unwrap();
        assert_eq!(restored.access_token().secret(), "secret-access-token");
        assert_eq!(
            restored.identity.individual_id.as_deref(),
            Some("4918273645")
        );
        assert!(again.current(1_000).unwrap().is_none());
        assert!(
            keyring.0.lock().unwrap().is_empty(),
            "expired session removed"
        );
        assert!(SessionStore::new(keyring).restore(500).unwrap().is_none());
    }

    #[test]
    fn not_remembering_forgets_an_older_remembered_session() {
        let keyring = Arc::new(MemoryKeyring::default());
        let store = SessionStore::new(keyring.clone());
        store.set(session(1_000), true).unwrap();
        store.set(session(1_000), false).unwrap();
        assert!(keyring.0.lock().unwrap().is_empty());
        assert!(store.current(10).unwrap().is_some());
        store.sign_out().unwrap();
        assert!(store.current(10).unwrap().is_none());
    }

    #[test]
    fn a_damaged_entry_means_signed_out() {
        let keyring = Arc::new(MemoryKeyring::default());
        keyring.store_secret(SESSION_ACCOUNT, b"not json").unwrap();
        assert!(SessionStore::new(keyring.clone())
            .restore(0)
            .unwrap()
            .is_none());
        assert!(keyring.0.lock().unwrap().is_empty());
    }
}
