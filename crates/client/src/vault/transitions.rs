//! Application status moves waiting for the registry (see
//! `migrations/client/0004_application_transitions.sql` for why they are not in the outbox).

use rusqlite::params;
use uuid::Uuid;

use super::partition::{apply_in, now, parse_uuid};
use super::{Change, Partition, VaultError};

/// A status move the person asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransition {
    /// Minted on the device; sent as the Idempotency-Key so a resend is never applied twice.
    pub id: Uuid,
    pub application_id: Uuid,
    /// The wire name of the status, e.g. `submitted`.
    pub to_status: String,
    pub note: Option<String>,
    pub created_at: String,
    /// The registry's reason, if it refused the move.
    pub refusal: Option<String>,
}

impl Partition {
    /// Apply `changes` (the application's answers) and queue the move of `application` to
    /// `to_status`, in one transaction: the answers never reach the registry without the
    /// request to submit them, or the other way round. An earlier move of the same application
    /// that is still waiting, or was refused, is replaced.
    pub fn apply_and_request_transition(
        &self,
        changes: &[Change],
        application: Uuid,
        to_status: &str,
        note: Option<&str>,
    ) -> Result<Uuid, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let at = now();
        for change in changes {
            apply_in(&tx, change, &at)?;
        }
        tx.execute(
            "DELETE FROM transitions WHERE application_id = ?1",
            [application.to_string()],
        )?;
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO transitions (id, application_id, to_status, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.to_string(), application.to_string(), to_status, note, at],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Moves still to be sent, oldest first.
    pub fn pending_transitions(&self) -> Result<Vec<PendingTransition>, VaultError> {
        self.query_transitions("WHERE refusal IS NULL ORDER BY created_at, id", [])
    }

    /// Moves ready to be sent: the registry has the application and every change made to it
    /// on this device (a move asked for while a sync was already past its push waits for the
    /// next round, rather than reaching the registry before the answers).
    pub fn sendable_transitions(&self) -> Result<Vec<PendingTransition>, VaultError> {
        self.query_transitions(
            "WHERE refusal IS NULL
               AND EXISTS (SELECT 1 FROM records r WHERE r.kind = 'application'
                           AND r.id = transitions.application_id AND r.rev IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'application'
                               AND o.record_id = transitions.application_id AND o.state = 'pending')
             ORDER BY created_at, id",
            [],
        )
    }

    /// The waiting or refused move of one application, if any.
    pub fn transition_of(
        &self,
        application: Uuid,
    ) -> Result<Option<PendingTransition>, VaultError> {
        Ok(self
            .query_transitions(
                "WHERE application_id = ?1 ORDER BY created_at DESC LIMIT 1",
                [application.to_string()],
            )?
            .pop())
    }

    /// The registry made the move: forget it.
    pub fn transition_sent(&self, id: Uuid) -> Result<(), VaultError> {
        self.conn()
            .execute("DELETE FROM transitions WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    /// The registry refused the move: keep it with the reason, and stop sending it.
    pub fn transition_refused(&self, id: Uuid, reason: &str) -> Result<(), VaultError> {
        self.conn().execute(
            "UPDATE transitions SET refusal = ?2 WHERE id = ?1",
            params![id.to_string(), reason],
        )?;
        Ok(())
    }

    /// Moves the registry refused, oldest first (shown with the refused changes).
    pub fn refused_transitions(&self) -> Result<Vec<PendingTransition>, VaultError> {
        self.query_transitions("WHERE refusal IS NOT NULL ORDER BY created_at, id", [])
    }

    /// The person read the refusal and lets the move go. Returns whether `id` was a refused move.
    pub fn discard_refused_transition(&self, id: Uuid) -> Result<bool, VaultError> {
        Ok(self.conn().execute(
            "DELETE FROM transitions WHERE id = ?1 AND refusal IS NOT NULL",
            [id.to_string()],
        )? > 0)
    }

    /// Refused changes of both kinds: edits the registry refused and status moves it refused.
    pub fn refused_count(&self) -> Result<u64, VaultError> {
        let n: i64 = self.conn().query_row(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'rejected')
                  + (SELECT COUNT(*) FROM transitions WHERE refusal IS NOT NULL)",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Moves waiting to be sent (they count as unsent changes).
    pub fn pending_transition_count(&self) -> Result<u64, VaultError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM transitions WHERE refusal IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn query_transitions(
        &self,
        tail: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<PendingTransition>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT id, application_id, to_status, note, created_at, refusal FROM transitions {tail}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, application, to_status, note, created_at, refusal) = row?;
            Ok(PendingTransition {
                id: parse_uuid(&id)?,
                application_id: parse_uuid(&application)?,
                to_status,
                note,
                created_at,
                refusal,
            })
        })
        .collect()
    }
}
