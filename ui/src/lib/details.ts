// The contact-details Form.io form ↔ MyDetails (generated from Rust). One mapping, used by the
// person's own profile and by agents updating someone they serve.

import type { MyDetails } from './bindings';

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** Form values to start from. */
export function formFromDetails(d: MyDetails): Record<string, unknown> {
  return {
    givenName: d.givenName,
    familyName: d.familyName,
    birthdate: d.birthdate ?? '',
    phone: d.phone ?? '',
    email: d.email ?? '',
    preferredLanguage: d.preferredLanguage ?? '',
  };
}

/** What the form submitted, as the Rust side takes it. */
export function detailsFromForm(data: Record<string, unknown>): MyDetails {
  const birth = text(data.birthdate);
  return {
    givenName: text(data.givenName) ?? '',
    familyName: text(data.familyName) ?? '',
    // Form.io's date field gives a full timestamp; the registry keeps the day.
    birthdate: birth ? birth.slice(0, 10) : null,
    phone: text(data.phone),
    email: text(data.email),
    preferredLanguage: text(data.preferredLanguage),
  };
}
