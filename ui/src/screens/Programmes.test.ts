import { afterEach, describe, expect, it, vi, beforeEach } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';

vi.mock('../lib/bindings', () => ({
  commands: {
    programmes: vi.fn(async () => ({
      status: 'ok',
      data: [
        {
          id: 'p-child', code: 'child-benefit', name: 'Child Benefit', description: 'For children.',
          requiredDocuments: ['id_card', 'proof_of_address'], missingDocuments: ['proof_of_address'],
          open: true, canApply: true, hasDraft: false, applicationsCloseOn: '2999-12-31',
          applications: [{
            id: 'a-1', programmeId: 'p-child', programmeName: 'Child Benefit', status: 'more_information_needed',
            updatedAt: '2026-11-20T10:00:00Z', waitingToSend: false, refused: null, editable: true,
            request: 'Send the birth certificate number.',
            timeline: [
              { status: 'draft', at: '2026-11-01T10:00:00Z', note: null, byOffice: false },
              { status: 'submitted', at: '2026-11-02T10:00:00Z', note: null, byOffice: false },
              { status: 'more_information_needed', at: '2026-11-20T10:00:00Z', note: 'Send the birth certificate number.', byOffice: true },
            ],
          }],
        },
        {
          id: 'p-old', code: 'old-age', name: 'Old-Age Pension', description: null, requiredDocuments: [], missingDocuments: [],
          open: true, canApply: false, hasDraft: false, applicationsCloseOn: null,
          applications: [{
            id: 'a-2', programmeId: 'p-old', programmeName: 'Old-Age Pension', status: 'submitted', updatedAt: '2026-11-21T10:00:00Z',
            waitingToSend: true, refused: null, editable: false, request: null,
            timeline: [{ status: 'draft', at: '2026-11-21T10:00:00Z', note: null, byOffice: false }],
          }],
        },
        {
          id: 'p-new', code: 'new', name: 'Disability Grant', description: null, requiredDocuments: [], missingDocuments: [],
          open: true, canApply: true, hasDraft: false, applications: [], applicationsCloseOn: '2020-01-31',
        },
      ],
    })),
    syncStatus: vi.fn(async () => ({ running: false, lastSuccess: null })),
  },
  events: { syncStatusChanged: { listen: vi.fn(async () => () => {}) } },
}));

import Programmes from './Programmes.svelte';
import { setLocale } from '../i18n/i18n.svelte';

describe('the programmes screen', () => {
  beforeEach(() => setLocale('en'));
  afterEach(() => cleanup());

  it('shows each application with its status, the office request and the right next step', async () => {
    const onapply = vi.fn();
    render(Programmes, { onapply });
    await screen.findByText('Child Benefit');
    expect(screen.getAllByTestId('application-status').map((e) => e.textContent)).toEqual([
      'More information needed',
      'Submitted',
    ]);
    expect(screen.getByTestId('application-request').textContent).toContain('Send the birth certificate number.');
    expect(screen.getByText(/Proof of address \(missing\)/)).toBeTruthy();
    expect(screen.getByTestId('application-waiting')).toBeTruthy();
    // Only the programmes the person can act on have a button, worded for what happens.
    const buttons = screen.getAllByTestId('apply').map((b) => b.textContent);
    expect(buttons).toEqual(['Answer the request', 'Apply']);
    await fireEvent.click(screen.getByRole('button', { name: 'Answer the request' }));
    expect(onapply).toHaveBeenCalledWith('p-child');
  });

  it('says when applications close, or closed', async () => {
    render(Programmes, { onapply: vi.fn() });
    await screen.findByText('Child Benefit');
    expect(screen.getAllByTestId('programme-closes').map((e) => e.textContent)).toEqual([
      'Applications close on Dec 31, 2999.',
      'Applications closed on Jan 31, 2020.',
    ]);
  });

  it('speaks French', async () => {
    setLocale('fr');
    render(Programmes, { onapply: vi.fn() });
    await screen.findByText('Child Benefit');
    expect(screen.getByRole('button', { name: 'Répondre à la demande' })).toBeTruthy();
    expect(screen.getAllByText('Historique')).toHaveLength(2);
  });
});
