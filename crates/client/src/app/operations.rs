//! What a person does with their open data, one method per IPC command: their details and
//! household, an agent's caseload, payment accounts, programmes and applications,
//! notifications, documents, and the changes the registry refused or that clash. Each reads
//! the open partition, or changes it in one vault transaction and nudges sync. The session life
//! cycle these need (who is signed in, whose data is open) is in the parent module.

use std::collections::BTreeMap;
use std::sync::Arc;

use doorstep_domain::individual::Individual;
use uuid::Uuid;

use super::who::Who;
use super::*;
use crate::vault::{Choice, Partition};

/// How long saving a registration waits for the registry's duplicate check of one person
/// before leaving it to the sync (a slow village network must not hold the agent up).
const REGISTRY_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

impl Doorstep {
    /// The home screen, from the vault only (works offline).
    pub async fn home(&self) -> Result<HomeView, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        blocking(move || views::home(&partition, session.as_ref())).await
    }

    /// Save the person's own details (their registration, the first time).
    pub async fn save_my_details(&self, details: MyDetails) -> Result<HomeView, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        let p = partition.clone();
        let s = session.clone();
        blocking(move || details::save(&p, s.as_ref(), &details)).await?;
        self.nudge_sync().await;
        blocking(move || views::home(&partition, session.as_ref())).await
    }

    /// The person's household, from the vault only (works offline).
    pub async fn household(&self) -> Result<HouseholdView, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        blocking(move || household::view(&partition, session.as_ref())).await
    }

    /// Create a household with the person as its head.
    pub async fn create_household(&self) -> Result<HouseholdView, AppError> {
        self.change_household(household::create).await
    }

    /// Add a member (linked by national ID when that person is already on this device).
    pub async fn add_member(&self, member: MemberInput) -> Result<HouseholdView, AppError> {
        self.change_household(move |p, s| household::add(p, s, &member))
            .await
    }

    /// Change a member's details or relationship.
    pub async fn edit_member(
        &self,
        individual: Uuid,
        member: MemberInput,
    ) -> Result<HouseholdView, AppError> {
        self.change_household(move |p, s| household::edit(p, s, individual, &member))
            .await
    }

    /// End a member's membership (their record stays). Not the head's.
    pub async fn remove_member(&self, individual: Uuid) -> Result<HouseholdView, AppError> {
        self.change_household(move |p, s| household::remove(p, s, individual))
            .await
    }

    /// Make `individual` the head of the household (one vault transaction).
    pub async fn change_head(&self, individual: Uuid) -> Result<HouseholdView, AppError> {
        self.change_household(move |p, s| household::change_head(p, s, individual))
            .await
    }

    /// Agent: the people on this device (the agent's area, pulled from the registry) matching
    /// `query` by name (also spelled differently), ID number or phone, best matches first; with
    /// `attention_only`, only those who need something done; at most `limit` (itself at most
    /// [`MAX_PEOPLE`]).
    pub async fn people(
        &self,
        query: String,
        attention_only: bool,
        limit: u32,
    ) -> Result<Vec<PersonSummary>, AppError> {
        let partition = self.open_partition().await?;
        let caseload = self.caseload(&partition).await?;
        blocking(move || {
            let refused = caseload::refused_people(&partition)?;
            Ok::<_, AppError>(caseload.search(&query, attention_only, &refused, limit as usize))
        })
        .await
    }

    /// Agent: serve `individual` in every section (household, payment details, documents,
    /// programmes, notifications work on their records; changes stay the agent's, made on their
    /// behalf), or go back to the caseload with `None`.
    pub async fn act_for(&self, individual: Option<Uuid>) -> Result<Option<ActingFor>, AppError> {
        let partition = self.agent_partition().await?;
        let acting = match individual {
            None => None,
            Some(id) => {
                let (person, consent_needed) = blocking(move || {
                    let person = partition.get::<Individual>(id)?.ok_or_else(|| {
                        refused("personUnknown", "That person is not on this device.")
                    })?;
                    Ok::<_, AppError>((person, consent::needed(&partition, id)?))
                })
                .await?;
                Some(ActingFor {
                    id: id.to_string(),
                    name: person.display_name(),
                    consent_needed,
                })
            }
        };
        *self.acting_for.lock().unwrap_or_else(|p| p.into_inner()) =
            acting.as_ref().and_then(|a| a.id.parse().ok());
        Ok(acting)
    }

    /// Agent: the person being served, if any.
    pub async fn acting_for(&self) -> Result<Option<ActingFor>, AppError> {
        let Some(id) = self.caller().acting_for else {
            return Ok(None);
        };
        self.act_for(Some(id)).await
    }

    /// Agent: the household registrations in progress on this device, last touched first.
    pub async fn registrations(&self) -> Result<Vec<RegistrationSummary>, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::list(&partition)).await
    }

    /// Agent: start registering a household (an empty draft, kept in the vault).
    pub async fn start_registration(&self) -> Result<Registration, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::start(&partition)).await
    }

    /// Agent: a registration in progress, to resume it.
    pub async fn registration(&self, id: String) -> Result<Registration, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::load(&partition, &id)).await
    }

    /// Agent: keep a step of a registration (one vault write) and check it: its problems by
    /// field, or the first person who looks like someone already on this device.
    pub async fn save_registration(
        &self,
        draft: Registration,
    ) -> Result<RegistrationCheck, AppError> {
        let partition = self.agent_partition().await?;
        let caseload = self.caseload(&partition).await?;
        blocking(move || registration::save(&partition, &caseload, draft)).await
    }

    /// Agent: answer "Is this the same person?" for one person of a registration.
    pub async fn answer_duplicate(
        &self,
        id: String,
        person_key: String,
        answer: DuplicateAnswer,
    ) -> Result<Registration, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::answer(&partition, &id, &person_key, answer)).await
    }

    /// Agent: save the household (all its records and the draft's removal in one vault
    /// transaction) and send it with the next sync.
    pub async fn finish_registration(&self, id: String) -> Result<RegistrationSaved, AppError> {
        let partition = self.agent_partition().await?;
        if let Some(asked) = self.ask_registry(&partition, &id).await? {
            return Ok(asked);
        }
        let caseload = self.caseload(&partition).await?;
        let session = self.caller();
        let saved =
            blocking(move || registration::finish(&partition, &caseload, session.as_ref(), &id))
                .await?;
        if matches!(saved, RegistrationSaved::Saved { .. }) {
            self.nudge_sync().await;
        }
        Ok(saved)
    }

    /// With a network, the registry's duplicate check for each person typed in, before the
    /// household is saved: it sees everyone registered, where this device sees the agent's
    /// area as of the last sync. Without one (or when it does not answer in time), the
    /// household is saved and the registry's check runs when it arrives, coming back as a
    /// notice. The question, when there is one.
    async fn ask_registry(
        &self,
        partition: &Arc<Partition>,
        id: &str,
    ) -> Result<Option<RegistrationSaved>, AppError> {
        let Some(session) = self.session() else {
            return Ok(None);
        };
        let (p, rid) = (partition.clone(), id.to_owned());
        let asks = blocking(move || registration::registry_asks(&p, &rid)).await?;
        if asks.is_empty() {
            return Ok(None);
        }
        let transport = SyncTransport::for_device(
            self.settings.registry_url.clone(),
            session.access_token().secret(),
            Some(self.device),
        );
        let token = transport.token().await;
        let mut found = Vec::with_capacity(asks.len());
        for ask in asks {
            match transport
                .registry()
                .duplicate_check(&token, &ask.check, REGISTRY_CHECK_TIMEOUT)
                .await
            {
                Ok(matches) => found.push((ask.person_key, matches)),
                // Offline, slow or refusing: its check still runs when the household arrives.
                Err(_) => return Ok(None),
            }
        }
        let (p, rid) = (partition.clone(), id.to_owned());
        blocking(move || registration::registry_question(&p, &rid, found)).await
    }

    /// Agent: take a document out of a registration in progress and delete it from the device.
    pub async fn remove_registration_document(
        &self,
        id: String,
        document: String,
    ) -> Result<Registration, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::remove_document(&partition, &id, &document)).await
    }

    /// Agent: the administrative areas a household's address may name, from the registry's list
    /// as the last sync kept it, the agent's own area first (what the picker starts with).
    pub async fn registration_areas(&self) -> Result<AreaPicker, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || areas::picker(&partition)).await
    }

    /// Agent: discard a registration in progress (nothing of it was sent).
    pub async fn discard_registration(&self, id: String) -> Result<(), AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || registration::discard(&partition, &id)).await
    }

    /// Agent: the registry's "possible duplicate" notices still open on this device.
    pub async fn duplicate_notices(&self) -> Result<Vec<DuplicateNotice>, AppError> {
        let partition = self.agent_partition().await?;
        blocking(move || duplicate_notices::list(&partition)).await
    }

    /// Agent: answer a notice: the same person (staff merge the records) or different people
    /// (recorded on the record and sent with the next sync).
    pub async fn answer_notice(&self, id: String, same: bool) -> Result<(), AppError> {
        let partition = self.agent_partition().await?;
        let session = self.caller();
        blocking(move || duplicate_notices::answer(&partition, session.as_ref(), &id, same))
            .await?;
        self.nudge_sync().await;
        Ok(())
    }

    /// Agent: the end-of-day summary since `since` (RFC 3339, the start of the local day).
    pub async fn day_summary(&self, since: String) -> Result<DaySummary, AppError> {
        let partition = self.agent_partition().await?;
        let wipe_after = self.config.agent_wipe_after_days;
        blocking(move || summary::day(&partition, &since, wipe_after)).await
    }

    /// The open partition, on a field agent's device only.
    async fn agent_partition(&self) -> Result<Arc<Partition>, AppError> {
        if self.config.mode != DeviceMode::Agent {
            return Err(AppError::WrongStage(
                "Registering households is for field agents' devices.",
            ));
        }
        self.open_partition().await
    }

    /// The caseload index of `partition`, built again if a record changed since.
    pub(super) async fn caseload(
        &self,
        partition: &Arc<Partition>,
    ) -> Result<Arc<Caseload>, AppError> {
        let cached = self
            .caseload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let p = partition.clone();
        let fresh = blocking(move || match cached {
            Some(index) if index.is_current(&p)? => Ok::<_, AppError>(index),
            _ => Ok(Arc::new(Caseload::build(&p)?)),
        })
        .await?;
        *self.caseload.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }

    /// Agent: one person's details, to prefill the form.
    pub async fn person_details(&self, individual: Uuid) -> Result<MyDetails, AppError> {
        let partition = self.open_partition().await?;
        blocking(move || views::person_details(&partition, individual)).await
    }

    /// Agent: save a person's details, acting for them (the registry records the agent as the
    /// author and the person as on-behalf-of).
    pub async fn save_person_details(
        &self,
        individual: Uuid,
        details: MyDetails,
    ) -> Result<(), AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        blocking(move || details::save_for(&partition, session.as_ref(), individual, &details))
            .await?;
        self.nudge_sync().await;
        Ok(())
    }

    /// Change the passphrase of the open profile (the data key is re-wrapped; nothing is
    /// re-encrypted). The old one must be right.
    pub async fn change_passphrase(&self, old: String, new: String) -> Result<(), AppError> {
        let partition = self.open_partition().await?;
        if self.config.mode == DeviceMode::Kiosk {
            return Err(AppError::WrongStage("A kiosk has no passphrase to change."));
        }
        let vault = self.vault.clone();
        let id = partition.id().to_owned();
        blocking(move || vault.change_passphrase(&id, &old, &new)).await
    }

    /// The person's payment accounts.
    pub async fn accounts(&self) -> Result<Vec<AccountView>, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        blocking(move || finance::accounts(&partition, session.as_ref())).await
    }

    /// Add a bank account or wallet; `preferred` makes it the one payments go to.
    pub async fn add_account(&self, input: AccountInput) -> Result<Vec<AccountView>, AppError> {
        self.change_accounts(move |p, s| finance::add(p, s, &input))
            .await
    }

    /// Send payments to this account (and to no other).
    pub async fn set_preferred_account(&self, id: Uuid) -> Result<Vec<AccountView>, AppError> {
        self.change_accounts(move |p, s| finance::set_preferred(p, s, id))
            .await
    }

    /// Remove an account (not the one payments go to while there are others).
    pub async fn remove_account(&self, id: Uuid) -> Result<Vec<AccountView>, AppError> {
        self.change_accounts(move |p, s| finance::remove(p, s, id))
            .await
    }

    async fn change_accounts(
        &self,
        change: impl FnOnce(&Partition, Who<'_>) -> Result<(), AppError> + Send + 'static,
    ) -> Result<Vec<AccountView>, AppError> {
        self.change_then(change, finance::accounts).await
    }

    /// Every programme on this device, with the person's applications to it.
    pub async fn programmes(&self) -> Result<Vec<ProgrammeView>, AppError> {
        self.read(programmes::programmes).await
    }

    /// The form to apply to a programme (or to continue the application in progress), with
    /// the answers saved so far.
    pub async fn application_form(&self, programme: Uuid) -> Result<ApplicationForm, AppError> {
        self.read(move |p, s| programmes::form(p, s, programme))
            .await
    }

    /// Keep the answers typed so far (the form calls this as the person types). Local only.
    pub async fn save_application_draft(
        &self,
        programme: Uuid,
        data: serde_json::Value,
    ) -> Result<String, AppError> {
        self.read(move |p, s| programmes::save_draft(p, s, programme, &data))
            .await
    }

    /// Forget the answers typed so far.
    pub async fn discard_application_draft(&self, programme: Uuid) -> Result<(), AppError> {
        self.read(move |p, _| programmes::discard_draft(p, programme))
            .await
    }

    /// Submit an application (queued when offline).
    pub async fn submit_application(
        &self,
        programme: Uuid,
        data: serde_json::Value,
    ) -> Result<ApplicationView, AppError> {
        let view = self
            .read(move |p, s| programmes::submit(p, s, programme, data))
            .await?;
        self.nudge_sync().await;
        Ok(view)
    }

    /// The person's notifications, newest first.
    pub async fn notifications(&self) -> Result<Vec<NotificationView>, AppError> {
        self.read(notifications::list).await
    }

    /// Mark a notification read (or unread again); syncs like any edit.
    pub async fn mark_notification(
        &self,
        id: Uuid,
        read: bool,
    ) -> Result<Vec<NotificationView>, AppError> {
        self.change_then(
            move |p, s| notifications::mark(p, s, id, read),
            notifications::list,
        )
        .await
    }

    /// The person's documents and what the programmes require.
    pub async fn documents(&self) -> Result<DocumentsView, AppError> {
        self.read(documents::view).await
    }

    /// Start adding a document; the UI then sends its bytes with [`Doorstep::upload_chunk`].
    pub async fn begin_upload(&self, upload: NewUpload) -> Result<Uuid, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        self.uploads.begin(partition, session.as_ref(), upload)
    }

    /// The next piece of the file; returns the bytes received so far.
    pub async fn upload_chunk(&self, token: Uuid, bytes: Vec<u8>) -> Result<u64, AppError> {
        let uploads = self.uploads.clone();
        // Sending may wait for the encrypting thread; do not hold up the async threads.
        blocking(move || uploads.chunk(token, bytes)).await
    }

    /// Every byte sent: store the document (and delete the one it replaces).
    pub async fn finish_upload(&self, token: Uuid) -> Result<DocumentsView, AppError> {
        let session = self.caller();
        let uploads = self.uploads.clone();
        blocking(move || uploads.finish(token, session.as_ref()).map(drop)).await?;
        self.nudge_sync().await;
        self.documents().await
    }

    /// Stop adding a document; nothing of it is kept.
    pub async fn cancel_upload(&self, token: Uuid) {
        let uploads = self.uploads.clone();
        let _ = tokio::task::spawn_blocking(move || uploads.cancel(token)).await;
    }

    /// A document's bytes, for the preview (only documents kept on this device).
    /// A document's bytes. One added on another device is fetched from the registry the first
    /// time (it then stays in the vault, encrypted); offline, that says it needs the network.
    pub async fn document_content(&self, id: Uuid) -> Result<Vec<u8>, AppError> {
        let partition = self.open_partition().await?;
        let p = partition.clone();
        let on_device = blocking(move || Ok::<_, AppError>(p.document(id)?.is_some())).await?;
        if !on_device {
            let Some(session) = self.session() else {
                return Err(refused(
                    "documentOffline",
                    "This document is kept at the registry. Sign in and connect to open it; it is then kept on this device.",
                ));
            };
            let transport = SyncTransport::for_device(
                self.settings.registry_url.clone(),
                session.access_token().secret(),
                Some(self.device),
            );
            documents::download(partition.clone(), &transport, id).await?;
        }
        blocking(move || documents::content(&partition, id)).await
    }

    /// Delete a document (the registry's copy too, with the next sync).
    pub async fn delete_document(&self, id: Uuid) -> Result<DocumentsView, AppError> {
        self.change_then(move |p, s| documents::delete(p, s, id), documents::view)
            .await
    }

    /// Read from the open partition off the async threads.
    async fn read<V: Send + 'static>(
        &self,
        view: impl FnOnce(&Partition, Who<'_>) -> Result<V, AppError> + Send + 'static,
    ) -> Result<V, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        blocking(move || view(&partition, session.as_ref())).await
    }

    /// Make a change, ask for a sync soon, and return the screen's new view.
    async fn change_then<V: Send + 'static>(
        &self,
        change: impl FnOnce(&Partition, Who<'_>) -> Result<(), AppError> + Send + 'static,
        view: impl FnOnce(&Partition, Who<'_>) -> Result<V, AppError> + Send + 'static,
    ) -> Result<V, AppError> {
        let partition = self.open_partition().await?;
        let session = self.caller();
        let (p, s) = (partition.clone(), session.clone());
        blocking(move || change(&p, s.as_ref())).await?;
        self.nudge_sync().await;
        blocking(move || view(&partition, session.as_ref())).await
    }

    /// Changes the registry refused, with its reasons.
    pub async fn rejections(&self) -> Result<Vec<RejectionView>, AppError> {
        let partition = self.open_partition().await?;
        blocking(move || views::rejections(&partition)).await
    }

    /// Drop a refused change: the record returns to the registry's version with the next sync.
    /// The changes refused only because of it go with it (a household member of a person the
    /// registry refused cannot be sent without them).
    pub async fn discard_rejection(&self, mutation_id: Uuid) -> Result<(), AppError> {
        let partition = self.open_partition().await?;
        let p = partition.clone();
        blocking(move || {
            let dependents = views::refused_because(&p, &mutation_id.to_string())?;
            // A refused status move, or a refused edit.
            if !p.discard_refused_transition(mutation_id)? {
                p.discard_rejected(mutation_id)?;
            }
            for dependent in dependents {
                p.discard_rejected(dependent)?;
            }
            Ok::<_, AppError>(())
        })
        .await?;
        self.nudge_sync().await;
        Ok(())
    }

    /// Conflicts waiting for the person, grouped by record.
    pub async fn conflicts(&self) -> Result<Vec<ConflictView>, AppError> {
        let partition = self.open_partition().await?;
        blocking(move || views::conflicts(&partition)).await
    }

    /// Resolve every conflicting field of one record; the result is queued as a change on the
    /// registry's current revision.
    pub async fn resolve_conflict(
        &self,
        kind: String,
        record_id: Uuid,
        choices: Vec<FieldChoice>,
    ) -> Result<(), AppError> {
        let partition = self.open_partition().await?;
        let actor = self.actor();
        let choices = field_choices(choices)?;
        blocking(move || {
            partition
                .resolve_conflicts(&kind, record_id, &choices, &actor)
                .map(|_| ())
                .map_err(AppError::from)
        })
        .await?;
        self.nudge_sync().await;
        Ok(())
    }

    /// Apply one household change, sync soon, and return the new view.
    async fn change_household(
        &self,
        change: impl FnOnce(&Partition, Who<'_>) -> Result<(), AppError> + Send + 'static,
    ) -> Result<HouseholdView, AppError> {
        self.change_then(change, household::view).await
    }

    pub(super) async fn open_partition(&self) -> Result<Arc<Partition>, AppError> {
        self.wipe_if_revoked().await?;
        match &*self.stage.lock().await {
            Stage::Ready(open) => Ok(open.partition.clone()),
            _ => Err(AppError::WrongStage("Open your data first.")),
        }
    }

    /// After a local change: sync soon if we can, else refresh the counts.
    pub(super) async fn nudge_sync(&self) {
        let _ = self.sync_now().await;
    }
}

/// The person's decision for one conflicting field, as the conflict screen sends it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, specta::Type)]
#[serde(tag = "take", rename_all = "camelCase")]
pub enum FieldChoice {
    Mine {
        field: String,
    },
    Theirs {
        field: String,
    },
    /// A merged value the person typed (text fields only).
    Value {
        field: String,
        value: String,
    },
}

pub(super) fn field_choices(
    choices: Vec<FieldChoice>,
) -> Result<BTreeMap<String, Choice>, AppError> {
    let mut out = BTreeMap::new();
    for choice in choices {
        let (field, choice) = match choice {
            FieldChoice::Mine { field } => (field, Choice::Mine),
            FieldChoice::Theirs { field } => (field, Choice::Theirs),
            FieldChoice::Value { field, value } => {
                if value.chars().count() > 10_000 {
                    return Err(Refusal::new(
                        "valueTooLong",
                        format!("The value for {field} is too long."),
                    )
                    .with("field", &field)
                    .into());
                }
                (field, Choice::Value(serde_json::Value::String(value)))
            }
        };
        if out.insert(field.clone(), choice).is_some() {
            return Err(Refusal::new(
                "chosenTwice",
                format!("{field} was chosen twice; choose once per field."),
            )
            .with("field", &field)
            .into());
        }
    }
    if out.is_empty() {
        return Err(refused("chooseEach", "Choose a value for each field."));
    }
    Ok(out)
}
