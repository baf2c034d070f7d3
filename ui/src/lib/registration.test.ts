import { describe, expect, it } from 'vitest';
import type { FieldProblem, PersonInput, Registration } from './bindings';
import {
  accountFromForm,
  addressFromForm,
  checkAccount,
  checkAddress,
  checkMember,
  checkPerson,
  emptyAccount,
  emptyAddress,
  formFromAddress,
  emptyMember,
  emptyPerson,
  firstProblem,
  formFromMember,
  formFromPerson,
  isIdNumber,
  isPhoneNumber,
  memberFromForm,
  nameOf,
  nextStep,
  PERSON_ORDER,
  personFromForm,
  placeOf,
  placeProblems,
  problemOf,
  reasonText,
  stepOfProblems,
} from './registration';

const TODAY = '2026-01-10';
const named = { ...emptyPerson(), givenName: 'Esther', familyName: 'Langat' };

const draft = (over: Partial<Registration> = {}): Registration => ({
  id: 'r',
  step: 'members',
  head: { key: 'h', givenName: 'Esther', familyName: 'Langat', nationalId: '12345678' },
  members: [
    { person: { key: 'm0', givenName: 'Peter', familyName: 'Langat' }, relationship: 'spouse' },
    { person: { key: 'm1', givenName: 'Ann', familyName: 'Langat', nationalId: '87654321' }, relationship: 'child' },
  ],
  ...over,
});
const problem = (field: string, code: string): FieldProblem => ({ field, code, message: 'English' });

describe('the person form', () => {
  it('round-trips a person through the draft, keeping answers and extra documents', () => {
    const p: PersonInput = {
      key: 'k',
      givenName: 'Esther',
      familyName: 'Langat',
      addlName: 'Chepkoech',
      birthdate: '1990-05-17',
      birthdateNotExact: true,
      gender: 'female',
      nationalId: '12345678',
      otherIds: [
        { idType: 'passport', value: 'AK123456' },
        { idType: 'voter_card', value: 'V1' },
      ],
      phone: '+254712345678',
      disability: { seeing: 'some_difficulty', hearing: null, walking: null, cognition: null, self_care: null, communication: 'no_difficulty' },
      sameAs: null,
      notDuplicateOf: ['x'],
    };
    expect(personFromForm(formFromPerson(p))).toEqual(p);
  });

  it('sends trimmed text, null for blanks, and no other ID without its number', () => {
    const form = { ...emptyPerson(), givenName: ' Esther ', familyName: 'Langat', phone: ' ', otherIdType: 'passport' };
    expect(personFromForm(form)).toMatchObject({ givenName: 'Esther', phone: null, birthdate: null, gender: null, otherIds: [], addlName: null });
    expect(personFromForm(form).disability).toEqual({ seeing: null, hearing: null, walking: null, cognition: null, self_care: null, communication: null });
  });

  it('checks what the core checks: a name, a real past date, an estimate with a date, IDs and phone', () => {
    expect(checkPerson(emptyPerson(), TODAY)).toEqual({ givenName: { key: 'household.error.name' } });
    expect(checkPerson(named, TODAY)).toEqual({});
    expect(checkPerson({ ...named, familyName: '', givenName: 'x'.repeat(101) }, TODAY)).toEqual({ givenName: { key: 'register.error.tooLong' } });
    expect(checkPerson({ ...named, birthdate: '17/05/1990' }, TODAY).birthdate).toEqual({ key: 'household.error.date' });
    expect(checkPerson({ ...named, birthdate: '2026-01-11' }, TODAY).birthdate).toEqual({ key: 'household.error.future' });
    expect(checkPerson({ ...named, birthdate: '1890-01-01' }, TODAY).birthdate).toEqual({ key: 'register.error.tooOld' });
    expect(checkPerson({ ...named, birthdateNotExact: true }, TODAY).birthdate).toEqual({ key: 'register.error.estimate' });
    expect(checkPerson({ ...named, nationalId: '12/34' }, TODAY)).toEqual({ nationalId: { key: 'problem.idFormat' } });
    expect(checkPerson({ ...named, nationalId: '12 345-678' }, TODAY)).toEqual({});
    expect(checkPerson({ ...named, otherIdValue: 'AK1' }, TODAY)).toEqual({ otherIdType: { key: 'register.error.idType' } });
    expect(checkPerson({ ...named, otherIdType: 'passport', otherIdValue: 'AK1' }, TODAY)).toEqual({});
    expect(checkPerson({ ...named, phone: '0712345678' }, TODAY)).toEqual({ phone: { key: 'problem.phoneFormat' } });
    expect(checkPerson({ ...named, phone: '+254 712 345-678' }, TODAY)).toEqual({});
  });

  it('reads phone numbers and ID numbers the way the core does', () => {
    for (const good of ['+254712345678', '00254712345678', '+33 (1) 23.45.67.89']) expect(isPhoneNumber(good), good).toBe(true);
    for (const bad of ['0712345678', '+0712345678', '+2547', '+254 71x', '+1234567890123456', '']) expect(isPhoneNumber(bad), bad).toBe(false);
    expect(isIdNumber('')).toBe(true);
    expect(isIdNumber('ak-123 456')).toBe(true);
    expect(isIdNumber('é123')).toBe(false);
    expect(isIdNumber('9'.repeat(33))).toBe(false);
  });
});

describe('members, the address and the account', () => {
  it('round-trips a member and never takes head as a relationship', () => {
    const m = { person: personFromForm({ ...named, key: 'k' }), relationship: 'spouse' as const };
    expect(memberFromForm(formFromMember(m))).toEqual(m);
    expect(checkMember({ ...emptyMember(), givenName: 'Ann', relationship: 'head' }, TODAY)).toEqual({ relationship: { key: 'register.error.twoHeads' } });
  });

  it('has no address until something of it is typed, then wants a place and a country', () => {
    expect(addressFromForm({ ...emptyAddress(), country: 'KE' })).toBeNull();
    expect(checkAddress(emptyAddress())).toEqual({});
    expect(checkAddress({ ...emptyAddress(), line2: 'Behind the market' })).toEqual({
      locality: { key: 'register.error.addressWhere' },
      country: { key: 'register.error.country' },
    });
    const ok = { ...emptyAddress(), locality: ' Kisumu ', country: 'KE' };
    expect(checkAddress(ok)).toEqual({});
    expect(addressFromForm(ok)).toEqual({ line1: null, line2: null, locality: 'Kisumu', postalCode: null, country: 'KE', adminAreas: [] });
    expect(checkAddress({ ...ok, postalCode: '40100/1' })).toEqual({ postalCode: { key: 'register.error.postalCode' } });
  });

  it('takes picked areas as an address of their own, which still needs its country', () => {
    const kisumu = { level: 1, code: 'KE.30', name: 'Kisumu' };
    const picked = { ...emptyAddress(), adminAreas: [kisumu] };
    expect(addressFromForm(picked)?.adminAreas).toEqual([kisumu]);
    expect(checkAddress(picked)).toEqual({ country: { key: 'register.error.country' } });
    expect(checkAddress({ ...picked, country: 'KE' })).toEqual({});
    // A draft kept before the picker existed has no areas.
    expect(formFromAddress({ line1: null, line2: null, locality: 'Kisumu', postalCode: null, country: 'KE' }).adminAreas).toEqual([]);
  });

  it('checks an account before sending it, and makes it the one payments go to', () => {
    expect(checkAccount(emptyAccount())).toEqual({
      providerCode: { key: 'register.error.provider' },
      accountNumber: { key: 'register.error.accountNumber' },
      holderName: { key: 'register.error.holder' },
    });
    const wallet = { kind: 'mobile_wallet' as const, providerCode: 'mpesa', accountNumber: '+254712345678', holderName: 'Esther Langat' };
    expect(checkAccount(wallet)).toEqual({});
    expect(checkAccount({ ...wallet, providerCode: 'M-Pesa', accountNumber: '0712' })).toEqual({
      providerCode: { key: 'register.error.walletProvider' },
      accountNumber: { key: 'problem.walletFormat' },
    });
    expect(accountFromForm({ ...wallet, holderName: ' Esther Langat ' })).toEqual({ ...wallet, preferred: true });
  });
});

describe('the core’s problems, back by their inputs', () => {
  it('maps every path the core reports to the input it is about', () => {
    const d = draft();
    expect(placeOf('head.given_name', d)).toEqual({ part: 'head', field: 'givenName' });
    expect(placeOf('head.birthdate', d)).toEqual({ part: 'head', field: 'birthdate' });
    expect(placeOf('head.birthdate_not_exact', d)).toEqual({ part: 'head', field: 'birthdate' });
    expect(placeOf('head.other_ids[0].value', d)).toEqual({ part: 'head', field: 'otherIdValue' });
    // The national ID is listed first among a person's IDs when there is one.
    expect(placeOf('head.reg_ids[0].value', d)).toEqual({ part: 'head', field: 'nationalId' });
    expect(placeOf('head.reg_ids[1].id_type', d)).toEqual({ part: 'head', field: 'otherIdType' });
    expect(placeOf('members[0].person.reg_ids[0].value', d)).toEqual({ part: 'member', index: 0, field: 'otherIdValue' });
    expect(placeOf('members[1].person.national_id', d)).toEqual({ part: 'member', index: 1, field: 'nationalId' });
    expect(placeOf('members[0].person.phone', d)).toEqual({ part: 'member', index: 0, field: 'phone' });
    expect(placeOf('members[1].relationship', d)).toEqual({ part: 'member', index: 1, field: 'relationship' });
    expect(placeOf('members[0].person.same_as', d)).toEqual({ part: 'member', index: 0, field: 'givenName' });
    expect(placeOf('account.account_number', d)).toEqual({ part: 'account', field: 'accountNumber' });
    expect(placeOf('address.postal_code', d)).toEqual({ part: 'address', field: 'postalCode' });
    expect(placeOf('address', d)).toEqual({ part: 'address', field: 'line1' });
    expect(placeOf('address.admin_areas[1].code', d)).toEqual({ part: 'address', field: 'area-1' });
    expect(placeOf('address.admin_areas[0].name', d)).toEqual({ part: 'address', field: 'area-0' });
  });

  it('words a problem with the field’s own hint, else the domain’s code', () => {
    expect(problemOf(problem('head.birthdate', 'out_of_range'), 'birthdate')).toEqual({ key: 'register.error.birthdateRange' });
    expect(problemOf(problem('members[0].person.phone', 'invalid_format'), 'phone')).toEqual({ key: 'problem.phoneFormat' });
    expect(problemOf(problem('members[1].person.national_id', 'duplicate'), 'nationalId')).toEqual({ key: 'register.error.idTwice' });
    expect(problemOf(problem('members[1].relationship', 'multiple_heads'), 'relationship')).toEqual({ key: 'register.error.twoHeads' });
    expect(problemOf(problem('head.family_name', 'too_long'), 'familyName')).toEqual({ key: 'validation.too_long', field: 'family_name' });
    expect(problemOf(problem('address.admin_areas[0].code', 'unknown_reference'), 'area-0')).toEqual({ key: 'register.error.areaUnknown' });
    expect(problemOf(problem('address.admin_areas[1].name', 'inconsistent'), 'area-1')).toEqual({ key: 'register.error.areaChanged' });
  });

  it('groups the problems and sends the agent to the earliest step that has one', () => {
    const placed = placeProblems(
      [problem('members[1].person.birthdate', 'out_of_range'), problem('members[1].person.birthdate', 'invalid_format'), problem('account.holder_name', 'required')],
      draft(),
    );
    // The first problem of an input is the one shown.
    expect(placed.members).toEqual({ 1: { birthdate: { key: 'register.error.birthdateRange' } } });
    expect(placed.account).toEqual({ holderName: { key: 'register.error.holder' } });
    expect(stepOfProblems(placed)).toBe('members');
    expect(stepOfProblems(placeProblems([problem('head.phone', 'invalid_format')], draft()))).toBe('head');
    expect(stepOfProblems(placeProblems([], draft()))).toBeNull();
    expect(firstProblem({ phone: { key: 'a' }, birthdate: { key: 'b' } }, PERSON_ORDER)).toBe('birthdate');
  });

  it('sends a document of someone taken out of the household back to the documents step', () => {
    expect(placeOf('documents[1].person_key', draft())).toEqual({ part: 'document', index: 1, field: 'personKey' });
    const placed = placeProblems([problem('documents[1].person_key', 'not_allowed')], draft());
    expect(placed.documents).toEqual({ 1: { personKey: { key: 'register.error.documentOwner' } } });
    expect(stepOfProblems(placed)).toBe('documents');
    // The people come first: a member's problem is where the agent starts.
    expect(stepOfProblems(placeProblems([problem('documents[0].person_key', 'not_allowed'), problem('members[0].person.phone', 'invalid_format')], draft()))).toBe('members');
  });
});

describe('small words', () => {
  it('names people, moves on through the steps, and words the reasons', () => {
    expect(nameOf({ givenName: ' Esther ', familyName: '' })).toBe('Esther');
    expect(nextStep('head')).toBe('members');
    expect(nextStep('members')).toBe('documents');
    expect(nextStep('documents')).toBe('account');
    expect(nextStep('account')).toBe('review');
    expect(nextStep('review')).toBe('review');
    expect(reasonText({ reason: 'similar_name', similarity: 93 })).toEqual({ key: 'same.reason.similarName', params: { similarity: 93 } });
    expect(reasonText({ reason: 'same_id', id_type: 'national_id' })).toEqual({ key: 'same.reason.sameId', params: { idType: 'national_id' } });
    expect(reasonText({ reason: 'same_phone' })).toEqual({ key: 'same.reason.samePhone' });
  });
});
