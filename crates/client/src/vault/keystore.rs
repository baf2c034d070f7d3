//! Where data keys are kept so the app opens without a passphrase: the OS keyring.
//!
//! On Linux that is the Secret Service (GNOME Keyring, KWallet) over D-Bus; on macOS the
//! Keychain; on Windows the Credential Manager. The keyring is a convenience, never the only
//! copy: every data key is also wrapped by the passphrase (see [`super::keyslot`]), so a machine
//! without a keyring, or a keyring that was reset, still opens the vault offline.

use zeroize::Zeroizing;

use super::keys::SecretKey;

/// Service name under which Doorstep's keyring entries are stored.
pub const KEYRING_SERVICE: &str = "org.doorstep.client";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// No usable keyring on this machine (no Secret Service, locked, or denied).
    #[error("the system keyring is not available: {0}")]
    Unavailable(String),
    /// The keyring answered with something that is not one of our keys.
    #[error("the system keyring holds a damaged Doorstep key")]
    Damaged,
}

/// Somewhere to keep data keys between runs. Keys are addressed by partition id.
pub trait KeyStore: Send + Sync {
    /// The key for `partition`, or `None` if none is stored.
    fn load(&self, partition: &str) -> Result<Option<SecretKey>, KeyStoreError>;
    fn store(&self, partition: &str, key: &SecretKey) -> Result<(), KeyStoreError>;
    /// Forget the key; not an error if there was none.
    fn remove(&self, partition: &str) -> Result<(), KeyStoreError>;
}

/// Small secrets other than data keys, each under its own account name: the signed-in session
/// ("stay signed in", see `crate::signin::SessionStore`) lives here. Same keyring, same service
/// name, so wiping Doorstep's keyring entries wipes these too.
pub trait SecretStore: Send + Sync {
    /// The secret stored under `account`, or `None` if there is none.
    fn load_secret(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyStoreError>;
    fn store_secret(&self, account: &str, secret: &[u8]) -> Result<(), KeyStoreError>;
    /// Forget the secret; not an error if there was none.
    fn remove_secret(&self, account: &str) -> Result<(), KeyStoreError>;
}

/// The operating system's keyring.
pub struct OsKeyring {
    service: String,
}

impl OsKeyring {
    /// Doorstep's entries in the OS keyring.
    ///
    /// Fails if the keyring crate was built without a persistent backend: keyring 3 then falls
    /// back to an in-memory mock that "works" and forgets everything at exit, which would make
    /// the app ask for the passphrase on every start while claiming to remember it.
    pub fn new() -> Result<Self, KeyStoreError> {
        Self::with_service(KEYRING_SERVICE)
    }

    /// Entries under another service name (tests use this to stay apart from real entries).
    pub fn with_service(service: &str) -> Result<Self, KeyStoreError> {
        use keyring::credential::CredentialPersistence;
        let persistence = keyring::default::default_credential_builder().persistence();
        if matches!(
            persistence,
            CredentialPersistence::EntryOnly | CredentialPersistence::ProcessOnly
        ) {
            return Err(KeyStoreError::Unavailable(
                "this build has no persistent keyring backend (only the in-memory mock)".into(),
            ));
        }
        Ok(OsKeyring {
            service: service.to_owned(),
        })
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeyStoreError> {
        keyring::Entry::new(&self.service, account).map_err(unavailable)
    }
}

fn data_key_account(partition: &str) -> String {
    format!("vault-data-key:{partition}")
}

fn unavailable(e: keyring::Error) -> KeyStoreError {
    KeyStoreError::Unavailable(e.to_string())
}

impl SecretStore for OsKeyring {
    fn load_secret(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyStoreError> {
        match self.entry(account)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn store_secret(&self, account: &str, secret: &[u8]) -> Result<(), KeyStoreError> {
        self.entry(account)?.set_secret(secret).map_err(unavailable)
    }

    fn remove_secret(&self, account: &str) -> Result<(), KeyStoreError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

impl KeyStore for OsKeyring {
    fn load(&self, partition: &str) -> Result<Option<SecretKey>, KeyStoreError> {
        match self.load_secret(&data_key_account(partition))? {
            Some(bytes) => SecretKey::from_slice(&bytes)
                .map(Some)
                .ok_or(KeyStoreError::Damaged),
            None => Ok(None),
        }
    }

    fn store(&self, partition: &str, key: &SecretKey) -> Result<(), KeyStoreError> {
        self.store_secret(&data_key_account(partition), key.as_bytes())
    }

    fn remove(&self, partition: &str) -> Result<(), KeyStoreError> {
        self.remove_secret(&data_key_account(partition))
    }
}

/// For machines without a keyring (and kiosks, which must not remember anyone): stores nothing,
/// so every unlock needs the passphrase.
pub struct NoKeyStore;

impl KeyStore for NoKeyStore {
    fn load(&self, _partition: &str) -> Result<Option<SecretKey>, KeyStoreError> {
        Ok(None)
    }

    fn store(&self, _partition: &str, _key: &SecretKey) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(
            "this device does not keep keys in a keyring".into(),
        ))
    }

    fn remove(&self, _partition: &str) -> Result<(), KeyStoreError> {
        Ok(())
    }
}

impl SecretStore for NoKeyStore {
    fn load_secret(&self, _account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyStoreError> {
        Ok(None)
    }

    fn store_secret(&self, _account: &str, _secret: &[u8]) -> Result<(), KeyStoreError> {
        Err(KeyStoreError::Unavailable(
            "this device does not keep secrets in a keyring".into(),
        ))
    }

    fn remove_secret(&self, _account: &str) -> Result<(), KeyStoreError> {
        Ok(())
    }
}
