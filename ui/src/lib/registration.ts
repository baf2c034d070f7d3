// A field agent's household registration (screens/Register.svelte): the wizard's forms ↔ the
// Registration draft (generated from Rust, crates/client/src/app/registration.rs), the checks the
// forms make before anything is sent (the core's rules, so the agent sees a problem by its field
// before a vault write), and the core's field problems (paths like `members[0].person.phone`)
// put back next to the input they are about, worded in the agent's language.
// The core checks everything again; what is only known there (the caseload, the household rules)
// comes back the same way.

import { areaField, MAX_AREA_LEVELS } from './areas';
import type {
  AccountInput,
  AccountKind,
  AddressDetails,
  AdminArea,
  DifficultyLevel,
  Disability,
  FieldProblem,
  Gender,
  IdInput,
  MemberEntry,
  MembershipKind,
  PersonInput,
  Reason,
  Registration,
  RegistrationStep,
} from './bindings';
import { isIsoDay } from './household';

/** The wizard's steps, in order; a draft's `step` says where to open it again. */
export const STEPS: readonly RegistrationStep[] = ['head', 'members', 'documents', 'account', 'review'];

/** The step "Continue" moves to from `step` (the core checks everything up to the step sent). */
export function nextStep(step: RegistrationStep): RegistrationStep {
  return STEPS[Math.min(STEPS.indexOf(step) + 1, STEPS.length - 1)];
}

/** The Washington Group's six questions, in their usual order. */
export const DISABILITY_DOMAINS = ['seeing', 'hearing', 'walking', 'cognition', 'self_care', 'communication'] as const;
export type DisabilityDomain = (typeof DISABILITY_DOMAINS)[number];
export const DIFFICULTY_LEVELS: readonly DifficultyLevel[] = ['no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do_at_all'];
export const GENDERS: readonly Gender[] = ['female', 'male', 'other', 'undisclosed'];
/** Identity documents besides the national ID the form offers (ID type codes of the registry's
 *  list; the registry keeps any well-formed code, these are the ones agents meet). */
export const OTHER_ID_TYPES = ['birth_certificate', 'passport', 'driving_licence', 'voter_card', 'refugee_id'] as const;
export const ACCOUNT_KINDS: readonly AccountKind[] = ['mobile_wallet', 'bank_account'];

/** One person's fields as the form edits them: text as typed, '' for "not given". */
export type PersonForm = {
  /** The record id the core minted ('' until the first save). */
  key: string;
  givenName: string;
  familyName: string;
  addlName: string;
  birthdate: string;
  birthdateNotExact: boolean;
  gender: Gender | '';
  nationalId: string;
  /** One other identity document: its type code and number. */
  otherIdType: string;
  otherIdValue: string;
  phone: string;
  disability: Record<DisabilityDomain, DifficultyLevel | ''>;
  /** The agent's answers to "Is this the same person?", kept as they are. */
  sameAs: string | null;
  notDuplicateOf: string[];
  /** Identity documents past the first other one (not edited here; kept, never dropped). */
  moreIds: IdInput[];
};

export type MemberForm = PersonForm & { relationship: MembershipKind };

/** The address as the wizard edits it; `adminAreas` are picked from the registry's list, largest first. */
export type AddressForm = { line1: string; line2: string; locality: string; postalCode: string; country: string; adminAreas: AdminArea[] };

export type AccountForm = { kind: AccountKind; providerCode: string; accountNumber: string; holderName: string };

/** A problem to show by a field: a catalog key and, for `validation.<code>`, the record field it
 *  names (worded through `fieldName`). */
export type Problem = { key: string; field?: string };
/** Input name (a key of the form) → its problem. */
export type Problems = Record<string, Problem>;

export function emptyPerson(): PersonForm {
  return {
    key: '',
    givenName: '',
    familyName: '',
    addlName: '',
    birthdate: '',
    birthdateNotExact: false,
    gender: '',
    nationalId: '',
    otherIdType: '',
    otherIdValue: '',
    phone: '',
    disability: { seeing: '', hearing: '', walking: '', cognition: '', self_care: '', communication: '' },
    sameAs: null,
    notDuplicateOf: [],
    moreIds: [],
  };
}

export function emptyMember(): MemberForm {
  return { ...emptyPerson(), relationship: 'child' };
}

export function emptyAddress(): AddressForm {
  return { line1: '', line2: '', locality: '', postalCode: '', country: '', adminAreas: [] };
}

export function emptyAccount(): AccountForm {
  return { kind: 'mobile_wallet', providerCode: '', accountNumber: '', holderName: '' };
}

const trimmed = (v: string | null | undefined) => (v ?? '').trim();
const orNull = (v: string) => (v.trim() === '' ? null : v.trim());

export function formFromPerson(p: PersonInput): PersonForm {
  const [other, ...more] = p.otherIds ?? [];
  const d = p.disability ?? {};
  return {
    key: p.key ?? '',
    givenName: p.givenName,
    familyName: p.familyName,
    addlName: p.addlName ?? '',
    birthdate: p.birthdate ?? '',
    birthdateNotExact: p.birthdateNotExact ?? false,
    gender: p.gender ?? '',
    nationalId: p.nationalId ?? '',
    otherIdType: other?.idType ?? '',
    otherIdValue: other?.value ?? '',
    phone: p.phone ?? '',
    disability: Object.fromEntries(DISABILITY_DOMAINS.map((k) => [k, d[k] ?? ''])) as PersonForm['disability'],
    sameAs: p.sameAs ?? null,
    notDuplicateOf: [...(p.notDuplicateOf ?? [])],
    moreIds: more.map((id) => ({ ...id })),
  };
}

/** What the draft keeps: trimmed text, null for blanks; the other ID only when a number is typed
 *  (the core skips a blank number anyway, and a type alone says nothing). */
export function personFromForm(f: PersonForm): PersonInput {
  const otherIds: IdInput[] = trimmed(f.otherIdValue) === '' ? [] : [{ idType: f.otherIdType.trim(), value: f.otherIdValue.trim() }];
  const disability: Disability = Object.fromEntries(DISABILITY_DOMAINS.map((k) => [k, f.disability[k] === '' ? null : f.disability[k]]));
  return {
    key: f.key,
    givenName: f.givenName.trim(),
    familyName: f.familyName.trim(),
    addlName: orNull(f.addlName),
    birthdate: orNull(f.birthdate),
    birthdateNotExact: f.birthdateNotExact,
    gender: f.gender === '' ? null : f.gender,
    nationalId: orNull(f.nationalId),
    otherIds: [...otherIds, ...f.moreIds],
    phone: orNull(f.phone),
    disability,
    sameAs: f.sameAs,
    notDuplicateOf: [...f.notDuplicateOf],
  };
}

export function formFromMember(m: MemberEntry): MemberForm {
  return { ...formFromPerson(m.person), relationship: m.relationship };
}

export function memberFromForm(f: MemberForm): MemberEntry {
  return { person: personFromForm(f), relationship: f.relationship };
}

export function formFromAddress(a: AddressDetails | null | undefined): AddressForm {
  return { line1: a?.line1 ?? '', line2: a?.line2 ?? '', locality: a?.locality ?? '', postalCode: a?.postalCode ?? '', country: a?.country ?? '', adminAreas: (a?.adminAreas ?? []).map((x) => ({ ...x })) };
}

/** The address, or null when nothing of it is typed or picked (the country alone is no address). */
export function addressFromForm(f: AddressForm): AddressDetails | null {
  const a: AddressDetails = {
    line1: orNull(f.line1),
    line2: orNull(f.line2),
    locality: orNull(f.locality),
    postalCode: orNull(f.postalCode),
    country: f.country.trim(),
    adminAreas: f.adminAreas.map((x) => ({ ...x })),
  };
  return a.line1 || a.line2 || a.locality || a.postalCode || f.adminAreas.length > 0 ? a : null;
}

export function formFromAccount(a: AccountInput | null | undefined): AccountForm {
  return a ? { kind: a.kind, providerCode: a.providerCode, accountNumber: a.accountNumber, holderName: a.holderName } : emptyAccount();
}

/** The household's account: where its payments go, so always the preferred one. */
export function accountFromForm(f: AccountForm): AccountInput {
  return { kind: f.kind, providerCode: f.providerCode.trim(), accountNumber: f.accountNumber.trim(), holderName: f.holderName.trim(), preferred: true };
}

/** The head's name as typed, for titles and the list of registrations in progress. */
export function nameOf(p: { givenName: string; familyName: string }): string {
  return [p.givenName.trim(), p.familyName.trim()].filter((n) => n !== '').join(' ');
}

// ——— Checks before sending: the core's rules (registration.rs `person_of`, the domain's
// Individual, Address and FinancialAccount), so nothing the core would refuse is sent. ———

const MAX_NAME_CHARS = 100;
const MAX_LINE_CHARS = 200;
const MAX_ID_NUMBER_CHARS = 32;
const MAX_CODE_CHARS = 64;
const MAX_POSTAL_CODE_CHARS = 16;

/** Whether `text` is a phone number the core can store (domain `normalize_phone_number` with no
 *  default country: + or 00 and the country code; spaces, dots, dashes, slashes and brackets
 *  are fine). */
export function isPhoneNumber(text: string): boolean {
  let compact = '';
  for (const c of text.trim()) {
    if (' \u00a0-./()'.includes(c)) continue;
    if (c === '+' && compact === '') compact = '+';
    else if (c >= '0' && c <= '9') compact += c;
    else return false;
  }
  const e164 = compact.startsWith('+') ? compact : compact.startsWith('00') ? `+${compact.slice(2)}` : null;
  return e164 !== null && /^\+[1-9]\d{7,14}$/.test(e164);
}

/** Whether an ID number is written as the core reads it: letters and digits once spaces and
 *  dashes are left out (domain `normalize_id_number`). */
export function isIdNumber(text: string): boolean {
  const number = text.replace(/[\s-]/g, '');
  return number.length <= MAX_ID_NUMBER_CHARS && /^[A-Za-z0-9]*$/.test(number);
}

/** A lower-case code of the registry's lists (wallet providers, ID types). */
const isCode = (text: string) => text.length <= MAX_CODE_CHARS && /^[a-z0-9][a-z0-9._-]*$/.test(text);

/** What to fix in one person's fields before sending; empty when they can be sent.
 *  `today` is YYYY-MM-DD (the device's calendar day). */
export function checkPerson(f: PersonForm, today: string): Problems {
  const p: Problems = {};
  if (trimmed(f.givenName) === '' && trimmed(f.familyName) === '') p.givenName = { key: 'household.error.name' };
  for (const field of ['givenName', 'familyName', 'addlName'] as const) {
    if (!p[field] && [...f[field].trim()].length > MAX_NAME_CHARS) p[field] = { key: 'register.error.tooLong' };
  }
  const birth = f.birthdate.trim();
  if (birth === '') {
    if (f.birthdateNotExact) p.birthdate = { key: 'register.error.estimate' };
  } else if (!isIsoDay(birth)) p.birthdate = { key: 'household.error.date' };
  else if (birth > today) p.birthdate = { key: 'household.error.future' };
  else if (Number(today.slice(0, 4)) - Number(birth.slice(0, 4)) > 130) p.birthdate = { key: 'register.error.tooOld' };
  if (!isIdNumber(f.nationalId)) p.nationalId = { key: 'problem.idFormat' };
  if (trimmed(f.otherIdValue) !== '') {
    if (!isCode(f.otherIdType.trim())) p.otherIdType = { key: 'register.error.idType' };
    if (!isIdNumber(f.otherIdValue)) p.otherIdValue = { key: 'problem.idFormat' };
  }
  if (trimmed(f.phone) !== '' && !isPhoneNumber(f.phone)) p.phone = { key: 'problem.phoneFormat' };
  return p;
}

export function checkMember(f: MemberForm, today: string): Problems {
  const p = checkPerson(f, today);
  if (f.relationship === 'head') p.relationship = { key: 'register.error.twoHeads' };
  return p;
}

/** What to fix in the address: nothing when none is typed. */
export function checkAddress(f: AddressForm): Problems {
  const p: Problems = {};
  if (addressFromForm(f) === null) return p;
  // The domain wants something that finds the house: a street, a town or village, a postal code
  // or an area. Only a second line (a landmark) is not enough.
  if (!trimmed(f.line1) && !trimmed(f.locality) && !trimmed(f.postalCode) && f.adminAreas.length === 0) p.locality = { key: 'register.error.addressWhere' };
  for (const field of ['line1', 'line2', 'locality'] as const) {
    if ([...f[field].trim()].length > MAX_LINE_CHARS) p[field] = { key: 'register.error.tooLong' };
  }
  const postal = f.postalCode.trim();
  if (postal !== '' && (postal.length > MAX_POSTAL_CODE_CHARS || !/^[A-Za-z0-9 -]+$/.test(postal))) p.postalCode = { key: 'register.error.postalCode' };
  if (!/^[A-Z]{2}$/.test(f.country.trim().toUpperCase())) p.country = { key: 'register.error.country' };
  return p;
}

/** What to fix in the account (only checked when the agent adds one). */
export function checkAccount(f: AccountForm): Problems {
  const p: Problems = {};
  const provider = f.providerCode.trim();
  const number = f.accountNumber.trim();
  if (provider === '') p.providerCode = { key: 'register.error.provider' };
  else if (f.kind === 'mobile_wallet' && !isCode(provider)) p.providerCode = { key: 'register.error.walletProvider' };
  if (number === '') p.accountNumber = { key: 'register.error.accountNumber' };
  else if (f.kind === 'mobile_wallet' && !isPhoneNumber(number)) p.accountNumber = { key: 'problem.walletFormat' };
  if (f.holderName.trim() === '') p.holderName = { key: 'register.error.holder' };
  return p;
}

// ——— The core's field problems, back by their inputs. ———

/** Where a problem of the core belongs in the wizard. */
export type Place =
  | { part: 'head'; field: string }
  | { part: 'member'; index: number; field: string }
  | { part: 'address'; field: string }
  | { part: 'account'; field: string }
  | { part: 'document'; index: number; field: string };

/** The record's field names (snake_case, as the domain reports them) → the form's inputs. */
const PERSON_FIELDS: Readonly<Record<string, string>> = {
  given_name: 'givenName',
  family_name: 'familyName',
  addl_name: 'addlName',
  birthdate: 'birthdate',
  birthdate_not_exact: 'birthdate',
  gender: 'gender',
  national_id: 'nationalId',
  phone: 'phone',
  disability: 'disability',
  // "Same person" answers are shown with the name, where the agent sees who it is.
  same_as: 'givenName',
  not_duplicate_of: 'givenName',
  key: 'givenName',
};
const ADDRESS_FIELDS: Readonly<Record<string, string>> = { line1: 'line1', line2: 'line2', locality: 'locality', postal_code: 'postalCode', country: 'country' };
const ACCOUNT_FIELDS: Readonly<Record<string, string>> = { kind: 'kind', provider_code: 'providerCode', account_number: 'accountNumber', holder_name: 'holderName' };

/**
 * The input a person's field path is about. `other_ids[0].value` is the form's other ID;
 * `reg_ids[n]` counts the national ID first when there is one (the core lists it first).
 */
function personField(rest: string, hasNationalId: boolean): string {
  const ids = /^(other_ids|reg_ids)\[(\d+)\](?:\.(\w+))?/.exec(rest);
  if (ids) {
    const n = Number(ids[2]);
    if (ids[1] === 'reg_ids' && hasNationalId && n === 0) return 'nationalId';
    return ids[3] === 'id_type' ? 'otherIdType' : 'otherIdValue';
  }
  const head = rest.split('.')[0].replace(/\[\d+\]$/, '');
  return PERSON_FIELDS[head] ?? 'givenName';
}

/** Where a problem path of the core belongs, given the draft it was about. */
export function placeOf(path: string, draft: Registration): Place {
  const member = /^members\[(\d+)\](?:\.(person)\.?)?(.*)$/.exec(path);
  if (member) {
    const index = Number(member[1]);
    if (!member[2]) return { part: 'member', index, field: 'relationship' };
    const has = !!trimmed(draft.members?.[index]?.person.nationalId);
    return { part: 'member', index, field: personField(member[3], has) };
  }
  if (path.startsWith('head')) return { part: 'head', field: personField(path.replace(/^head\.?/, ''), !!trimmed(draft.head.nationalId)) };
  const area = /^address\.admin_areas\[(\d+)\]/.exec(path);
  if (area) return { part: 'address', field: areaField(Number(area[1])) };
  if (path.startsWith('address')) return { part: 'address', field: ADDRESS_FIELDS[path.replace(/^address\.?/, '').split('.')[0]] ?? 'line1' };
  const document = /^documents\[(\d+)\]/.exec(path);
  if (document) return { part: 'document', index: Number(document[1]), field: 'personKey' };
  if (path.startsWith('account')) return { part: 'account', field: ACCOUNT_FIELDS[path.replace(/^account\.?/, '').split('.')[0]] ?? 'accountNumber' };
  // Anything else (the household as a whole) is about the head, who is entered first.
  return { part: 'head', field: 'givenName' };
}

/** The words for a problem of the core: the field's own hint where one says what to do, else
 *  the domain's code for that field (`validation.<code>`). */
export function problemOf(problem: FieldProblem, field: string): Problem {
  const own: Record<string, Record<string, string>> = {
    birthdate: { out_of_range: 'register.error.birthdateRange', invalid_format: 'household.error.date', inconsistent: 'register.error.estimate' },
    phone: { invalid_format: 'problem.phoneFormat' },
    nationalId: { invalid_format: 'problem.idFormat', duplicate: 'register.error.idTwice' },
    otherIdValue: { invalid_format: 'problem.idFormat', duplicate: 'register.error.idTwice' },
    otherIdType: { invalid_format: 'register.error.idType', duplicate: 'register.error.idTypeTwice' },
    givenName: { required: 'household.error.name', not_allowed: 'register.error.alreadyInHousehold' },
    line1: { required: 'register.error.addressWhere' },
    relationship: { multiple_heads: 'register.error.twoHeads' },
    accountNumber: { invalid_format: 'register.error.accountFormat', invalid_checksum: 'register.error.accountFormat', required: 'register.error.accountNumber' },
    providerCode: { invalid_format: 'register.error.providerFormat', required: 'register.error.provider' },
    personKey: { not_allowed: 'register.error.documentOwner' },
    holderName: { required: 'register.error.holder' },
    country: { invalid_format: 'register.error.country', unknown_country: 'register.error.country', required: 'register.error.country' },
  };
  const key = own[field]?.[problem.code];
  if (key) return { key };
  // An area: not in the device's list, or the list says otherwise (it changed since the pick).
  if (field.startsWith('area-')) return { key: problem.code === 'unknown_reference' ? 'register.error.areaUnknown' : 'register.error.areaChanged' };
  const leaf = problem.field.split('.').pop()?.replace(/\[\d+\]$/, '') || field;
  return { key: `validation.${problem.code}`, field: leaf };
}

/** Every problem of the core, grouped by where it belongs (the first problem of an input wins). */
export type Placed = { head: Problems; address: Problems; account: Problems; members: Record<number, Problems>; documents: Record<number, Problems> };

export const emptyPlaced = (): Placed => ({ head: {}, address: {}, account: {}, members: {}, documents: {} });

export function placeProblems(problems: readonly FieldProblem[], draft: Registration): Placed {
  const out = emptyPlaced();
  for (const problem of problems) {
    const place = placeOf(problem.field, draft);
    const into =
      place.part === 'member' ? (out.members[place.index] ??= {}) : place.part === 'document' ? (out.documents[place.index] ??= {}) : out[place.part];
    into[place.field] ??= problemOf(problem, place.field);
  }
  return out;
}

/** The step the agent is sent back to for the first problem: the earliest step it is on. */
export function stepOfProblems(placed: Placed): RegistrationStep | null {
  if (Object.keys(placed.head).length > 0 || Object.keys(placed.address).length > 0) return 'head';
  if (Object.keys(placed.members).length > 0) return 'members';
  if (Object.keys(placed.documents).length > 0) return 'documents';
  if (Object.keys(placed.account).length > 0) return 'account';
  return null;
}

/** The first input with a problem, in the order the form shows them (focus goes there). */
export function firstProblem(problems: Problems, order: readonly string[]): string | null {
  return order.find((f) => problems[f]) ?? Object.keys(problems)[0] ?? null;
}

/** The person form's inputs, top to bottom. */
export const PERSON_ORDER: readonly string[] = [
  'givenName',
  'familyName',
  'addlName',
  'relationship',
  'birthdate',
  'gender',
  'nationalId',
  'otherIdType',
  'otherIdValue',
  'phone',
  'disability',
];
export const ADDRESS_ORDER: readonly string[] = ['line1', 'line2', 'locality', 'postalCode', 'country', ...Array.from({ length: MAX_AREA_LEVELS }, (_, i) => areaField(i))];
export const ACCOUNT_ORDER: readonly string[] = ['kind', 'providerCode', 'accountNumber', 'holderName'];

/** A reason two people may be one, as a catalog key and its values. */
export function reasonText(reason: Reason): { key: string; params?: Record<string, string | number> } {
  switch (reason.reason) {
    case 'same_id':
      return { key: 'same.reason.sameId', params: { idType: reason.id_type } };
    case 'similar_name':
      return { key: 'same.reason.similarName', params: { similarity: reason.similarity } };
    case 'same_birthdate':
      return { key: 'same.reason.sameBirthdate' };
    case 'near_birthdate':
      return { key: 'same.reason.nearBirthdate' };
    case 'same_phone':
      return { key: 'same.reason.samePhone' };
  }
}
