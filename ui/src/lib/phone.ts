// Phone numbers as people read them. They are stored in E.164 (+254712345678); shown grouped the
// way the number's own country writes them. A number from the person's own country (their
// language's region, e.g. fr-KE) is shown in its national form; others in international form.
// Digits stay Latin and the number is kept left to right (in a <bdi>) even in Arabic, as on a
// phone's keypad.

import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

export function formatPhone(e164: string, locale: string): string {
  const number = parsePhoneNumberFromString(e164);
  if (!number?.isPossible()) return e164;
  const region = regionOf(locale);
  return region && number.country === region ? number.formatNational() : number.formatInternational();
}

function regionOf(locale: string): string | undefined {
  try {
    return new Intl.Locale(locale).maximize().region;
  } catch {
    return undefined;
  }
}
