//! Documents whose bytes still have to reach the registry, and how far each upload got.

use rusqlite::params;
use uuid::Uuid;

use crate::vault::partition::Partition;
use crate::vault::VaultError;

/// A document whose bytes still have to reach the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub document_id: Uuid,
    /// The registry's upload URL, once the upload was created there.
    pub url: Option<String>,
    pub offset: u64,
    pub size_bytes: u64,
    pub sha256: String,
    pub file_name: String,
}

impl Partition {
    /// Documents whose metadata the registry has (the record has a revision) but whose bytes it
    /// does not have yet.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT u.document_id, u.url, u.offset, d.size_bytes, d.sha256, d.file_name
             FROM uploads u JOIN documents d ON d.id = u.document_id
             JOIN records r ON r.kind = 'document' AND r.id = u.document_id
             WHERE u.done = 0 AND r.rev IS NOT NULL ORDER BY u.document_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, url, offset, size, sha256, file_name) = row?;
            Ok(PendingUpload {
                document_id: id
                    .parse()
                    .map_err(|_| VaultError::Corrupt("upload document id".into()))?,
                url,
                offset: offset as u64,
                size_bytes: size as u64,
                sha256,
                file_name,
            })
        })
        .collect()
    }

    /// Remember how far an upload got (called after every acknowledged chunk).
    pub fn record_upload(
        &self,
        document: Uuid,
        url: Option<&str>,
        offset: u64,
        done: bool,
    ) -> Result<(), VaultError> {
        self.conn().execute(
            "UPDATE uploads SET url = ?2, offset = ?3, done = ?4 WHERE document_id = ?1",
            params![document.to_string(), url, offset as i64, done],
        )?;
        Ok(())
    }
}
