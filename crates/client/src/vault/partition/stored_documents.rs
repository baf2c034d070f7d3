//! A partition's documents: each file encrypted on its way in (streamed, bounded memory) under
//! its own key, its row and its metadata record queued for the registry in one transaction, read
//! back decrypted, deleted, and what a crash left in `docs/` swept on open.

use super::*;

impl Partition {
    /// Encrypt and store a document read from `source` (streamed; memory stays bounded), then
    /// record it and queue its metadata for the registry.
    pub fn store_document(
        &self,
        new: &NewDocument,
        source: impl Read,
    ) -> Result<DocumentInfo, VaultError> {
        serde_json::from_value::<DocumentKind>(Value::String(new.kind.clone())).map_err(|_| {
            VaultError::InvalidInput(format!(
                "{:?} is not a kind of document Doorstep keeps",
                new.kind
            ))
        })?;
        let file_name = doorstep_domain::document::sanitize_file_name(&new.file_name);
        let id = Uuid::now_v7();
        let file_key = SecretKey::generate();
        let docs = self.dir.join(DOCS_DIR);
        let written = documents::write(&docs, id, &file_key, source)?;
        let info = DocumentInfo {
            id,
            kind: new.kind.clone(),
            file_name,
            mime_type: doorstep_domain::mime::sniff_mime(&written.head)
                .unwrap_or("application/octet-stream")
                .to_owned(),
            size_bytes: written.size_bytes,
            sha256: written.sha256,
            record_id: new.record_id,
            captured_at: now(),
        };
        let saved = (|| -> Result<(), VaultError> {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            insert_document_row(&tx, &info, &file_key)?;
            // A document attached to a record becomes a registry record (its bytes follow as an
            // upload once the registry has the metadata); one not attached stays on the device.
            let mutation_id = Uuid::now_v7();
            if let Some(linked) = info.record_id {
                let record = document_record(&info, linked, &new.actor, new.consent.clone())?;
                tx.execute(
                    "INSERT INTO records (kind, id, body, rev, created_at, updated_at) VALUES ('document', ?1, ?2, NULL, ?3, ?3)",
                    params![id.to_string(), record.to_string(), info.captured_at],
                )?;
                let changes = field_changes(None, record.as_object().expect("records are objects"));
                tx.execute(
                    "INSERT INTO outbox (mutation_id, kind, record_id, op, base_rev, changes, created_at) VALUES (?1, 'document', ?2, 'create', NULL, ?3, ?4)",
                    params![mutation_id.to_string(), id.to_string(), changes.to_string(), info.captured_at],
                )?;
                tx.execute(
                    "INSERT INTO uploads (document_id) VALUES (?1)",
                    params![id.to_string()],
                )?;
            }
            audit::append(
                &tx,
                &AuditEntry {
                    at: info.captured_at.clone(),
                    actor: new.actor.clone(),
                    action: "create".into(),
                    kind: "document".into(),
                    record_id: id.to_string(),
                    detail: json!({ "size_bytes": info.size_bytes, "mime_type": info.mime_type, "mutation": mutation_id.to_string() }),
                },
            )?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = saved {
            let _ = std::fs::remove_file(&written.path);
            return Err(e);
        }
        Ok(info)
    }

    /// Keep the file of a document that reached this device as a registry record only (added
    /// on another device), read from `source` (the registry's download), encrypted like any
    /// other. The bytes must be the record's (SHA-256 and size), else nothing is kept. Nothing
    /// is queued: the registry has it already.
    pub fn keep_downloaded_document(
        &self,
        record: &doorstep_domain::Document,
        source: impl Read,
    ) -> Result<DocumentInfo, VaultError> {
        let id = *record.meta.id.as_uuid();
        if self.document(id)?.is_some() {
            return self
                .document(id)?
                .ok_or_else(|| VaultError::NotFound(id.to_string()));
        }
        let file_key = SecretKey::generate();
        let docs = self.dir.join(DOCS_DIR);
        let written = documents::write(&docs, id, &file_key, source)?;
        if written.sha256 != record.sha256 || written.size_bytes != record.size_bytes {
            let _ = std::fs::remove_file(&written.path);
            return Err(VaultError::Corrupt(format!(
                "the registry's copy of document {id} is not the file its record describes"
            )));
        }
        let info = DocumentInfo {
            id,
            kind: serde_json::to_value(record.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            file_name: record.file_name.clone(),
            mime_type: record.mime_type.clone(),
            size_bytes: written.size_bytes,
            sha256: written.sha256.clone(),
            record_id: Some(*record.linked_record.as_uuid()),
            captured_at: timestamp::format(record.captured_at),
        };
        let saved = insert_document_row(&self.conn(), &info, &file_key);
        if let Err(e) = saved {
            let _ = std::fs::remove_file(&written.path);
            return Err(e);
        }
        Ok(info)
    }

    /// The registry record a document kept on this device alone (stored with no record) will
    /// become once attached to `linked`: see [`Partition::apply_batch_and_discard_draft`].
    pub fn document_record_for(
        &self,
        id: Uuid,
        linked: Uuid,
        actor: &str,
        consent: Option<doorstep_domain::document::ConsentTerms>,
    ) -> Result<Value, VaultError> {
        let info = self
            .document(id)?
            .ok_or_else(|| VaultError::InvalidInput(format!("no document {id} on this device")))?;
        document_record(&info, linked, actor, consent)
    }

    pub fn document(&self, id: Uuid) -> Result<Option<DocumentInfo>, VaultError> {
        Ok(self.document_row(id)?.map(|(info, _)| info))
    }

    fn document_row(&self, id: Uuid) -> Result<Option<(DocumentInfo, SecretKey)>, VaultError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT kind, file_name, mime_type, size_bytes, sha256, record_id, file_key, captured_at FROM documents WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, String>(4)?, r.get::<_, Option<String>>(5)?, r.get::<_, Vec<u8>>(6)?, r.get::<_, String>(7)?))
                },
            )
            .optional()?;
        let Some((kind, file_name, mime_type, size, sha256, record_id, key, captured_at)) = row
        else {
            return Ok(None);
        };
        let key = zeroize::Zeroizing::new(key);
        let key = SecretKey::from_slice(&key)
            .ok_or_else(|| VaultError::Corrupt(format!("document {id} has a damaged key")))?;
        let record_id = record_id.as_deref().map(parse_uuid).transpose()?;
        Ok(Some((
            DocumentInfo {
                id,
                kind,
                file_name,
                mime_type,
                size_bytes: size as u64,
                sha256,
                record_id,
                captured_at,
            },
            key,
        )))
    }

    /// A verifying, streaming reader over the document's plaintext.
    pub fn open_document(&self, id: Uuid) -> Result<DocumentReader, VaultError> {
        let (_, key) = self
            .document_row(id)?
            .ok_or_else(|| VaultError::NotFound(format!("document {id}")))?;
        DocumentReader::open(&self.dir.join(DOCS_DIR).join(id.to_string()), id, &key)
    }

    /// Recompute the audit log's hash chain.
    /// Delete a document: its registry record (a delete queued for sync, when there is one), its
    /// pending upload and its encrypted file, whose key goes with the row (so the bytes are
    /// unreadable even before the file is removed).
    pub fn delete_document(&self, id: Uuid, actor: &str) -> Result<(), VaultError> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let at = now();
            let has_record: bool = tx
                .query_row(
                    "SELECT 1 FROM records WHERE kind = 'document' AND id = ?1 AND deleted_at IS NULL",
                    [id.to_string()],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if has_record {
                apply_in(
                    &tx,
                    &Change {
                        kind: "document".into(),
                        id,
                        op: Op::Delete,
                        body: Value::Null,
                        actor: actor.to_owned(),
                    },
                    &at,
                )?;
            }
            tx.execute(
                "DELETE FROM uploads WHERE document_id = ?1",
                [id.to_string()],
            )?;
            let had_file = tx.execute("DELETE FROM documents WHERE id = ?1", [id.to_string()])? > 0;
            if !has_record && !had_file {
                return Err(VaultError::NotFound(format!("document {id}")));
            }
            tx.commit()?;
        }
        // A failure here leaves only ciphertext whose key is gone with the row; the next open
        // sweeps the orphan file.
        let _ = std::fs::remove_file(self.dir.join(DOCS_DIR).join(id.to_string()));
        Ok(())
    }

    /// Whether the registry has acknowledged every byte of the document.
    pub fn document_uploaded(&self, id: Uuid) -> Result<Option<bool>, VaultError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT done FROM uploads WHERE document_id = ?1",
                [id.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|done| done == 1))
    }

    /// Remove what a crash may have left in `docs/`: temp files, and files whose row never
    /// committed (their key was never stored, so they are unreadable anyway).
    pub(super) fn sweep_documents(&self) -> Result<(), VaultError> {
        let docs = self.dir.join(DOCS_DIR);
        atomic::remove_leftover_temps(&docs)
            .map_err(|e| VaultError::io("clean the documents folder", &docs, e))?;
        let known: BTreeSet<String> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM documents")?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            ids
        };
        for entry in
            std::fs::read_dir(&docs).map_err(|e| VaultError::io("list documents", &docs, e))?
        {
            let entry = entry.map_err(|e| VaultError::io("list documents", &docs, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                std::fs::remove_file(entry.path())
                    .map_err(|e| VaultError::io("remove an orphan document", &entry.path(), e))?;
            }
        }
        Ok(())
    }
}

/// The vault's row for a stored document file: what it is, and the key its bytes are under.
fn insert_document_row(
    conn: &rusqlite::Connection,
    info: &DocumentInfo,
    file_key: &SecretKey,
) -> Result<(), VaultError> {
    conn.execute(
        "INSERT INTO documents (id, kind, file_name, mime_type, size_bytes, sha256, record_id, file_key, captured_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            info.id.to_string(),
            info.kind,
            info.file_name,
            info.mime_type,
            info.size_bytes as i64,
            info.sha256,
            info.record_id.map(|r| r.to_string()),
            &file_key.as_bytes()[..],
            info.captured_at
        ],
    )?;
    Ok(())
}

/// The domain record describing a stored document, as the registry will keep it.
fn document_record(
    info: &DocumentInfo,
    linked: Uuid,
    actor: &str,
    consent: Option<doorstep_domain::document::ConsentTerms>,
) -> Result<Value, VaultError> {
    let captured =
        timestamp::parse(&info.captured_at).map_err(|e| VaultError::Corrupt(e.to_string()))?;
    let kind: DocumentKind = serde_json::from_value(Value::String(info.kind.clone()))
        .map_err(|e| VaultError::InvalidInput(e.to_string()))?;
    let document = doorstep_domain::Document {
        meta: doorstep_domain::RecordMeta::new(
            info.id.into(),
            captured,
            doorstep_domain::ActorId::new(actor),
        ),
        kind,
        file_name: info.file_name.clone(),
        mime_type: info.mime_type.clone(),
        size_bytes: info.size_bytes,
        sha256: info.sha256.clone(),
        linked_record: linked.into(),
        captured_at: captured,
        consent,
        verification_status: Default::default(),
        review: None,
    };
    document.validate().map_err(VaultError::Invalid)?;
    Ok(serde_json::to_value(document).expect("documents serialise"))
}
