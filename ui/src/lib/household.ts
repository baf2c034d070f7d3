// The household member form ↔ MemberInput (generated from Rust), and the checks the form makes
// before anything is sent, so the person sees what to fix next to the field, in their language.
// The Rust side checks the same rules again (and the household rules: one head, nobody twice).
// The ID number's rule lives only there (domain `normalize_id_number`): its refusal comes back
// with a reason the form shows next to the field (`FIELD_OF_REFUSAL`).

import type { MemberInput, MemberView, MembershipKind } from './bindings';

/** Relationships a member can be given in the form; `head` changes only through "make head". */
export const RELATIONSHIPS: readonly MembershipKind[] = ['spouse', 'child', 'parent', 'other_relative', 'non_relative'];

export type MemberForm = {
  givenName: string;
  familyName: string;
  birthdate: string;
  relationship: MembershipKind;
  nationalId: string;
};

export type MemberField = keyof MemberForm;
/** Field → message key in the catalogs. */
export type MemberErrors = Partial<Record<MemberField, string>>;

export function emptyMember(): MemberForm {
  return { givenName: '', familyName: '', birthdate: '', relationship: 'child', nationalId: '' };
}

export function formFromMember(m: MemberView): MemberForm {
  return {
    givenName: m.givenName,
    familyName: m.familyName,
    birthdate: m.birthdate ?? '',
    relationship: m.relationship,
    nationalId: m.nationalId ?? '',
  };
}

const blank = (v: string) => v.trim() === '';

/** A real calendar day written YYYY-MM-DD. */
export function isIsoDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** What to fix before sending; empty when the form can be sent. `today` is YYYY-MM-DD. */
export function checkMember(form: MemberForm, today: string): MemberErrors {
  const errors: MemberErrors = {};
  if (blank(form.givenName) && blank(form.familyName)) errors.givenName = 'household.error.name';
  const birth = form.birthdate.trim();
  if (birth !== '') {
    if (!isIsoDay(birth)) errors.birthdate = 'household.error.date';
    else if (birth > today) errors.birthdate = 'household.error.future';
  }
  return errors;
}

/** Refusals of the vault, by reason, that belong next to one field of the form. */
export const FIELD_OF_REFUSAL: Readonly<Record<string, MemberField>> = { idFormat: 'nationalId' };

/** The field a refusal is about and the message key to show there, if it is about one. */
export function fieldOfRefusal(reason: string | null): [MemberField, string] | null {
  const field = reason ? FIELD_OF_REFUSAL[reason] : undefined;
  return field ? [field, `problem.${reason}`] : null;
}

/** What the form sends. */
export function memberFromForm(form: MemberForm): MemberInput {
  const birth = form.birthdate.trim();
  const id = form.nationalId.trim();
  return {
    givenName: form.givenName.trim(),
    familyName: form.familyName.trim(),
    birthdate: birth === '' ? null : birth,
    relationship: form.relationship,
    nationalId: id === '' ? null : id,
  };
}

/** Today on this device, YYYY-MM-DD (local calendar). */
export function localToday(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
