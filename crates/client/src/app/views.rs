//! What the UI receives: plain, serialisable snapshots built from the vault and the session.
//! Their TypeScript twins are generated (tauri-specta), never written by hand.

use std::collections::BTreeMap;

use doorstep_domain::individual::Individual;
use doorstep_domain::record::RecordKind;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::config::{AppConfig, DeviceMode};
use super::details::{contact_of, details_of, find_me, MyDetails};
use super::notifications::{self, PendingAction};
use super::profiles::Profile;
use super::programmes::{self, ApplicationView};
use super::refusal::refused;
use super::roles::{self, Role};
use super::who::Who;
use super::{AppError, Stage};
use crate::signin::Session;
use crate::vault::{Partition, LOST_PASSPHRASE_NOTICE, MIN_PASSPHRASE_CHARS};

/// Where the person is in the sign-in / unlock life cycle.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "stage", rename_all = "camelCase")]
pub enum SessionView {
    /// Nobody's data is open. `profiles` may be unlocked offline with their passphrase.
    #[serde(rename_all = "camelCase")]
    SignedOut {
        mode: DeviceMode,
        sign_in_available: bool,
        profiles: Vec<ProfileView>,
        /// The registry withdrew this device or account and its data was removed: why, and
        /// what could not be sent. Shown until someone signs in again.
        wiped: Option<super::WipeNotice>,
    },
    /// First sign-in on this device: choose the passphrase that protects the data offline.
    #[serde(rename_all = "camelCase")]
    ChoosePassphrase {
        mode: DeviceMode,
        name: Option<String>,
        min_chars: u32,
        /// What happens if the passphrase is forgotten; show it before the person chooses.
        notice: String,
    },
    /// The person's data is on this device; the passphrase opens it.
    #[serde(rename_all = "camelCase")]
    Locked {
        mode: DeviceMode,
        name: Option<String>,
        signed_in: bool,
    },
    /// Data open. `signed_in` false: opened offline, nothing is sent until the person signs in.
    #[serde(rename_all = "camelCase")]
    Ready {
        mode: DeviceMode,
        name: Option<String>,
        signed_in: bool,
        /// Kiosk: seconds without input before the visitor is signed out; 0 elsewhere.
        idle_seconds: u32,
        /// What the registry takes the person for (at sign-in or the last sync; until it has
        /// answered, what the device is set up for). It decides the sections shown.
        role: Role,
        /// Set when that role is not for this device (the staff directory changed since the
        /// person signed in): the reason (`problem.<key>` in the catalogs). The app then shows
        /// only it and the way out.
        wrong_device: Option<String>,
    },
}

/// A profile on this device, as the offline unlock screen lists it (no personal data: the
/// index holds none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
}

/// The home screen's facts, all from the vault.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HomeView {
    /// The person has an individual record (registered, or registration queued).
    pub registered: bool,
    /// Their record has reached the registry at least once.
    pub synced: bool,
    pub name: Option<String>,
    pub national_id: Option<String>,
    /// Current values, to prefill the profile form.
    pub details: MyDetails,
    /// People in the person's household, themself included (0: no household yet).
    pub household_members: u32,
    /// The person's applications, newest first.
    pub applications: Vec<ApplicationView>,
    /// What the person should do next, most pressing first.
    pub pending: Vec<PendingAction>,
    pub unread_notifications: u32,
    /// Documents the person has on record.
    pub documents: u32,
}

/// A change the registry refused (invalid or not allowed): shown with its reason until the
/// person discards it; it never blocks the rest of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RejectionView {
    pub mutation_id: String,
    pub kind: String,
    pub record_id: String,
    /// The registry's stable problem type (e.g. `/problems/validation`).
    pub problem: String,
    /// The registry's explanation (English).
    pub message: String,
    /// Refused only because the record it points at was refused (a household member whose
    /// person's ID number is taken): that refusal's `mutation_id`. Answering that one answers
    /// this one too.
    pub because: Option<String>,
}

/// The conflicts of one record, for the side-by-side screen.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictView {
    pub kind: String,
    pub record_id: String,
    pub fields: Vec<ConflictField>,
}

/// One field both sides changed. Values are shown as text; `null` means "empty".
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictField {
    pub field: String,
    pub base: Option<String>,
    pub mine: Option<String>,
    pub theirs: Option<String>,
    /// Whether the values are plain text the person can edit into a merged value (lists and
    /// objects can only be taken whole).
    pub editable: bool,
}

pub(super) fn session_view(
    stage: &Stage,
    session: Option<&Session>,
    config: &AppConfig,
    profiles: &[Profile],
    wiped: Option<super::WipeNotice>,
    role: Role,
) -> SessionView {
    let mode = config.mode;
    let name = session.and_then(|s| s.identity.name.clone());
    match stage {
        Stage::SignedOut => SessionView::SignedOut {
            mode,
            wiped,
            sign_in_available: config.signin.is_some(),
            // A kiosk never offers to open someone else's data.
            profiles: if mode == DeviceMode::Kiosk {
                Vec::new()
            } else {
                profiles
                    .iter()
                    .map(|p| ProfileView {
                        id: p.partition.clone(),
                        created_at: p.created_at.clone(),
                        last_used_at: p.last_used_at.clone(),
                    })
                    .collect()
            },
        },
        Stage::ChoosePassphrase => SessionView::ChoosePassphrase {
            mode,
            name,
            min_chars: MIN_PASSPHRASE_CHARS as u32,
            notice: LOST_PASSPHRASE_NOTICE.to_owned(),
        },
        Stage::Locked { .. } => SessionView::Locked {
            mode,
            name,
            signed_in: session.is_some(),
        },
        Stage::Ready(_) => SessionView::Ready {
            mode,
            name,
            signed_in: session.is_some(),
            idle_seconds: if mode == DeviceMode::Kiosk {
                config.idle_timeout.as_secs().min(u64::from(u32::MAX)) as u32
            } else {
                0
            },
            role,
            wrong_device: roles::refusal(mode, role).map(|r| r.key.to_owned()),
        },
    }
}

pub(super) fn home(partition: &Partition, session: Who<'_>) -> Result<HomeView, AppError> {
    let me = find_me(partition, session)?;
    let Some(me) = me else {
        return Ok(HomeView {
            registered: false,
            synced: false,
            name: session.identity().and_then(|i| i.name.clone()),
            national_id: session.identity().and_then(|i| i.individual_id.clone()),
            details: prefill_from_identity(session.session),
            household_members: 0,
            applications: Vec::new(),
            pending: Vec::new(),
            unread_notifications: 0,
            documents: 0,
        });
    };
    let contact = contact_of(partition, me.meta.id)?;
    let me_uuid = *me.meta.id.as_uuid();
    let stored = partition.record(RecordKind::Individual.as_str(), me_uuid)?;
    let applications = programmes::applications(partition, session)?;
    let programmes = programmes::programmes(partition, session)?;
    let notices = notifications::mine(partition, session)?;
    Ok(HomeView {
        registered: true,
        synced: stored.and_then(|s| s.rev).is_some(),
        name: Some(me.display_name()).filter(|n| !n.is_empty()),
        national_id: me.reg_ids.first().map(|r| r.value.clone()),
        details: details_of(&me, contact.as_ref()),
        household_members: household_size(partition, me_uuid)?,
        pending: notifications::pending_actions(
            partition,
            session,
            &applications,
            &programmes,
            &notices,
        )?,
        applications,
        unread_notifications: notices.iter().filter(|n| !n.is_read()).count() as u32,
        documents: super::documents::count(partition, me.meta.id)?,
    })
}

/// Before the first save, the form starts from what the provider told us.
fn prefill_from_identity(session: Option<&Session>) -> MyDetails {
    let Some(identity) = session.map(|s| &s.identity) else {
        return MyDetails::default();
    };
    let name = identity.name.clone().unwrap_or_default();
    let (given, family) = match name.rsplit_once(' ') {
        Some((g, f)) => (g.to_owned(), f.to_owned()),
        None => (name, String::new()),
    };
    MyDetails {
        given_name: given,
        family_name: family,
        birthdate: identity.birthdate.clone(),
        phone: identity.phone_number.clone(),
        email: None,
        preferred_language: None,
        address: None,
        opted_out: Vec::new(),
    }
}

fn household_size(partition: &Partition, me: Uuid) -> Result<u32, AppError> {
    Ok(super::household::current_memberships_of(partition, me)?.len() as u32)
}

pub(super) fn conflicts(partition: &Partition) -> Result<Vec<ConflictView>, AppError> {
    let mut grouped: BTreeMap<(String, Uuid), Vec<ConflictField>> = BTreeMap::new();
    for c in partition.conflicts()? {
        let f = &c.conflict;
        grouped
            .entry((c.kind.clone(), c.record_id))
            .or_default()
            .push(ConflictField {
                field: f.field.clone(),
                editable: [&f.base, &f.mine, &f.theirs].iter().all(|v| {
                    matches!(
                        v,
                        Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_)
                    )
                }),
                base: as_text(&f.base),
                mine: as_text(&f.mine),
                theirs: as_text(&f.theirs),
            });
    }
    Ok(grouped
        .into_iter()
        .map(|((kind, id), fields)| ConflictView {
            kind,
            record_id: id.to_string(),
            fields,
        })
        .collect())
}

/// A value as a person reads it: strings as they are, numbers and booleans printed, lists and
/// objects as compact JSON, nothing for null.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn person_details(
    partition: &Partition,
    individual: Uuid,
) -> Result<MyDetails, AppError> {
    let person = partition
        .get::<Individual>(individual)?
        .ok_or_else(|| refused("personUnknown", "That person is not on this device."))?;
    let contact = contact_of(partition, person.meta.id)?;
    Ok(details_of(&person, contact.as_ref()))
}

pub(super) fn rejections(partition: &Partition) -> Result<Vec<RejectionView>, AppError> {
    let refused = partition.rejections()?;
    // Which refused change refused each record: a change pointing at one of those records was
    // refused for want of it (the registry has no such record), not for anything of its own.
    let cause_of: std::collections::HashMap<String, String> = refused
        .iter()
        .map(|r| (r.record_id.to_string(), r.mutation_id.to_string()))
        .collect();
    let mut edits = Vec::with_capacity(refused.len());
    for r in refused {
        let own = r.record_id.to_string();
        let because = match partition.record(&r.kind, r.record_id)? {
            Some(stored) => referenced_ids(&stored.body)
                .into_iter()
                .filter(|id| *id != own)
                .find_map(|id| cause_of.get(&id).cloned()),
            None => None,
        };
        edits.push(RejectionView {
            mutation_id: r.mutation_id.to_string(),
            kind: r.kind,
            record_id: own,
            problem: r.problem,
            message: r.message,
            because,
        });
    }
    // A submission the registry refused: discarding it leaves the application a draft.
    let moves = partition
        .refused_transitions()?
        .into_iter()
        .map(|t| RejectionView {
            mutation_id: t.id.to_string(),
            kind: RecordKind::Application.as_str().to_owned(),
            record_id: t.application_id.to_string(),
            problem: "/problems/transition-refused".into(),
            message: t.refusal.unwrap_or_default(),
            because: None,
        });
    Ok(edits.into_iter().chain(moves).collect())
}

/// The refused changes that wait only on `cause` (see [`RejectionView::because`]), and on them.
pub(super) fn refused_because(
    partition: &Partition,
    cause: &str,
) -> Result<Vec<uuid::Uuid>, AppError> {
    let all = rejections(partition)?;
    let mut found: Vec<String> = vec![cause.to_owned()];
    let mut out = Vec::new();
    // A chain (an account on a membership on a person) is followed to its end; bounded by the
    // list's length, as each change is taken once.
    while let Some(next) = found.pop() {
        for r in all
            .iter()
            .filter(|r| r.because.as_deref() == Some(next.as_str()))
        {
            if let Ok(id) = r.mutation_id.parse() {
                if !out.contains(&id) {
                    out.push(id);
                    found.push(r.mutation_id.clone());
                }
            }
        }
    }
    Ok(out)
}

/// Every string in a record's body that is a UUID: the records it points at (its own id too).
fn referenced_ids(body: &serde_json::Value) -> Vec<String> {
    match body {
        serde_json::Value::String(s) if s.parse::<uuid::Uuid>().is_ok() => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(referenced_ids).collect(),
        serde_json::Value::Object(map) => map.values().flat_map(referenced_ids).collect(),
        _ => Vec::new(),
    }
}

/// What starting afresh would lose, for a person who cannot unlock their data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AfreshPreview {
    /// What only this device held when the data was last open; `None`: not known (the counts
    /// were never kept, e.g. data from an older Doorstep).
    pub unsent: Option<crate::vault::UnsentSummary>,
    /// When those counts were taken (RFC 3339).
    pub as_of: Option<String>,
}
