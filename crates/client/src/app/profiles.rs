//! Which vault partition belongs to which signed-in person, without writing who they are.
//!
//! `profiles.json` in the data folder maps a **pseudonymous key** — SHA-256 of a random
//! per-device salt, the provider's issuer and the person's subject — to a partition id. The file
//! holds no name, ID number or subject, so it may stay in plain text next to the encrypted
//! partitions: someone who copies it learns how many profiles the device has and when they
//! were last used, nothing more. The salt keeps keys from matching across devices.

use std::path::{Path, PathBuf};

use doorstep_domain::timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::vault::atomic;
use crate::vault::VaultError;

const FILE: &str = "profiles.json";

/// One profile: a person who has set up this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    key: String,
    pub partition: String,
    pub created_at: String,
    pub last_used_at: String,
    /// The last time the person signed in online (offline unlocks may be limited by it).
    #[serde(default)]
    pub last_signed_in_at: Option<String>,
    /// Counts of what only this device holds (changes not sent, drafts), kept up to date while
    /// the partition is open, so a person who forgot the passphrase is told what starting
    /// afresh loses. Counts and kinds only, like the rest of this file.
    #[serde(default)]
    pub unsent: Option<crate::vault::UnsentSummary>,
    #[serde(default)]
    pub unsent_as_of: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    salt: String,
    profiles: Vec<Profile>,
}

/// The profile index of one data folder.
pub struct Profiles {
    path: PathBuf,
    stored: Stored,
}

impl Profiles {
    /// Load the index (an empty one with a fresh salt if there is none yet).
    pub fn load(data_dir: &Path) -> Result<Self, VaultError> {
        let path = data_dir.join(FILE);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| VaultError::Corrupt(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut salt = [0_u8; 16];
                getrandom::getrandom(&mut salt)
                    .map_err(|e| VaultError::InvalidInput(format!("no randomness: {e}")))?;
                Stored {
                    salt: hex::encode(salt),
                    profiles: Vec::new(),
                }
            }
            Err(e) => return Err(VaultError::io("read the profile list", &path, e)),
        };
        Ok(Profiles { path, stored })
    }

    /// The pseudonymous key of a person.
    pub fn key_of(&self, issuer: &str, subject: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.stored.salt.as_bytes());
        h.update([0]);
        h.update(issuer.as_bytes());
        h.update([0]);
        h.update(subject.as_bytes());
        hex::encode(h.finalize())
    }

    /// The partition of the person with `key`, if they have one on this device.
    pub fn find(&self, key: &str) -> Option<&Profile> {
        self.stored.profiles.iter().find(|p| p.key == key)
    }

    pub fn by_partition(&self, partition: &str) -> Option<&Profile> {
        self.stored
            .profiles
            .iter()
            .find(|p| p.partition == partition)
    }

    /// Profiles, most recently used first.
    pub fn list(&self) -> Vec<Profile> {
        let mut all = self.stored.profiles.clone();
        all.sort_by(|a, b| b.last_used_at.cmp(&a.last_used_at));
        all
    }

    /// Record a new profile (or move an existing key to a new partition) and save.
    pub fn insert(&mut self, key: String, partition: String) -> Result<(), VaultError> {
        let now = now();
        self.stored.profiles.retain(|p| p.key != key);
        self.stored.profiles.push(Profile {
            key,
            partition,
            created_at: now.clone(),
            last_used_at: now.clone(),
            last_signed_in_at: Some(now),
            unsent: None,
            unsent_as_of: None,
        });
        self.save()
    }

    /// Keep what `partition` holds unsent; saves only when it changed.
    pub fn set_unsent(
        &mut self,
        partition: &str,
        summary: &crate::vault::UnsentSummary,
    ) -> Result<(), VaultError> {
        let now = now();
        let mut changed = false;
        for p in &mut self.stored.profiles {
            if p.partition == partition && p.unsent.as_ref() != Some(summary) {
                p.unsent = Some(summary.clone());
                p.unsent_as_of = Some(now.clone());
                changed = true;
            }
        }
        if changed {
            self.save()
        } else {
            Ok(())
        }
    }

    /// Note that `partition` was opened now, and save.
    pub fn touch(&mut self, partition: &str) -> Result<(), VaultError> {
        let now = now();
        for p in &mut self.stored.profiles {
            if p.partition == partition {
                p.last_used_at = now.clone();
            }
        }
        self.save()
    }

    /// Note an online sign-in of the person with `key`, and save.
    pub fn signed_in(&mut self, key: &str) -> Result<(), VaultError> {
        let now = now();
        for p in &mut self.stored.profiles {
            if p.key == key {
                p.last_signed_in_at = Some(now.clone());
            }
        }
        self.save()
    }

    /// Forget a profile (its partition was wiped), and save.
    pub fn remove(&mut self, partition: &str) -> Result<(), VaultError> {
        self.stored.profiles.retain(|p| p.partition != partition);
        self.save()
    }

    /// Drop entries whose partition no longer exists (wiped by hand, or a crash between wiping
    /// and saving this file).
    pub fn retain_existing(&mut self, existing: &[String]) -> Result<(), VaultError> {
        let before = self.stored.profiles.len();
        self.stored
            .profiles
            .retain(|p| existing.contains(&p.partition));
        if self.stored.profiles.len() != before {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<(), VaultError> {
        let bytes = serde_json::to_vec_pretty(&self.stored).expect("profiles serialize");
        atomic::write(&self.path, &bytes)
            .map_err(|e| VaultError::io("save the profile list", &self.path, e))
    }
}

fn now() -> String {
    timestamp::format(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_salted_per_device_and_the_file_holds_no_subject() {
        let dir = tempfile::tempdir().unwrap();
        let mut profiles = Profiles::load(dir.path()).unwrap();
        let key = profiles.key_of("https://id.example.org", "subject-4918273645");
        profiles.insert(key.clone(), "p-1".into()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(!text.contains("4918273645"), "{text}");
        assert!(!text.contains("id.example.org"), "{text}");

        let again = Profiles::load(dir.path()).unwrap();
        assert_eq!(again.find(&key).unwrap().partition, "p-1");
        let other = tempfile::tempdir().unwrap();
        let elsewhere = Profiles::load(other.path()).unwrap();
        assert_ne!(
            elsewhere.key_of("https://id.example.org", "subject-4918273645"),
            key,
            "another device's salt gives another key"
        );
    }

    #[test]
    fn most_recent_first_and_stale_entries_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut profiles = Profiles::load(dir.path()).unwrap();
        profiles.insert("a".into(), "p-a".into()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        profiles.insert("b".into(), "p-b".into()).unwrap();
        assert_eq!(profiles.list()[0].partition, "p-b");
        std::thread::sleep(std::time::Duration::from_millis(5));
        profiles.touch("p-a").unwrap();
        assert_eq!(profiles.list()[0].partition, "p-a");
        profiles.retain_existing(&["p-b".into()]).unwrap();
        assert_eq!(profiles.list().len(), 1);
        assert!(Profiles::load(dir.path()).unwrap().find("a").is_none());
    }

    #[test]
    fn a_damaged_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(matches!(
            Profiles::load(dir.path()),
            Err(VaultError::Corrupt(_))
        ));
    }
}
