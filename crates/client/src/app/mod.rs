//! The app's life cycle, without a window: who is signed in, whose data is open, and the
//! background sync that goes with it. The desktop shell (`src-tauri`) holds one [`Doorstep`]
//! and turns each IPC command into one call here (the calls on the open data are in
//! `operations.rs`; each feature's logic in its own module).
//!
//! Stages (see [`SessionView`]):
//! ```text
//!             sign in                    new person: choose passphrase
//! SignedOut ───────────► (profile?) ──────────────────────────────────► Ready
//!     │  ▲                   │ known person, key not in keyring             ▲
//!     │  │ sign out          ▼                                              │
//!     │  └──────────────── Locked ──────── unlock with passphrase ──────────┘
//!     └── unlock offline (a profile exists on this device) ───────────────────► Ready (no sync
//!                                                                    until the person signs in)
//! ```
//! Invariants:
//! - A partition is open only in `Ready`; leaving `Ready` stops its sync first.
//! - Sync runs only with a session whose person owns the open partition.
//! - Kiosk: no keyring, no "stay signed in"; signing out wipes the person's partition (after a
//!   last sync; unsent changes block the wipe unless the person agrees to discard them).

mod alerts;
mod areas;
pub mod builder;
mod caseload;
pub mod config;
mod consent;
mod details;
mod documents;
mod duplicate_notices;
mod finance;
mod household;
mod liveness;
mod messages_sent;
mod notifications;
mod operations;
mod profiles;
mod programmes;
mod records;
mod refusal;
mod registration;
mod review;
mod revocation;
pub mod roles;
mod staff;
mod summary;
mod views;
mod who;
pub use who::ActingFor;

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use doorstep_domain::api::Me;

use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::settings::Settings;
use crate::signin::{self, BrowserOpener, Session, SessionStore, SignIn, SignInError};
use crate::sync::service::{SyncService, SyncStatus};
use crate::sync::SyncTransport;
use crate::vault::{KdfParams, KeyStore, KeyStoreError, Partition, SecretStore, Vault, VaultError};

pub use alerts::{Alert, AlertSettings, AlertSink, Screen};
pub use areas::AreaPicker;
pub use builder::{
    AdminProgramme, AdminProgrammes, DesignOf, FormDesign, ProgrammeInput, PublishedForm,
    RegistryAdmin,
};
pub use caseload::{Attention, Caseload, PersonSummary, MAX_PEOPLE};
pub use config::{AppConfig, AppConfigError, DeviceMode};
pub use details::{AddressDetails, MyDetails};
pub use documents::{
    DocumentState, DocumentView, DocumentsView, NewUpload, Requirement, MAX_CHUNK_BYTES,
};
pub use duplicate_notices::{DuplicateNotice, NoticeMatch};
pub use finance::{AccountInput, AccountView};
pub use household::{HouseholdView, MemberInput, MemberView};
pub use liveness::LivenessDone;
pub use messages_sent::{OutboxStatus, SentChannel, SentMessage, SentMessagesView};
pub use notifications::{NotificationView, PendingAction, RegistrationPart};
#[cfg(test)]
use operations::field_choices;
pub use operations::FieldChoice;
pub use profiles::{Profile, Profiles};
pub use programmes::{ApplicationForm, ApplicationView, ProgrammeView, TimelineEntry};
use refusal::refused;
pub use refusal::Refusal;
pub use registration::{
    ComparedField, DuplicateAnswer, DuplicateCandidate, DuplicateQuestion, IdInput, MemberEntry,
    PersonInput, Registration, RegistrationCheck, RegistrationDocument, RegistrationSaved,
    RegistrationStep, RegistrationSummary,
};
pub use review::{
    AnnouncementReceipt, AnnouncementRequest, AnnouncementText, ApplicationStatus, DocumentStatus,
    ProgrammeChoice, ReviewCase, ReviewFilter, ReviewQueueItem, ReviewQueueView,
    VerificationStatus,
};
pub use revocation::WipeNotice;
pub use roles::Role;
pub use staff::{StaffChange, StaffDirectory, StaffEntry, StaffGrant, StaffRole};
pub use summary::DaySummary;
pub use views::{
    AfreshPreview, ConflictField, ConflictView, HomeView, ProfileView, RejectionView, SessionView,
};

/// How long sign-in waits for the registry to say who the person is.
const WHO_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything that can go wrong at this level, worded for the person.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Sign-in is not set up on this device. Ask the office that installed it.")]
    SignInNotConfigured,
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("The system keyring did not answer: {0}")]
    KeyStore(#[from] KeyStoreError),
    /// The call does not fit the current stage (a UI bug or a double click).
    #[error("{0}")]
    WrongStage(&'static str),
    #[error("This device holds another person's data. Sign out first, then sign in as yourself.")]
    OtherPerson,
    #[error("{count} change(s) have not reached the registry yet. Connect and sync, or choose to discard them.")]
    UnsentChanges { count: u64 },
    #[error("{0}")]
    InvalidInput(Refusal),
    #[error("You last signed in online more than {days} days ago. Connect and sign in once to open your data again; your changes are kept.")]
    SignInRequired { days: u32 },
}

/// The app core. Cheap to share (`Arc`); every method takes `&self`.
pub struct Doorstep {
    settings: Settings,
    config: AppConfig,
    vault: Arc<Vault>,
    sessions: SessionStore,
    /// Shared with the task that keeps each open partition's unsent counts in profiles.json.
    profiles: Arc<StdMutex<Profiles>>,
    kdf: KdfParams,
    provider: Mutex<Option<Arc<SignIn>>>,
    stage: Mutex<Stage>,
    status: watch::Sender<SyncStatus>,
    uploads: Arc<documents::Uploads>,
    /// The open partition's caseload index, rebuilt when its records change (see caseload.rs).
    caseload: StdMutex<Option<Arc<Caseload>>>,
    /// Agent: the person whose records the sections work on (see who.rs); None: the caseload.
    acting_for: StdMutex<Option<Uuid>>,
    /// This installation's id, sent to the registry (see revocation.rs).
    device: Uuid,
    /// Set by the sync forwarder when the registry withdrew this device or account: the
    /// office's reason. The next step wipes the open data (revocation.rs).
    revoked: Arc<StdMutex<Option<String>>>,
    /// What the last wipe removed, for the sign-in screen.
    wiped: StdMutex<Option<WipeNotice>>,
    /// The registry's answer to "who is this?" at the last sign-in, kept into the person's
    /// data once it is open (roles.rs).
    signed_in_as: StdMutex<Option<Me>>,
    /// Where desktop alerts go (set by the shell; none on kiosks, none in most tests).
    alert_sink: Arc<StdMutex<Option<Arc<dyn AlertSink>>>>,
}

enum Stage {
    SignedOut,
    /// Signed in for the first time on this device; the person picks a passphrase next.
    ChoosePassphrase,
    /// The person's profile exists but its key is not at hand.
    Locked {
        partition: String,
    },
    Ready(Box<Open>),
}

/// An open partition and, with a session, its sync.
struct Open {
    partition: Arc<Partition>,
    /// Kiosk: the random passphrase the partition was created with; never shown or stored.
    sync: Option<RunningSync>,
    /// Desktop alerts and reminders while the data is open (none on kiosks).
    alerts: Option<alerts::timer::AlertTimer>,
}

impl Open {
    /// Stop what runs on the partition (alerts, sync) and hand it back, to wipe or drop.
    fn close(self) -> Arc<Partition> {
        let Open {
            partition,
            sync,
            alerts,
        } = self;
        drop(alerts);
        if let Some(sync) = sync {
            sync.stop();
        }
        partition
    }
}

struct RunningSync {
    service: SyncService,
    forward: JoinHandle<()>,
}

impl RunningSync {
    fn stop(self) {
        self.forward.abort();
        self.service.stop();
    }
}

impl Doorstep {
    /// Open the data folder. `keystore` and `secrets` are the OS keyring on personal and agent
    /// devices; kiosks get [`crate::vault::NoKeyStore`] whatever is passed (they remember nobody).
    pub fn open(
        settings: Settings,
        config: AppConfig,
        keystore: Arc<dyn KeyStore>,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, AppError> {
        Self::open_with_kdf(settings, config, keystore, secrets, KdfParams::RECOMMENDED)
    }

    /// As [`Doorstep::open`] with explicit key-derivation cost (tests use a cheap one).
    pub fn open_with_kdf(
        settings: Settings,
        config: AppConfig,
        keystore: Arc<dyn KeyStore>,
        secrets: Arc<dyn SecretStore>,
        kdf: KdfParams,
    ) -> Result<Self, AppError> {
        let (keystore, secrets): (Arc<dyn KeyStore>, Arc<dyn SecretStore>) =
            if config.mode.remembers() {
                (keystore, secrets)
            } else {
                (
                    Arc::new(crate::vault::NoKeyStore),
                    Arc::new(crate::vault::NoKeyStore),
                )
            };
        let vault = Vault::open(&settings.data_dir, keystore)?;
        let device = revocation::device_id(&settings.data_dir)?;
        let mut profiles = Profiles::load(&settings.data_dir)?;
        profiles.retain_existing(&vault.partitions()?)?;
        let (status, _) = watch::channel(SyncStatus::default());
        Ok(Doorstep {
            settings,
            config,
            vault: Arc::new(vault),
            sessions: SessionStore::new(secrets),
            profiles: Arc::new(StdMutex::new(profiles)),
            kdf,
            provider: Mutex::new(None),
            stage: Mutex::new(Stage::SignedOut),
            status,
            uploads: Arc::default(),
            caseload: StdMutex::default(),
            acting_for: StdMutex::default(),
            device,
            revoked: Arc::default(),
            wiped: StdMutex::default(),
            signed_in_as: StdMutex::default(),
            alert_sink: Arc::default(),
        })
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// On start: a person who chose "stay signed in" on this device, whose key is in the
    /// keyring, goes straight to their data.
    pub async fn resume(&self) -> Result<SessionView, AppError> {
        if let Some(session) = self.sessions.restore(signin::unix_now())? {
            let key = self.profile_key(&session);
            let partition = self.profiles().find(&key).map(|p| p.partition.clone());
            if let Some(partition) = partition {
                let vault = self.vault.clone();
                let id = partition.clone();
                let opened = blocking(move || vault.unlock_with_keystore(&id)).await;
                let mut stage = self.stage.lock().await;
                *stage = match opened {
                    Ok(p) => self.ready(p, Some(&session)),
                    Err(_) => Stage::Locked { partition },
                };
            }
        }
        Ok(self.view().await)
    }

    /// What the UI should show now.
    pub async fn view(&self) -> SessionView {
        // A failed wipe is tried again at the next step, and surfaces there as an error.
        let _ = self.wipe_if_revoked().await;
        let stage = self.stage.lock().await;
        let session = self.session();
        let role = self.role_in(&stage);
        views::session_view(
            &stage,
            session.as_ref(),
            &self.config,
            &self.profiles().list(),
            self.wipe_notice(),
            role,
        )
    }

    /// Sign in with the identity provider through `browser`. `remember` ("stay signed in")
    /// is honoured on personal devices only.
    pub async fn sign_in(
        &self,
        browser: &dyn BrowserOpener,
        remember: bool,
    ) -> Result<SessionView, AppError> {
        let provider = self.provider().await?;
        let session = provider.sign_in(browser).await?;
        let key = self.profile_key(&session);
        let me = self.ask_who(&session).await;
        let mut stage = self.stage.lock().await;
        if let Stage::Ready(open) = &*stage {
            // Signing in again (token expired, or first time online after an offline unlock):
            // only the owner of the open data may do that.
            let owner = self.profiles().by_partition(open.partition.id()).cloned();
            if owner.is_some_and(|p| self.profiles().find(&key) != Some(&p)) {
                return Err(AppError::OtherPerson);
            }
        }
        // Someone this device is not for is turned away before anything of theirs is kept.
        if let Some(refusal) = me
            .as_ref()
            .and_then(|m| roles::refusal(self.config.mode, m.role))
        {
            return Err(refusal.into());
        }
        *self.signed_in_as.lock().unwrap_or_else(|p| p.into_inner()) = me;
        let remember = remember && self.config.mode == DeviceMode::Personal;
        // A keyring that fails only costs "stay signed in"; the session itself is in memory.
        let _ = self.sessions.set(session.clone(), remember);
        let known = self.profiles().find(&key).map(|p| p.partition.clone());
        if known.is_some() {
            self.profiles().signed_in(&key)?;
        }
        let next = match (std::mem::replace(&mut *stage, Stage::SignedOut), known) {
            (Stage::Ready(open), _) => {
                let mut open = open;
                self.restart_sync(&mut open, &session);
                Stage::Ready(open)
            }
            (_, Some(partition)) if self.config.mode.remembers() => {
                let vault = self.vault.clone();
                let id = partition.clone();
                match blocking(move || vault.unlock_with_keystore(&id)).await {
                    Ok(p) => self.ready(p, Some(&session)),
                    Err(_) => Stage::Locked { partition },
                }
            }
            (_, Some(partition)) => Stage::Locked { partition },
            (_, None) if self.config.mode == DeviceMode::Kiosk => {
                // Kiosk data lives only as long as the visit: a random passphrase nobody sees.
                let passphrase = crate::signin::random_token();
                self.create_profile(&key, &passphrase, &session).await?
            }
            (_, None) => Stage::ChoosePassphrase,
        };
        *stage = next;
        drop(stage);
        Ok(self.view().await)
    }

    /// First sign-in on this device: create the person's encrypted profile with `passphrase`.
    pub async fn choose_passphrase(&self, passphrase: String) -> Result<SessionView, AppError> {
        let mut stage = self.stage.lock().await;
        if !matches!(*stage, Stage::ChoosePassphrase) {
            return Err(AppError::WrongStage(
                "There is no new profile waiting for a passphrase.",
            ));
        }
        let session = self.session().ok_or(AppError::WrongStage(
            "Your sign-in has expired. Sign in again.",
        ))?;
        let key = self.profile_key(&session);
        *stage = self.create_profile(&key, &passphrase, &session).await?;
        drop(stage);
        Ok(self.view().await)
    }

    /// Open a profile with its passphrase: the signed-in person's, or without network the one
    /// chosen on the welcome screen (`profile` = partition id; the most recent one if `None`).
    pub async fn unlock(
        &self,
        profile: Option<String>,
        passphrase: String,
    ) -> Result<SessionView, AppError> {
        let mut stage = self.stage.lock().await;
        let partition = match (&*stage, profile) {
            (Stage::Locked { partition }, _) => partition.clone(),
            (Stage::SignedOut, Some(p)) => self
                .profiles()
                .by_partition(&p)
                .map(|p| p.partition.clone())
                .ok_or_else(|| refused("profileUnknown", "That profile is not on this device."))?,
            (Stage::SignedOut, None) => self
                .profiles()
                .list()
                .first()
                .map(|p| p.partition.clone())
                .ok_or(AppError::WrongStage(
                    "Nobody has set up this device yet. Sign in first (this needs a connection).",
                ))?,
            _ => return Err(AppError::WrongStage("Your data is already open.")),
        };
        if matches!(*stage, Stage::SignedOut) {
            self.check_offline_unlock_allowed(&partition)?;
        }
        let vault = self.vault.clone();
        let id = partition.clone();
        let opened = blocking(move || vault.unlock_with_passphrase(&id, &passphrase)).await?;
        // Offline unlock has no session; sync starts when the person signs in.
        let session = self.session().filter(|s| {
            // The key first: profiles() is not re-entrant (both lock the same mutex).
            let key = self.profile_key(s);
            self.profiles()
                .find(&key)
                .is_some_and(|p| p.partition == partition)
        });
        *stage = self.ready(opened, session.as_ref());
        drop(stage);
        Ok(self.view().await)
    }

    /// A person signed in who cannot unlock: what starting afresh would lose (the counts kept
    /// while the data was last open; `None` when they were never kept).
    pub async fn start_afresh_preview(&self) -> Result<AfreshPreview, AppError> {
        let stage = self.stage.lock().await;
        let partition = self.afresh_partition(&stage)?;
        let profile = self.profiles().by_partition(&partition).cloned();
        Ok(AfreshPreview {
            unsent: profile.as_ref().and_then(|p| p.unsent.clone()),
            as_of: profile.and_then(|p| p.unsent_as_of),
        })
    }

    /// Forget the locked data and start again from the registry: the partition is
    /// crypto-shredded (its keys first, see Vault::wipe), then the person chooses a new
    /// passphrase and the first sync brings their records back. Only for the signed-in owner:
    /// a sign-in proves who they are, which the passphrase no longer can.
    pub async fn start_afresh(&self) -> Result<SessionView, AppError> {
        let mut stage = self.stage.lock().await;
        let partition = self.afresh_partition(&stage)?;
        let vault = self.vault.clone();
        let id = partition.clone();
        blocking(move || vault.wipe(&id)).await?;
        self.profiles().remove(&partition)?;
        tracing::info!("started afresh: the locked data was erased, its keys first");
        *stage = Stage::ChoosePassphrase;
        drop(stage);
        Ok(self.view().await)
    }

    /// The locked partition of the signed-in person, or why starting afresh is not possible.
    fn afresh_partition(&self, stage: &Stage) -> Result<String, AppError> {
        let Stage::Locked { partition } = stage else {
            return Err(AppError::WrongStage(
                "Only locked data can be started afresh.",
            ));
        };
        let session = self.session().ok_or_else(|| {
            refused(
                "afreshNeedsSignIn",
                "Sign in first: starting afresh needs the ID provider to confirm who you are.",
            )
        })?;
        // The key first: profiles() is not re-entrant.
        let key = self.profile_key(&session);
        let owner = self.profiles().find(&key).map(|p| p.partition.clone());
        if owner.as_deref() != Some(partition.as_str()) {
            return Err(AppError::OtherPerson);
        }
        Ok(partition.clone())
    }

    /// Close the person's data and forget the session. Kiosk: also wipe their profile, after a
    /// last sync; with unsent changes that needs `discard_unsent`.
    pub async fn sign_out(&self, discard_unsent: bool) -> Result<SessionView, AppError> {
        let mut stage = self.stage.lock().await;
        if self.config.mode == DeviceMode::Kiosk {
            if let Stage::Ready(open) = &*stage {
                let pending = open.partition.pending_count()?;
                if pending > 0 && !discard_unsent {
                    return Err(AppError::UnsentChanges { count: pending });
                }
            }
        }
        self.forget_session_memory();
        let previous = std::mem::replace(&mut *stage, Stage::SignedOut);
        if let Stage::Ready(open) = previous {
            let partition = (*open).close();
            if self.config.mode == DeviceMode::Kiosk {
                self.wipe_partition(partition).await?;
            }
        }
        self.sessions.sign_out()?;
        self.status.send_replace(SyncStatus::default());
        drop(stage);
        Ok(self.view().await)
    }

    /// Forget what a session holds in memory: half-added documents (they hold the partition;
    /// nothing of them is kept), the caseload index (names and numbers) and the person an agent
    /// was serving.
    fn forget_session_memory(&self) {
        self.uploads.cancel_all();
        self.caseload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.acting_for
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// Remove a closed partition (its sync stopped) from the device, and its profile.
    async fn wipe_partition(&self, partition: Arc<Partition>) -> Result<(), AppError> {
        let id = partition.id().to_owned();
        drop(partition);
        let vault = self.vault.clone();
        let wiped = id.clone();
        blocking(move || vault.wipe(&wiped)).await?;
        self.profiles().remove(&id)?;
        Ok(())
    }

    /// Before an update is installed: stop sync and alerts, write the open data's log into its
    /// file and close it, so nothing is half-written while the package manager replaces the
    /// app. The session is kept: after the restart the new version opens the data (migrating it
    /// forward, see vault/migrations.rs) when the person unlocks it, or from the keyring.
    pub async fn close_for_update(&self) -> Result<(), AppError> {
        let mut stage = self.stage.lock().await;
        if !matches!(&*stage, Stage::Ready(_)) {
            return Ok(());
        }
        let Stage::Ready(open) = std::mem::replace(&mut *stage, Stage::SignedOut) else {
            unreachable!("checked above")
        };
        let partition = (*open).close();
        self.forget_session_memory();
        let id = partition.id().to_owned();
        let checkpointed = blocking({
            let partition = partition.clone();
            move || partition.checkpoint()
        })
        .await;
        drop(partition);
        *stage = Stage::Locked { partition: id };
        self.status.send_replace(SyncStatus::default());
        checkpointed
    }

    /// Whether someone's data is open (a kiosk installs updates only when nobody's is).
    pub async fn data_open(&self) -> bool {
        matches!(&*self.stage.lock().await, Stage::Ready(_))
    }

    /// "Sync now". Without a session it only refreshes the counts.
    pub async fn sync_now(&self) -> Result<(), AppError> {
        let stage = self.stage.lock().await;
        match &*stage {
            Stage::Ready(open) => {
                match &open.sync {
                    Some(sync) => sync.service.sync_now(),
                    None => self.publish_offline_status(&open.partition),
                }
                Ok(())
            }
            _ => Err(AppError::WrongStage("Open your data first.")),
        }
    }

    /// The sync indicator's state; changes whenever a round starts, progresses or ends.
    pub fn sync_status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    // ---- internals ----

    /// Re-authentication rule: an offline unlock needs an online sign-in within the configured
    /// number of days (a lost or stolen laptop does not stay usable forever with a passphrase).
    fn check_offline_unlock_allowed(&self, partition: &str) -> Result<(), AppError> {
        let Some(days) = self.config.offline_unlock_days else {
            return Ok(());
        };
        let last = self
            .profiles()
            .by_partition(partition)
            .and_then(|p| p.last_signed_in_at.clone());
        let fresh = last
            .and_then(|t| doorstep_domain::timestamp::parse(&t).ok())
            .is_some_and(|t| {
                time::OffsetDateTime::now_utc() - t <= time::Duration::days(days.into())
            });
        if fresh {
            Ok(())
        } else {
            Err(AppError::SignInRequired { days })
        }
    }

    async fn provider(&self) -> Result<Arc<SignIn>, AppError> {
        let config = self
            .config
            .signin
            .clone()
            .ok_or(AppError::SignInNotConfigured)?;
        let mut cached = self.provider.lock().await;
        if let Some(p) = &*cached {
            return Ok(p.clone());
        }
        // Discovered on first use, not at start: the app starts (and works) offline.
        let p = Arc::new(SignIn::discover(config).await?);
        *cached = Some(p.clone());
        Ok(p)
    }

    fn profiles(&self) -> std::sync::MutexGuard<'_, Profiles> {
        self.profiles.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn profile_key(&self, session: &Session) -> String {
        self.profiles()
            .key_of(&session.identity.issuer, &session.identity.subject)
    }

    fn session(&self) -> Option<Session> {
        self.sessions.current(signin::unix_now()).ok().flatten()
    }

    /// The session and the person an agent acts for: whose records the sections work on.
    fn caller(&self) -> who::Caller {
        who::Caller {
            session: self.session(),
            acting_for: *self.acting_for.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    fn actor(&self) -> String {
        self.session()
            .map(|s| s.identity.subject)
            .unwrap_or_else(|| "device".into())
    }

    async fn create_profile(
        &self,
        key: &str,
        passphrase: &str,
        session: &Session,
    ) -> Result<Stage, AppError> {
        let vault = self.vault.clone();
        let kdf = self.kdf;
        let passphrase = zeroize::Zeroizing::new(passphrase.to_owned());
        let (partition, _kept) = blocking(move || vault.create_partition(&passphrase, kdf)).await?;
        self.profiles()
            .insert(key.to_owned(), partition.id().to_owned())?;
        Ok(self.ready(partition, Some(session)))
    }

    /// The role of the person whose data is open (roles.rs). An unreadable answer counts as
    /// the device's assumption: the registry decides every request anyway.
    fn role_in(&self, stage: &Stage) -> Role {
        match stage {
            Stage::Ready(open) => roles::current(&open.partition, self.config.mode)
                .unwrap_or_else(|_| roles::assumed(self.config.mode)),
            _ => roles::assumed(self.config.mode),
        }
    }

    /// Who the registry takes a new session for, asked once at sign-in. `None` when it does
    /// not answer in time: the first sync asks again, and the sections follow its answer.
    async fn ask_who(&self, session: &Session) -> Option<Me> {
        let transport = SyncTransport::for_device(
            self.settings.registry_url.clone(),
            session.access_token().secret(),
            Some(self.device),
        );
        tokio::time::timeout(WHO_TIMEOUT, transport.me())
            .await
            .ok()?
            .ok()
    }

    /// `Ready` for `partition`, syncing when there is a session.
    fn ready(&self, partition: Partition, session: Option<&Session>) -> Stage {
        let _ = self.profiles().touch(partition.id());
        let me = self
            .signed_in_as
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(me) = me.filter(|_| session.is_some()) {
            // Not kept: the first sync asks again.
            let _ = roles::keep(&partition, &me);
        }
        // Someone's data is open again: the last wipe's notice has been seen.
        self.wiped.lock().unwrap_or_else(|p| p.into_inner()).take();
        let partition = Arc::new(partition);
        self.keep_unsent_summary(&partition);
        let alerts = (self.config.mode != DeviceMode::Kiosk).then(|| {
            let sink = self.alert_sink.clone();
            alerts::timer::AlertTimer::start(
                partition.clone(),
                self.config.reminder_time,
                move || sink.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            )
        });
        let mut open = Box::new(Open {
            partition,
            sync: None,
            alerts,
        });
        match session {
            Some(s) => self.restart_sync(&mut open, s),
            None => self.publish_offline_status(&open.partition),
        }
        Stage::Ready(open)
    }

    /// While `partition` is open, keep its unsent counts in profiles.json: after every sync
    /// round and local change (each changes the status) and every half minute (drafts). A
    /// person who later forgets the passphrase is told what starting afresh loses.
    fn keep_unsent_summary(&self, partition: &Arc<Partition>) {
        let weak = Arc::downgrade(partition);
        let profiles = self.profiles.clone();
        let mut status = self.status.subscribe();
        tokio::spawn(async move {
            loop {
                let Some(partition) = weak.upgrade() else {
                    break;
                };
                let (p, id) = (partition.clone(), partition.id().to_owned());
                drop(partition);
                if let Ok(Ok(summary)) =
                    tokio::task::spawn_blocking(move || p.unsent_summary()).await
                {
                    let mut profiles = profiles.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = profiles.set_unsent(&id, &summary) {
                        tracing::warn!(error = %e, "cannot keep the unsent counts");
                    }
                }
                tokio::select! {
                    changed = status.changed() => if changed.is_err() { break },
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                }
            }
        });
    }

    fn restart_sync(&self, open: &mut Open, session: &Session) {
        if let Some(old) = open.sync.take() {
            old.stop();
        }
        let transport = SyncTransport::for_device(
            self.settings.registry_url.clone(),
            session.access_token().secret(),
            Some(self.device),
        );
        // An agent laptop set to keep the caseload's documents fetches them after each round.
        let keep = self
            .config
            .agent_keep_documents
            .then(|| (open.partition.clone(), transport.clone()));
        let service = SyncService::start(open.partition.clone(), transport);
        let alerts = open.alerts.as_ref().map(|a| a.waker());
        let mut from = service.status();
        let to = self.status.clone();
        let revoked = self.revoked.clone();
        let forward = tokio::spawn(async move {
            let mut kept_after: Option<String> = None;
            let mut alerted_after: Option<String> = None;
            loop {
                let now = from.borrow_and_update().clone();
                if now.last_error_kind == Some(crate::sync::service::SyncErrorKind::Revoked) {
                    *revoked.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(now.last_error.clone().unwrap_or_default());
                }
                let finished = !now.running && now.last_error.is_none();
                let round = now.last_success.clone();
                to.send_replace(now);
                // New records may be news (a message, a conflict, a moved date).
                if let Some(alerts) = &alerts {
                    if finished && round.is_some() && round != alerted_after {
                        alerted_after = round.clone();
                        alerts.notify_one();
                    }
                }
                if let Some((partition, transport)) = &keep {
                    if finished && round.is_some() && round != kept_after {
                        kept_after = round;
                        // Offline or refused: the next round tries again.
                        let _ =
                            documents::keep_caseload_documents(partition.clone(), transport).await;
                    }
                }
                if from.changed().await.is_err() {
                    break;
                }
            }
        });
        open.sync = Some(RunningSync { service, forward });
    }

    /// Status without a sync service: the counts, and why nothing is sent.
    fn publish_offline_status(&self, partition: &Partition) {
        let status = SyncStatus {
            pending: partition.pending_count().unwrap_or(0),
            conflicts: partition.conflicts().map(|c| c.len() as u64).unwrap_or(0),
            rejected: partition.refused_count().unwrap_or(0),
            last_success: partition.last_sync_success().ok().flatten(),
            last_error: Some(
                "Opened offline. Sign in to send your changes to the registry.".into(),
            ),
            last_error_kind: Some(crate::sync::service::SyncErrorKind::OpenedOffline),
            ..SyncStatus::default()
        };
        self.status.send_replace(status);
    }
}

/// Run vault work (SQLCipher, Argon2) off the async threads.
async fn blocking<T: Send + 'static, E: Into<AppError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Refusal::new("internal", format!("An internal task failed: {e}")))?
        .map_err(Into::into)
}

#[cfg(test)]
mod tests;
