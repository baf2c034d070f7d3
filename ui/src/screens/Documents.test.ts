import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';

// The screen reaches Rust through the generated commands and, for bytes, `invoke`; both are
// replaced so the screen's own behaviour is what is tested.
const MiB = 1024 * 1024;
const state = vi.hoisted(() => ({
  calls: [] as string[],
  /** Resolves the next chunk; while null, chunks are answered at once. */
  holdChunks: false,
  release: [] as (() => void)[],
  received: 0,
}));

const idCard = {
  id: 'doc-1',
  kind: 'id_card',
  fileName: 'id-front.jpg',
  mimeType: 'image/jpeg',
  sizeBytes: 2_500_000,
  capturedAt: '2026-03-04T09:30:00Z',
  state: 'sent',
  onDevice: true,
};
const bill = {
  id: 'doc-2',
  kind: 'proof_of_address',
  fileName: 'water bill.pdf',
  mimeType: 'application/pdf',
  sizeBytes: 300_000,
  capturedAt: '2026-03-05T10:00:00Z',
  state: 'waiting',
  onDevice: true,
};
const view = {
  documents: [idCard, bill],
  requirements: [
    { programme: 'Cash for families', kind: 'id_card', met: true },
    { programme: 'Cash for families', kind: 'income_certificate', met: false },
    { programme: 'School meals', kind: 'proof_of_address', met: true },
  ],
  maxBytes: 4 * MiB,
};

vi.mock('../lib/bindings', () => ({
  // No sync finishes in these tests (the refresh after a sync is Notifications.test.ts's).
  events: { syncStatusChanged: { listen: vi.fn(async () => () => {}) } },
  commands: {
    syncStatus: vi.fn(async () => ({ running: false, lastSuccess: null })),
    documents: vi.fn(async () => ({ status: 'ok', data: view })),
    beginUpload: vi.fn(async () => {
      state.calls.push('begin');
      state.received = 0;
      return { status: 'ok', data: 'token-1' };
    }),
    finishUpload: vi.fn(async () => {
      state.calls.push('finish');
      return { status: 'ok', data: { ...view, documents: [{ ...idCard, id: 'doc-3', fileName: 'new.png', state: 'waiting' }, ...view.documents] } };
    }),
    cancelUpload: vi.fn(async () => {
      state.calls.push('cancel');
      return { status: 'ok', data: null };
    }),
    deleteDocument: vi.fn(async (id: string) => {
      state.calls.push(`delete ${id}`);
      return { status: 'ok', data: { ...view, documents: view.documents.filter((d) => d.id !== id) } };
    }),
  },
}));

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(async (cmd: string, args: unknown) => {
    if (cmd === 'upload_chunk') {
      state.calls.push('chunk');
      if (state.holdChunks) await new Promise<void>((r) => state.release.push(r));
      state.received += (args as Uint8Array).length;
      return state.received;
    }
    if (cmd === 'document_content') return new Uint8Array([0xff, 0xd8, 0xff]).buffer;
    throw new Error(`unexpected ${cmd}`);
  }),
}));

import Documents from './Documents.svelte';
import { commands } from '../lib/bindings';
import { setLocale } from '../i18n/i18n.svelte';

function choose(file: File) {
  const input = screen.getByTestId('document-file') as HTMLInputElement;
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  return fireEvent.change(input);
}

/** Let the chunk waiting in `invoke` be answered (once one waits). */
async function releaseChunk() {
  await waitFor(() => expect(state.release.length).toBeGreaterThan(0));
  state.release.shift()!();
}

const fileOf = (bytes: number, name = 'new.png', type = 'image/png') => new File([new Uint8Array(bytes)], name, { type });

function withCameras(kinds: string[]) {
  Object.defineProperty(navigator, 'mediaDevices', {
    value: {
      enumerateDevices: async () => kinds.map((kind) => ({ kind })),
      addEventListener: vi.fn(),
      removeEventListener: vi.fn(),
    },
    configurable: true,
  });
}

describe('the documents screen', () => {
  beforeEach(() => {
    setLocale('en');
    state.calls.length = 0;
    state.holdChunks = false;
    state.release.length = 0;
    vi.clearAllMocks();
    URL.createObjectURL = vi.fn(() => 'blob:preview');
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => {
    cleanup();
    Reflect.deleteProperty(navigator, 'mediaDevices');
  });

  it('lists the documents and what each programme needs, in words', async () => {
    render(Documents, { ondone: vi.fn() });
    const rows = await screen.findAllByTestId('document');
    expect(rows).toHaveLength(2);
    const first = within(rows[0]);
    expect(first.getByText('Identity card')).toBeTruthy();
    expect(first.getByText('id-front.jpg').tagName).toBe('BDI');
    expect(first.getByText('2.4 MB · added Mar 4, 2026')).toBeTruthy();
    expect(first.getByText('Sent to the registry')).toBeTruthy();
    expect(within(rows[1]).getByText('293 kB · added Mar 5, 2026')).toBeTruthy();
    expect(within(rows[1]).getByText('On this device, will be sent')).toBeTruthy();

    const requirements = screen.getAllByTestId('requirement');
    expect(requirements.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '✓ Identity card: Received',
      '! Income certificate: Still needed Add it now: Income certificate',
      '✓ Proof of address: Received',
    ]);
    expect(screen.getByRole('heading', { name: 'Cash for families' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'School meals' })).toBeTruthy();
    // The limit is said before a file is chosen.
    expect(screen.getByText(/up to 4 MB/)).toBeTruthy();
    expect(screen.getByTestId('document-file').getAttribute('accept')).toBe('image/jpeg,image/png,image/webp,image/heic,image/tiff,application/pdf');
  });

  it('"Add it now" chooses the missing kind', async () => {
    render(Documents, { ondone: vi.fn() });
    await fireEvent.click(await screen.findByRole('button', { name: 'Add it now: Income certificate' }));
    expect((screen.getByTestId('document-kind') as HTMLSelectElement).value).toBe('income_certificate');
    expect(document.activeElement).toBe(screen.getByTestId('document-file'));
  });

  it('adds a file of the chosen kind, showing progress, and says when it is done', async () => {
    state.holdChunks = true;
    render(Documents, { ondone: vi.fn() });
    await screen.findAllByTestId('document');
    await fireEvent.change(screen.getByTestId('document-kind'), { target: { value: 'income_certificate' } });
    await choose(fileOf(3 * MiB));
    const bar = (await screen.findByTestId('document-progress')) as HTMLProgressElement;
    expect(screen.getByText('Adding new.png…')).toBeTruthy();
    expect(bar.max).toBe(3 * MiB);
    expect(screen.getByTestId('document-progress-text').textContent).toBe('0 MB of 3 MB');
    await releaseChunk();
    await waitFor(() => expect(screen.getByTestId('document-progress-text').textContent).toBe('1 MB of 3 MB'));
    expect(bar.value).toBe(MiB);
    expect(bar.getAttribute('aria-valuetext')).toBe('1 MB of 3 MB');
    await releaseChunk();
    await releaseChunk();
    expect((await screen.findByTestId('documents-message')).textContent).toBe(
      'Document added: Income certificate. It will be sent to the registry with the next sync.',
    );
    expect(commands.beginUpload).toHaveBeenCalledWith({ kind: 'income_certificate', fileName: 'new.png', sizeBytes: 3 * MiB, replaces: null });
    expect(state.calls).toEqual(['begin', 'chunk', 'chunk', 'chunk', 'finish']);
    expect(screen.getAllByTestId('document')).toHaveLength(3);
    expect(screen.queryByTestId('document-progress')).toBeNull();
  });

  it('Cancel stops the upload and keeps nothing', async () => {
    state.holdChunks = true;
    render(Documents, { ondone: vi.fn() });
    await screen.findAllByTestId('document');
    await choose(fileOf(3 * MiB));
    const cancel = await screen.findByTestId('document-cancel');
    expect(document.activeElement).toBe(cancel);
    await waitFor(() => expect(state.release).toHaveLength(1));
    await fireEvent.click(cancel);
    await releaseChunk();
    expect((await screen.findByTestId('documents-message')).textContent).toBe('Adding the file was stopped. Nothing was kept.');
    expect(state.calls).toEqual(['begin', 'chunk', 'cancel']);
    expect(commands.finishUpload).not.toHaveBeenCalled();
  });

  it('refuses a file over the limit before sending anything, naming the limit', async () => {
    render(Documents, { ondone: vi.fn() });
    await screen.findAllByTestId('document');
    await choose(fileOf(5 * MiB, 'scan.pdf', 'application/pdf'));
    expect((await screen.findByTestId('documents-error')).textContent).toBe(
      'This file is 5 MB, but a file can be at most 4 MB. Scan it at a lower quality, or take a photo of it instead.',
    );
    expect(commands.beginUpload).not.toHaveBeenCalled();
    expect(state.calls).toEqual([]);
  });

  it('shows why the registry refused a file', async () => {
    vi.mocked(commands.beginUpload).mockResolvedValueOnce({
      status: 'error',
      error: { code: 'invalidInput', message: 'Register your details first; documents belong to your registration.', fields: [], key: null, params: {} },
    });
    render(Documents, { ondone: vi.fn() });
    await screen.findAllByTestId('document');
    await choose(fileOf(10));
    expect((await screen.findByTestId('documents-error')).textContent).toBe('Register your details first; documents belong to your registration.');
  });

  it('deletes only after the person confirms', async () => {
    render(Documents, { ondone: vi.fn() });
    const rows = await screen.findAllByTestId('document');
    await fireEvent.click(within(rows[1]).getByTestId('document-delete'));
    expect(commands.deleteDocument).not.toHaveBeenCalled();
    expect(within(rows[1]).getByText(/^Delete water bill\.pdf\?/)).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByTestId('document-confirm-delete'));
    // Changing their mind keeps it, and focus goes back to the Delete button.
    await fireEvent.click(screen.getByRole('button', { name: 'No, keep it' }));
    expect(screen.queryByTestId('document-confirm-delete')).toBeNull();
    expect(document.activeElement).toBe(within(rows[1]).getByTestId('document-delete'));
    expect(commands.deleteDocument).not.toHaveBeenCalled();

    await fireEvent.click(within(rows[1]).getByTestId('document-delete'));
    await fireEvent.click(screen.getByTestId('document-confirm-delete'));
    await waitFor(() => expect(commands.deleteDocument).toHaveBeenCalledWith('doc-2'));
    expect((await screen.findByTestId('documents-message')).textContent).toBe('water bill.pdf was deleted.');
    expect(screen.getAllByTestId('document')).toHaveLength(1);
  });

  it('replaces a document: the new file is sent with the old one’s id', async () => {
    render(Documents, { ondone: vi.fn() });
    const rows = await screen.findAllByTestId('document');
    await fireEvent.click(within(rows[0]).getByTestId('document-replace'));
    const heading = screen.getByRole('heading', { name: 'Replace id-front.jpg' });
    expect(document.activeElement).toBe(heading);
    expect((screen.getByTestId('document-kind') as HTMLSelectElement).value).toBe('id_card');
    await choose(fileOf(10, 'id-new.jpg', 'image/jpeg'));
    await screen.findByTestId('documents-message');
    expect(commands.beginUpload).toHaveBeenCalledWith({ kind: 'id_card', fileName: 'id-new.jpg', sizeBytes: 10, replaces: 'doc-1' });
    expect(screen.getByTestId('documents-message').textContent).toMatch(/^Document replaced: Identity card\./);
    expect(screen.getByRole('heading', { name: 'Add a document' })).toBeTruthy();
  });

  it('previews a picture in a dialog, and frees it and returns focus on Escape', async () => {
    render(Documents, { ondone: vi.fn() });
    const rows = await screen.findAllByTestId('document');
    const button = within(rows[0]).getByTestId('document-preview');
    button.focus();
    await fireEvent.click(button);
    const image = (await screen.findByTestId('document-preview-image')) as HTMLImageElement;
    expect(image.getAttribute('src')).toBe('blob:preview');
    expect(image.alt).toBe('Identity card: id-front.jpg');
    const dialog = screen.getByTestId('document-preview-dialog') as HTMLDialogElement;
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(within(dialog).getByRole('heading', { name: 'Identity card' })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByTestId('document-preview-close'));
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:preview');
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(screen.queryByTestId('document-preview-image')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('explains that a PDF has no preview, and reads no content for it', async () => {
    const { invoke } = await import('@tauri-apps/api/core');
    render(Documents, { ondone: vi.fn() });
    const rows = await screen.findAllByTestId('document');
    await fireEvent.click(within(rows[1]).getByTestId('document-preview'));
    expect((await screen.findByTestId('document-no-preview')).textContent).toMatch(/^PDF files cannot be shown here/);
    expect(invoke).not.toHaveBeenCalledWith('document_content', expect.anything());
    await fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByTestId('document-no-preview')).toBeNull();
  });

  it('offers the camera only when this computer has one', async () => {
    withCameras(['audioinput']);
    render(Documents, { ondone: vi.fn() });
    await screen.findAllByTestId('document');
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.queryByRole('button', { name: 'Take a photo' })).toBeNull();
    cleanup();

    withCameras(['audioinput', 'videoinput']);
    render(Documents, { ondone: vi.fn() });
    expect(await screen.findByRole('button', { name: 'Take a photo' })).toBeTruthy();
  });

  it('speaks French and Arabic', async () => {
    setLocale('fr');
    render(Documents, { ondone: vi.fn() });
    expect(within((await screen.findAllByTestId('document'))[0]).getByText("Carte d'identité")).toBeTruthy();
    expect(screen.getByText('Envoyé au registre')).toBeTruthy();
    expect(screen.getByText(/^2,4\sMo · ajouté le 4 mars 2026$/)).toBeTruthy();
    cleanup();
    setLocale('ar');
    render(Documents, { ondone: vi.fn() });
    expect(await screen.findByRole('heading', { name: 'وثائقي' })).toBeTruthy();
    expect(await screen.findAllByText('تم الاستلام')).toHaveLength(2);
    setLocale('en');
  });
});
