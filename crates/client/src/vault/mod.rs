//! The encrypted offline vault: everything a person types or captures, kept on the device.
//!
//! Layout under the vault root (the app's data folder):
//! ```text
//! partitions/<partition id>/keyslot.json   data key wrapped by the passphrase (Argon2id)
//!                           data.db        SQLCipher database (records, outbox, drafts, documents, audit)
//!                           docs/<doc id>  encrypted document files
//! ```
//! A **partition** is one person's data (a citizen at home has one; a field agent's laptop or a
//! kiosk has one per person served). Each has its own random data key, so wiping one person
//! destroys their key and files and touches nobody else's. Partition ids are random UUIDs: no
//! name, number or other personal data appears in any path.
//!
//! Unlocking: with the key from the OS keyring ([`Vault::unlock_with_keystore`]) or with the
//! passphrase ([`Vault::unlock_with_passphrase`]). A **lost passphrase** cannot be recovered —
//! by design nobody, including Doorstep, can decrypt the data without it (or the keyring copy).
//! The person signs in again, the vault is wiped and re-created, and their registry record is
//! downloaded again; changes that had not been synced are lost. The UI must say so plainly.

pub(crate) mod atomic;
mod audit;
mod db;
pub mod documents;
pub mod keys;
pub mod keyslot;
pub mod keystore;
pub mod migrations;
mod partition;
mod sync_store;
mod transitions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

pub use audit::{AuditReport, MadeChange};
pub use documents::{DocumentReader, MAX_DOCUMENT_BYTES};
pub use keys::{KdfParams, SecretKey};
pub use keyslot::KeySlot;
pub use keystore::{KeyStore, KeyStoreError, NoKeyStore, OsKeyring, SecretStore};
pub use partition::{Change, DocumentInfo, NewDocument, Op, OutboxEntry, Partition, StoredRecord};
pub use sync_store::{
    Choice, KindCount, Notice, PendingUpload, PushTally, Rejection, StoredConflict, UnsentSummary,
    POSSIBLE_DUPLICATE,
};
pub use transitions::PendingTransition;

/// What the app must tell a person when they choose a passphrase (and again if they forget it).
pub const LOST_PASSPHRASE_NOTICE: &str =
    "Nobody can recover this passphrase, not even the registry office. \
If you forget it, sign in again with your ID: your registered details will be downloaded again, \
but anything you changed on this device and had not yet sent will be lost.";

const PARTITIONS_DIR: &str = "partitions";
const KEYSLOT_FILE: &str = "keyslot.json";
/// Shortest passphrase or PIN accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 6;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the passphrase is not right ({failed_attempts} wrong in a row){}", retry_hint(*retry_after))]
    WrongPassphrase {
        failed_attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("too many wrong passphrases; try again in {} seconds", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: Duration },
    #[error("the key does not open this vault")]
    WrongKey,
    #[error("the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters")]
    PassphraseTooShort,
    #[error("no key for this vault in the system keyring; unlock it with the passphrase")]
    NotInKeyStore,
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error("the vault was written by a newer Doorstep (schema {found}, this version knows {known}); update the app")]
    SchemaTooNew { found: u32, known: u32 },
    /// An update's schema upgrade failed; the whole upgrade was rolled back (migrations.rs).
    #[error("this version could not bring the data up to date (step {step} failed: {reason}); nothing was changed, and the version that wrote it (schema {found}) can still open it")]
    MigrationFailed {
        found: u32,
        step: u32,
        reason: String,
    },
    #[error("no partition {0} on this device")]
    UnknownPartition(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    /// A domain record broke its rules; each field error says how to fix it.
    #[error("{0}")]
    Invalid(doorstep_domain::validate::ValidationErrors),
    #[error("a document can be at most {} MB", limit / 1_000_000)]
    DocumentTooLarge { limit: u64 },
    #[error("the audit log is broken at entry {seq}: {reason}")]
    AuditBroken { seq: i64, reason: String },
    #[error("vault data is damaged: {0}")]
    Corrupt(String),
    #[error("cannot open the vault database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("cannot {action} ({path}): {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; wait {} seconds before trying again", d.as_secs().max(1)))
        .unwrap_or_default()
}

impl VaultError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        VaultError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

impl From<keys::KeyError> for VaultError {
    fn from(e: keys::KeyError) -> Self {
        match e {
            keys::KeyError::Mismatch => VaultError::WrongKey,
            keys::KeyError::BadParams(p) => {
                VaultError::Corrupt(format!("key-derivation parameters: {p}"))
            }
        }
    }
}

/// How a new partition's key was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringOutcome {
    /// Stored in the OS keyring: later unlocks need no passphrase.
    Stored,
    /// The keyring is unavailable: every unlock will need the passphrase.
    PassphraseOnly,
}

/// The vault root: the set of partitions on this device.
pub struct Vault {
    root: PathBuf,
    keystore: Arc<dyn KeyStore>,
}

impl Vault {
    /// Open (creating if needed) the vault in `root`.
    pub fn open(root: &Path, keystore: Arc<dyn KeyStore>) -> Result<Self, VaultError> {
        let partitions = root.join(PARTITIONS_DIR);
        atomic::create_private_dir(&partitions)
            .map_err(|e| VaultError::io("create the vault folder", &partitions, e))?;
        atomic::remove_leftover_temps(&partitions)
            .map_err(|e| VaultError::io("clean the vault folder", &partitions, e))?;
        Ok(Vault {
            root: root.to_owned(),
            keystore,
        })
    }

    fn partition_dir(&self, id: &str) -> Result<PathBuf, VaultError> {
        // Ids are UUIDs; anything else (say "../x") never reaches the file system.
        let uuid: Uuid = id
            .parse()
            .map_err(|_| VaultError::UnknownPartition(id.to_owned()))?;
        Ok(self.root.join(PARTITIONS_DIR).join(uuid.to_string()))
    }

    /// Ids of the partitions on this device that have a key slot (i.e. were fully created).
    pub fn partitions(&self) -> Result<Vec<String>, VaultError> {
        let dir = self.root.join(PARTITIONS_DIR);
        let mut ids = Vec::new();
        for entry in
            std::fs::read_dir(&dir).map_err(|e| VaultError::io("list partitions", &dir, e))?
        {
            let entry = entry.map_err(|e| VaultError::io("list partitions", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.parse::<Uuid>().is_ok() && entry.path().join(KEYSLOT_FILE).is_file() {
                ids.push(name);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Create a partition protected by `passphrase`, and remember its key in the keyring when
    /// there is one.
    pub fn create_partition(
        &self,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(Partition, KeyringOutcome), VaultError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::PassphraseTooShort);
        }
        let id = Uuid::now_v7().to_string();
        let dir = self.partition_dir(&id)?;
        atomic::create_private_dir(&dir)
            .map_err(|e| VaultError::io("create a partition", &dir, e))?;
        let key = SecretKey::generate();
        let created = (|| {
            let partition = Partition::open(&id, &dir, &key)?;
            // The key slot is written last: a partition without one was never finished, and is
            // not listed.
            KeySlot::seal(&id, &key, passphrase, kdf)?.save(&dir.join(KEYSLOT_FILE))?;
            Ok::<_, VaultError>(partition)
        })();
        let partition = match created {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let outcome = match self.keystore.store(&id, &key) {
            Ok(()) => KeyringOutcome::Stored,
            Err(_) => KeyringOutcome::PassphraseOnly,
        };
        Ok((partition, outcome))
    }

    /// Open a partition with the key kept in the keyring.
    pub fn unlock_with_keystore(&self, id: &str) -> Result<Partition, VaultError> {
        let dir = self.existing_partition_dir(id)?;
        let key = self.keystore.load(id)?.ok_or(VaultError::NotInKeyStore)?;
        Partition::open(id, &dir, &key)
    }

    /// Open a partition with the passphrase. Wrong answers are counted and slowed down.
    pub fn unlock_with_passphrase(
        &self,
        id: &str,
        passphrase: &str,
    ) -> Result<Partition, VaultError> {
        let key = self.key_from_passphrase(id, passphrase)?;
        Partition::open(id, &self.existing_partition_dir(id)?, &key)
    }

    fn key_from_passphrase(&self, id: &str, passphrase: &str) -> Result<SecretKey, VaultError> {
        let slot_path = self.existing_partition_dir(id)?.join(KEYSLOT_FILE);
        let mut slot = KeySlot::load(&slot_path)?;
        let before = slot.failed_attempts();
        let result = slot.open(passphrase, OffsetDateTime::now_utc());
        if slot.failed_attempts() != before {
            slot.save(&slot_path)?;
        }
        result
    }

    /// Re-wrap the data key under a new passphrase. Nothing is re-encrypted.
    pub fn change_passphrase(&self, id: &str, old: &str, new: &str) -> Result<(), VaultError> {
        if new.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::PassphraseTooShort);
        }
        let key = self.key_from_passphrase(id, old)?;
        let slot_path = self.existing_partition_dir(id)?.join(KEYSLOT_FILE);
        let kdf = KeySlot::load(&slot_path)?.kdf();
        KeySlot::seal(id, &key, new, kdf)?.save(&slot_path)
    }

    /// Crypto-shred one person's data: forget the key everywhere, then delete the files. Other
    /// partitions are untouched.
    pub fn wipe(&self, id: &str) -> Result<(), VaultError> {
        let dir = self.existing_partition_dir(id)?;
        // Key copies first: once they are gone the rest is unreadable even if deletion is
        // interrupted or the file system keeps old blocks.
        self.keystore.remove(id)?;
        let slot = dir.join(KEYSLOT_FILE);
        std::fs::remove_file(&slot).map_err(|e| VaultError::io("remove the key slot", &slot, e))?;
        atomic::sync_dir(&dir).map_err(|e| VaultError::io("remove the key slot", &dir, e))?;
        std::fs::remove_dir_all(&dir)
            .map_err(|e| VaultError::io("remove the partition", &dir, e))?;
        atomic::sync_dir(&self.root.join(PARTITIONS_DIR))
            .map_err(|e| VaultError::io("remove the partition", &dir, e))
    }

    fn existing_partition_dir(&self, id: &str) -> Result<PathBuf, VaultError> {
        let dir = self.partition_dir(id)?;
        if dir.join(KEYSLOT_FILE).is_file() {
            Ok(dir)
        } else {
            Err(VaultError::UnknownPartition(id.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests;
