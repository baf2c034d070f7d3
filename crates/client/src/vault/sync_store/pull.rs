//! Pulled pages, the pull cursor, and when the last sync succeeded.

use doorstep_domain::sync::PulledRecord;
use rusqlite::params;

use super::{get_state, set_state, write_server_version, CURSOR, LAST_SUCCESS};
use crate::vault::partition::Partition;
use crate::vault::VaultError;

impl Partition {
    /// Apply one pulled page and move the cursor, in one transaction. A record with changes
    /// still waiting to be sent keeps the device's version (the push will merge it).
    pub fn apply_pull(&self, records: &[PulledRecord], cursor: &str) -> Result<usize, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut applied = 0;
        for r in records {
            let kind = r.kind.as_str();
            let id = r.id.to_string();
            let waiting: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ?1 AND record_id = ?2 AND state = 'pending')
                     OR EXISTS (SELECT 1 FROM conflicts WHERE kind = ?1 AND record_id = ?2)",
                params![kind, id],
                |row| row.get(0),
            )?;
            if waiting {
                continue;
            }
            write_server_version(&tx, kind, &id, r.rev, &r.body, r.deleted)?;
            applied += 1;
        }
        set_state(&tx, CURSOR, cursor)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Keep a record the registry just answered with (e.g. a liveness check it recorded), as a
    /// pull would, without moving the cursor: the next pull brings it again, unchanged.
    pub fn keep_registry_record(&self, record: &PulledRecord) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        write_server_version(
            &tx,
            record.kind.as_str(),
            &record.id.to_string(),
            record.rev,
            &record.body,
            record.deleted,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Where the next pull starts (`None`: from the beginning).
    pub fn sync_cursor(&self) -> Result<Option<String>, VaultError> {
        get_state(&self.conn(), CURSOR)
    }

    /// Forget the cursor (the registry said it is from elsewhere): the next pull starts over.
    pub fn reset_sync_cursor(&self) -> Result<(), VaultError> {
        self.conn()
            .execute("DELETE FROM sync_state WHERE key = ?1", params![CURSOR])?;
        Ok(())
    }

    /// Note a sync that ended without error.
    pub fn mark_sync_success(&self, at: &str) -> Result<(), VaultError> {
        set_state(&self.conn(), LAST_SUCCESS, at)
    }

    /// When the last sync ended without error.
    pub fn last_sync_success(&self) -> Result<Option<String>, VaultError> {
        get_state(&self.conn(), LAST_SUCCESS)
    }
}
