import { beforeEach, describe, expect, it, vi } from 'vitest';

// The raw IPC calls go through `invoke`; the structured ones through the generated commands.
// Both are replaced, so what is tested is the order and size of what the helper sends.
const ipc = vi.hoisted(() => ({
  chunks: [] as Uint8Array[],
  headers: [] as Record<string, string>[],
  log: [] as string[],
  failAt: -1,
  onChunk: undefined as undefined | ((n: number) => void),
}));

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(async (cmd: string, args: unknown, options?: { headers: Record<string, string> }) => {
    if (cmd === 'upload_chunk') {
      const n = ipc.chunks.length;
      ipc.log.push('chunk');
      if (n === ipc.failAt) throw { code: 'storage', message: 'The disk is full.', fields: [], key: null, params: {} };
      ipc.chunks.push(args as Uint8Array);
      ipc.headers.push(options!.headers);
      ipc.onChunk?.(n);
      return ipc.chunks.reduce((sum, c) => sum + c.length, 0);
    }
    if (cmd === 'document_content') return new Uint8Array([1, 2, 3]).buffer;
    throw new Error(`unexpected ${cmd}`);
  }),
}));

const view = { documents: [], requirements: [], maxBytes: 100 * 1024 * 1024 };
vi.mock('./bindings', () => ({
  commands: {
    beginUpload: vi.fn(async () => {
      ipc.log.push('begin');
      return { status: 'ok', data: 'token-1' };
    }),
    finishUpload: vi.fn(async () => {
      ipc.log.push('finish');
      return { status: 'ok', data: view };
    }),
    cancelUpload: vi.fn(async () => {
      ipc.log.push('cancel');
      return { status: 'ok', data: null };
    }),
  },
}));

import { CHUNK_BYTES, documentContent, uploadDocument } from './bytes';
import { commands } from './bindings';

/** A file of `n` bytes whose content is its byte positions (mod 251), so order can be checked. */
function fileOf(n: number): Blob {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = i % 251;
  return new Blob([bytes], { type: 'image/jpeg' });
}

const meta = { kind: 'id_card' as const, fileName: 'id.jpg', replaces: null };

describe('uploadDocument', () => {
  beforeEach(() => {
    ipc.chunks.length = 0;
    ipc.headers.length = 0;
    ipc.log.length = 0;
    ipc.failAt = -1;
    ipc.onChunk = undefined;
    vi.clearAllMocks();
  });

  it('sends the file in order, in chunks of at most 1 MiB, then stores it', async () => {
    const size = 2 * CHUNK_BYTES + 12345;
    const file = fileOf(size);
    const progress: [number, number][] = [];
    // The helper reads the file a slice at a time, never whole.
    const slice = vi.spyOn(file, 'slice');
    const r = await uploadDocument(file, { ...meta, replaces: 'old-id' }, (s, t) => progress.push([s, t]));
    expect(r).toEqual({ ok: true, value: view });
    expect(commands.beginUpload).toHaveBeenCalledWith({ kind: 'id_card', fileName: 'id.jpg', sizeBytes: size, replaces: 'old-id' });
    expect(ipc.log).toEqual(['begin', 'chunk', 'chunk', 'chunk', 'finish']);
    expect(ipc.chunks.map((c) => c.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 12345]);
    expect(ipc.chunks.every((c) => c instanceof Uint8Array && c.length <= CHUNK_BYTES)).toBe(true);
    expect(ipc.headers.every((h) => h['doorstep-upload'] === 'token-1')).toBe(true);
    const joined = new Uint8Array(size);
    let at = 0;
    for (const c of ipc.chunks) {
      joined.set(c, at);
      at += c.length;
    }
    const original = new Uint8Array(await file.arrayBuffer());
    expect(joined.findIndex((b, i) => b !== original[i]), 'first byte out of place').toBe(-1);
    expect(slice.mock.calls).toEqual([
      [0, CHUNK_BYTES],
      [CHUNK_BYTES, 2 * CHUNK_BYTES],
      [2 * CHUNK_BYTES, size],
    ]);
    expect(progress).toEqual([
      [0, size],
      [CHUNK_BYTES, size],
      [2 * CHUNK_BYTES, size],
      [size, size],
    ]);
    expect(commands.finishUpload).toHaveBeenCalledWith('token-1');
    expect(commands.cancelUpload).not.toHaveBeenCalled();
  });

  it('cancels the upload when a chunk fails, and reports the reason', async () => {
    ipc.failAt = 1;
    const r = await uploadDocument(fileOf(3 * CHUNK_BYTES), meta, () => undefined);
    expect(r).toEqual({ ok: false, reason: 'refused', error: { code: 'storage', message: 'The disk is full.', fields: [], key: null, params: {} } });
    expect(ipc.log).toEqual(['begin', 'chunk', 'chunk', 'cancel']);
    expect(commands.cancelUpload).toHaveBeenCalledWith('token-1');
    expect(commands.finishUpload).not.toHaveBeenCalled();
  });

  it('cancels the upload when the person aborts it', async () => {
    const stop = new AbortController();
    ipc.onChunk = (n) => n === 0 && stop.abort();
    const r = await uploadDocument(fileOf(3 * CHUNK_BYTES), meta, () => undefined, stop.signal);
    expect(!r.ok && r.reason).toBe('aborted');
    expect(ipc.log).toEqual(['begin', 'chunk', 'cancel']);
    expect(commands.finishUpload).not.toHaveBeenCalled();
  });

  it('cancels when the file cannot be read any more', async () => {
    const file = fileOf(10);
    vi.spyOn(file, 'slice').mockReturnValue({ arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotReadableError')) } as unknown as Blob);
    const r = await uploadDocument(file, meta, () => undefined);
    expect(!r.ok && r.reason).toBe('unreadable');
    expect(ipc.log).toEqual(['begin', 'cancel']);
  });

  it('refuses a file larger than the limit before any command', async () => {
    const r = await uploadDocument(fileOf(2048), { ...meta, maxBytes: 1024 }, () => undefined);
    expect(!r.ok && r.reason).toBe('tooLarge');
    expect(ipc.log).toEqual([]);
    expect(commands.beginUpload).not.toHaveBeenCalled();
  });

  it('sends nothing when already aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    const r = await uploadDocument(fileOf(10), meta, () => undefined, stop.signal);
    expect(!r.ok && r.reason).toBe('aborted');
    expect(ipc.log).toEqual([]);
  });

  it('reports a refused start without sending chunks', async () => {
    vi.mocked(commands.beginUpload).mockResolvedValueOnce({ status: 'error', error: { code: 'invalidInput', message: 'Register first.', fields: [], key: null, params: {} } });
    const r = await uploadDocument(fileOf(10), meta, () => undefined);
    expect(r).toEqual({ ok: false, reason: 'refused', error: { code: 'invalidInput', message: 'Register first.', fields: [], key: null, params: {} } });
    expect(ipc.chunks).toEqual([]);
  });
});

describe('documentContent', () => {
  it('returns the raw response as a Blob of the given type', async () => {
    const blob = await documentContent('doc-1', 'image/png');
    expect(blob.type).toBe('image/png');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });
});
