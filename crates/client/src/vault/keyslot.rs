//! The passphrase key slot: one small JSON file per partition holding the data key wrapped by
//! the passphrase-derived key, the Argon2id parameters, and the failed-attempt counter.
//!
//! Nothing in it is secret without the passphrase. Guessing is slowed twice: by Argon2id's cost
//! per attempt and by a growing wait after [`FREE_ATTEMPTS`] wrong answers in a row. (Someone who
//! copies the file can skip the wait but not the Argon2id cost; that is what the cost is for.)

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::keys::{self, KdfParams, SecretKey, WrappedKey, SALT_LEN};
use super::{atomic, VaultError};

/// Version of the key-slot file format.
const FORMAT: u32 = 1;
/// Wrong passphrases allowed in a row before each further attempt must wait.
pub const FREE_ATTEMPTS: u32 = 3;
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeySlot {
    format: u32,
    partition: String,
    kdf: KdfParams,
    #[serde(with = "keys::hex_bytes")]
    salt: Vec<u8>,
    wrapped_key: WrappedKey,
    failed_attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    last_failed_at: Option<OffsetDateTime>,
}

impl KeySlot {
    /// Wrap `data_key` under `passphrase`.
    pub fn seal(
        partition: &str,
        data_key: &SecretKey,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<Self, VaultError> {
        let salt: [u8; SALT_LEN] = keys::random_bytes();
        let kek = keys::derive_kek(passphrase, &salt, kdf)?;
        Ok(KeySlot {
            format: FORMAT,
            partition: partition.to_owned(),
            kdf,
            salt: salt.to_vec(),
            wrapped_key: keys::wrap(&kek, data_key, partition.as_bytes()),
            failed_attempts: 0,
            last_failed_at: None,
        })
    }

    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| VaultError::io("read the key slot", path, e))?;
        let slot: KeySlot = serde_json::from_str(&text)
            .map_err(|e| VaultError::Corrupt(format!("key slot {}: {e}", path.display())))?;
        if slot.format != FORMAT {
            return Err(VaultError::Corrupt(format!(
                "key slot format {} is not supported",
                slot.format
            )));
        }
        Ok(slot)
    }

    pub fn save(&self, path: &Path) -> Result<(), VaultError> {
        let bytes = serde_json::to_vec_pretty(self).expect("key slot serialises");
        atomic::write(path, &bytes).map_err(|e| VaultError::io("write the key slot", path, e))
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// How long the person must wait before the next attempt, if at all.
    pub fn wait_before_next_attempt(&self, now: OffsetDateTime) -> Option<Duration> {
        let last = self.last_failed_at?;
        let required = backoff(self.failed_attempts);
        let elapsed = Duration::try_from(now - last).unwrap_or(Duration::ZERO);
        (elapsed < required).then(|| required - elapsed)
    }

    /// Try `passphrase`. On failure the attempt is counted (the caller saves the slot).
    pub fn open(&mut self, passphrase: &str, now: OffsetDateTime) -> Result<SecretKey, VaultError> {
        if let Some(wait) = self.wait_before_next_attempt(now) {
            return Err(VaultError::TooManyAttempts { retry_after: wait });
        }
        let salt: [u8; SALT_LEN] = self
            .salt
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Corrupt("key slot salt has the wrong length".into()))?;
        let kek = keys::derive_kek(passphrase, &salt, self.kdf)?;
        match keys::unwrap(&kek, &self.wrapped_key, self.partition.as_bytes()) {
            Ok(key) => {
                self.failed_attempts = 0;
                self.last_failed_at = None;
                Ok(key)
            }
            Err(_) => {
                self.failed_attempts = self.failed_attempts.saturating_add(1);
                self.last_failed_at = Some(now);
                Err(VaultError::WrongPassphrase {
                    failed_attempts: self.failed_attempts,
                    retry_after: Some(backoff(self.failed_attempts)).filter(|d| !d.is_zero()),
                })
            }
        }
    }

    /// Whether this slot's counters differ from a freshly loaded one (i.e. must be saved).
    pub fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }
}

/// Wait required after `failures` wrong passphrases in a row: none for the first
/// [`FREE_ATTEMPTS`], then 5 s doubling each time, at most [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    if failures < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(16);
    (Duration::from_secs(5) * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams::FAST_INSECURE_FOR_TESTS;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(2), Duration::ZERO);
        assert_eq!(backoff(3), Duration::from_secs(5));
        assert_eq!(backoff(4), Duration::from_secs(10));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }

    #[test]
    fn wrong_then_right_passphrase() {
        let key = SecretKey::generate();
        let mut slot = KeySlot::seal("p1", &key, "right pass", FAST).unwrap();
        let t0 = OffsetDateTime::now_utc();
        for n in 1..=3 {
            match slot.open("wrong", t0) {
                Err(VaultError::WrongPassphrase {
                    failed_attempts, ..
                }) => assert_eq!(failed_attempts, n),
                other => panic!("{other:?}"),
            }
        }
        // Third failure started a 5 s wait: even the right passphrase must wait.
        assert!(matches!(
            slot.open("right pass", t0 + Duration::from_secs(1)),
            Err(VaultError::TooManyAttempts { .. })
        ));
        assert_eq!(
            slot.open("right pass", t0 + Duration::from_secs(6))
                .unwrap(),
            key
        );
        assert_eq!(slot.failed_attempts(), 0);
    }

    #[test]
    fn slot_survives_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyslot.json");
        let key = SecretKey::generate();
        KeySlot::seal("p1", &key, "pass phrase", FAST)
            .unwrap()
            .save(&path)
            .unwrap();
        let mut loaded = KeySlot::load(&path).unwrap();
        assert_eq!(
            loaded
                .open("pass phrase", OffsetDateTime::now_utc())
                .unwrap(),
            key
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&hex::encode(key.as_bytes())),
            "data key stored in the clear"
        );
    }
}
