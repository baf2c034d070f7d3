import { describe, expect, it } from 'vitest';
import { checkMember, emptyMember, fieldOfRefusal, formFromMember, isIsoDay, localToday, memberFromForm, RELATIONSHIPS } from './household';
import type { MemberView } from './bindings';

const TODAY = '2026-01-10';

describe('the household member form', () => {
  it('asks for a name, a real past date and a plausible ID number', () => {
    expect(checkMember(emptyMember(), TODAY)).toEqual({ givenName: 'household.error.name' });
    const ok = { ...emptyMember(), familyName: 'Njoroge' };
    expect(checkMember(ok, TODAY)).toEqual({});
    expect(checkMember({ ...ok, birthdate: '02/03/2015' }, TODAY)).toEqual({ birthdate: 'household.error.date' });
    expect(checkMember({ ...ok, birthdate: '2015-02-30' }, TODAY)).toEqual({ birthdate: 'household.error.date' });
    expect(checkMember({ ...ok, birthdate: '2026-01-11' }, TODAY)).toEqual({ birthdate: 'household.error.future' });
    expect(checkMember({ ...ok, birthdate: '2026-01-10' }, TODAY)).toEqual({});
    // The ID number's rule is the vault's (see fieldOfRefusal): any text goes out as typed.
    expect(checkMember({ ...ok, nationalId: '12/34' }, TODAY)).toEqual({});
  });

  it('sends trimmed values and null for blanks', () => {
    expect(memberFromForm({ givenName: ' Baraka ', familyName: 'Njoroge', birthdate: ' ', relationship: 'spouse', nationalId: '' })).toEqual({
      givenName: 'Baraka',
      familyName: 'Njoroge',
      birthdate: null,
      relationship: 'spouse',
      nationalId: null,
    });
  });

  it('prefills the edit form from a member and round-trips', () => {
    const m: MemberView = {
      individualId: 'x',
      name: 'Zawadi Njoroge',
      givenName: 'Zawadi',
      familyName: 'Njoroge',
      relationship: 'child',
      isHead: false,
      isMe: false,
      birthdate: '2015-03-02',
      nationalId: null,
    };
    expect(memberFromForm(formFromMember(m))).toEqual({ givenName: 'Zawadi', familyName: 'Njoroge', birthdate: '2015-03-02', relationship: 'child', nationalId: null });
  });

  it('never offers head as a relationship, and knows real days', () => {
    expect(RELATIONSHIPS).not.toContain('head');
    expect(isIsoDay('2024-02-29')).toBe(true);
    expect(isIsoDay('2023-02-29')).toBe(false);
    expect(localToday(new Date(2026, 0, 5))).toBe('2026-01-05');
  });
});

describe('refusals shown next to a field', () => {
  it('puts the vault\'s ID-number refusal under the ID field, and nothing else', () => {
    expect(fieldOfRefusal('idFormat')).toEqual(['nationalId', 'problem.idFormat']);
    expect(fieldOfRefusal('householdHead')).toBeNull();
    expect(fieldOfRefusal(null)).toBeNull();
  });
});
