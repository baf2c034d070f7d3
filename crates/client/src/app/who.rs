//! Whose records a screen works on, and who makes the change.
//!
//! A citizen works on their own records. A field agent who opens a person from People works on
//! that person's records in every section (household, payment details, documents, programmes,
//! notifications) — "acting for" them — while every change stays the agent's own (the actor);
//! the registry records the person as on-behalf-of. [`super::details::find_me`] answers "whose
//! records" from this, so the sections need no agent-specific code.

use serde::Serialize;
use uuid::Uuid;

use crate::signin::{Identity, Session};

/// The signed-in session (if any) and, on an agent's device, the person being served.
#[derive(Debug, Clone, Copy, Default)]
pub struct Who<'a> {
    pub session: Option<&'a Session>,
    /// The individual a field agent is acting for.
    pub acting_for: Option<Uuid>,
}

impl<'a> Who<'a> {
    pub fn identity(&self) -> Option<&'a Identity> {
        self.session.map(|s| &s.identity)
    }
}

/// An owned [`Who`], to move into a blocking task.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub session: Option<Session>,
    pub acting_for: Option<Uuid>,
}

impl Caller {
    pub fn as_ref(&self) -> Who<'_> {
        Who {
            session: self.session.as_ref(),
            acting_for: self.acting_for,
        }
    }
}

/// The person an agent is serving, for the "Acting for" banner on every screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ActingFor {
    pub id: String,
    pub name: String,
    /// The registry asks for this person's consent and none is on this device yet: capture it
    /// before changing anything for them.
    pub consent_needed: bool,
}
