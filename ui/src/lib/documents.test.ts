import { afterEach, describe, expect, it, vi } from 'vitest';
import { byProgramme, fileProblem, formatSize, hasCamera, photoFileName, previewKind } from './documents';
import { setLocale } from '../i18n/i18n.svelte';

const MB = 1024 * 1024;

describe('formatSize', () => {
  it('writes sizes in kB and MB as each language does', () => {
    expect(formatSize(1, 'en')).toBe('1 kB');
    expect(formatSize(850 * 1024, 'en')).toBe('850 kB');
    expect(formatSize(3.44 * MB, 'en')).toBe('3.4 MB');
    expect(formatSize(100 * MB, 'en')).toBe('100 MB');
    expect(formatSize(3.44 * MB, 'fr')).toMatch(/^3,4\sMo$/);
    expect(formatSize(0, 'C')).toBe('0 kB');
    // Progress counts in the total's unit.
    expect(formatSize(0, 'en', 3 * MB)).toBe('0 MB');
    expect(formatSize(1.5 * MB, 'en', 30 * MB)).toBe('1.5 MB');
  });
});

describe('fileProblem', () => {
  afterEach(() => setLocale('en'));

  it('refuses empty, too large and unaccepted files with a message naming the limit', () => {
    setLocale('en');
    expect(fileProblem({ size: 0, type: 'image/png' }, 100 * MB)).toBe('This file is empty. Choose another file.');
    expect(fileProblem({ size: 120 * MB, type: 'application/pdf' }, 100 * MB)).toBe(
      'This file is 120 MB, but a file can be at most 100 MB. Scan it at a lower quality, or take a photo of it instead.',
    );
    expect(fileProblem({ size: 10, type: 'text/plain' }, 100 * MB)).toMatch(/cannot be added/);
    expect(fileProblem({ size: 10, type: 'image/heic' }, 100 * MB)).toBeNull();
    // A type the system does not know is left to the registry's own check.
    expect(fileProblem({ size: 10, type: '' }, 100 * MB)).toBeNull();
    setLocale('fr');
    expect(fileProblem({ size: 120 * MB, type: 'application/pdf' }, 100 * MB)).toMatch(/^Ce fichier fait 120\sMo, mais un fichier ne peut pas dépasser 100\sMo/);
  });
});

describe('byProgramme', () => {
  it('groups requirements by programme, keeping their order', () => {
    const groups = byProgramme([
      { programme: 'Cash for families', kind: 'id_card', met: true },
      { programme: 'School meals', kind: 'proof_of_address', met: false },
      { programme: 'Cash for families', kind: 'income_certificate', met: false },
    ]);
    expect(groups.map(([p, rs]) => [p, rs.map((r) => r.kind)])).toEqual([
      ['Cash for families', ['id_card', 'income_certificate']],
      ['School meals', ['proof_of_address']],
    ]);
  });
});

describe('previewKind', () => {
  it('shows pictures on this device, and says why not otherwise', () => {
    expect(previewKind({ mimeType: 'image/jpeg', onDevice: true })).toBe('image');
    expect(previewKind({ mimeType: 'application/pdf', onDevice: true })).toBe('pdf');
    expect(previewKind({ mimeType: 'image/jpeg', onDevice: false })).toBe('notOnDevice');
    expect(previewKind({ mimeType: 'application/octet-stream', onDevice: true })).toBe('other');
  });
});

describe('photoFileName', () => {
  it('names a photo after the local time it was taken', () => {
    expect(photoFileName(new Date(2026, 2, 4, 9, 5))).toBe('photo-2026-03-04-0905.jpg');
  });
});

describe('hasCamera', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('is true only when a video input is listed', async () => {
    const devices = (kinds: string[]) => ({ enumerateDevices: async () => kinds.map((kind) => ({ kind })) });
    vi.stubGlobal('navigator', { mediaDevices: devices(['audioinput', 'videoinput']) });
    expect(await hasCamera()).toBe(true);
    vi.stubGlobal('navigator', { mediaDevices: devices(['audioinput']) });
    expect(await hasCamera()).toBe(false);
    vi.stubGlobal('navigator', {});
    expect(await hasCamera()).toBe(false);
    vi.stubGlobal('navigator', { mediaDevices: { enumerateDevices: async () => Promise.reject(new Error('no')) } });
    expect(await hasCamera()).toBe(false);
  });
});
