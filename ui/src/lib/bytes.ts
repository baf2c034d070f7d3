// The calls that carry file bytes: a document's chunks in, a document's content out (the
// person's own, or one a reviewer opens at the registry).
//
// They are hand-written, not generated into bindings.ts, because they use Tauri's raw IPC
// bodies (see src-tauri/src/bytes.rs): a chunk goes as the request body itself, with the upload
// token in a header, and the content comes back as the response body. JSON would turn a 100 MB
// scan into some 400 MB of number arrays. tauri-specta cannot describe raw bodies, so only
// bytes and a token cross here; every structured type (the upload's metadata, the documents
// view, errors) still goes through the generated commands.

import { invoke } from '@tauri-apps/api/core';
import { commands, type ConsentTerms, type DocumentKind, type DocumentsView, type NewUpload, type UserError } from './bindings';
import { asUserError, attempt } from './session';

/** Bytes per chunk: small enough to keep memory flat, large enough to keep IPC calls few. */
export const CHUNK_BYTES = 1024 * 1024;
/** The header that names the upload a chunk belongs to (`UPLOAD_HEADER` in bytes.rs). */
const UPLOAD_HEADER = 'doorstep-upload';

export type UploadMeta = {
  kind: DocumentKind;
  fileName: string;
  /** The id of the document this one replaces, or null for a new one. */
  replaces: string | null;
  /** When given, a larger file is refused before any command is sent. */
  maxBytes?: number;
  /** A consent (kind `consent`): what the person agreed to and how (lib/consent.ts). */
  consent?: ConsentTerms | null;
  /** Agent: the household registration a document is for, before the household is saved:
   *  its consent, or with `person` one of its people's documents. */
  registration?: string | null;
  /** With `registration`: whose document it is (a person's key in that registration). */
  person?: string | null;
};

/**
 * Why an upload did not happen: the person stopped it, the file is over the limit or could not
 * be read (the screen words these itself), or the Rust side refused it (`error` says why).
 */
export type UploadFailure = 'aborted' | 'tooLarge' | 'unreadable' | 'refused';

/** The documents view after the upload, or why it did not happen. */
export type UploadOutcome = { ok: true; value: DocumentsView } | { ok: false; reason: UploadFailure; error: UserError };


const failure = (reason: UploadFailure, message: string): UploadOutcome => ({
  ok: false,
  reason,
  error: { code: 'invalidInput', message, fields: [], key: null, params: {} },
});
const aborted = () => failure('aborted', 'Adding the file was stopped; nothing was kept.');

class Aborted extends Error {}
/** Reading the file failed (it was moved, deleted or changed since it was chosen). */
class Unreadable extends Error {}

/**
 * Add a document: announce it, send the file in chunks of CHUNK_BYTES, read one slice at a
 * time so a large file is never whole in memory, then store it. `onProgress(sent, total)` is
 * called after each chunk. On any failure or when `signal` aborts, the upload is cancelled on
 * the Rust side (nothing of it is kept) and the reason returned. Once every chunk is sent the
 * document is stored; aborting then has no effect.
 */
export async function uploadDocument(
  file: Blob,
  meta: UploadMeta,
  onProgress: (sent: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadOutcome> {
  const total = file.size;
  if (meta.maxBytes !== undefined && total > meta.maxBytes) {
    return failure('tooLarge', `The file is larger than ${Math.floor(meta.maxBytes / (1024 * 1024))} MB.`);
  }
  if (signal?.aborted) return aborted();
  const upload: NewUpload = { kind: meta.kind, fileName: meta.fileName, sizeBytes: total, replaces: meta.replaces };
  // Only a consent or a registration's document carries these; others are announced as before.
  if (meta.consent) upload.consent = meta.consent;
  if (meta.registration) upload.registration = meta.registration;
  if (meta.person) upload.person = meta.person;
  const begun = await attempt(() => commands.beginUpload(upload));
  if (!begun.ok) return { ok: false, reason: 'refused', error: begun.error };
  const token = begun.value;
  try {
    onProgress(0, total);
    for (let at = 0; at < total; at += CHUNK_BYTES) {
      if (signal?.aborted) throw new Aborted();
      const end = Math.min(at + CHUNK_BYTES, total);
      const bytes = await file
        .slice(at, end)
        .arrayBuffer()
        .then(
          (b) => new Uint8Array(b),
          (e) => Promise.reject(new Unreadable(e instanceof Error ? e.message : String(e))),
        );
      if (signal?.aborted) throw new Aborted();
      const received = await invoke<number>('upload_chunk', bytes, { headers: { [UPLOAD_HEADER]: token } });
      onProgress(typeof received === 'number' ? received : end, total);
    }
    if (signal?.aborted) throw new Aborted();
  } catch (e) {
    await cancel(token);
    if (e instanceof Aborted) return aborted();
    if (e instanceof Unreadable) return failure('unreadable', `The file could not be read (${e.message}). Choose it again.`);
    return { ok: false, reason: 'refused', error: asUserError(e) };
  }
  const done = await attempt(() => commands.finishUpload(token));
  if (done.ok) return done;
  // The Rust side forgets a failed upload itself; cancelling as well costs nothing.
  await cancel(token);
  return { ok: false, reason: 'refused', error: done.error };
}

async function cancel(token: string): Promise<void> {
  try {
    await commands.cancelUpload(token);
  } catch {
    /* the upload is gone either way: the Rust side drops it when the app closes */
  }
}

/** A document's content (decrypted in memory on the Rust side), for the preview. */
export async function documentContent(id: string, type = ''): Promise<Blob> {
  const body = await invoke<ArrayBuffer | Uint8Array | number[]>('document_content', { id });
  const bytes = Array.isArray(body) ? new Uint8Array(body) : body;
  return new Blob([bytes as BlobPart], { type });
}

/** A document's content fetched from the registry for a reviewer (held in memory only). */
export async function reviewDocumentContent(id: string, type = ''): Promise<Blob> {
  try {
    const body = await invoke<ArrayBuffer | Uint8Array | number[]>('review_document_content', { id });
    const bytes = Array.isArray(body) ? new Uint8Array(body) : body;
    return new Blob([bytes as BlobPart], { type });
  } catch (e) {
    throw asUserError(e);
  }
}
