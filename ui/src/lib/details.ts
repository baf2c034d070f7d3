// The contact-details Form.io form ↔ MyDetails (generated from Rust). One mapping, used by the
// person's own profile and by agents updating someone they serve.

import type { AddressDetails, ContactChannel, MyDetails } from './bindings';
import type { FormComponent, FormSchema } from './formio';
import contactDetails from '../forms/contact-details.json';

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The channels the form's "Send me messages by …" boxes stand for; an unticked box is an
 *  opt-out the registry honours (messages in the app are always kept). */
export const MESSAGE_CHANNELS: ContactChannel[] = ['email', 'sms'];

/** Form values to start from. */
export function formFromDetails(d: MyDetails): Record<string, unknown> {
  return {
    givenName: d.givenName,
    familyName: d.familyName,
    birthdate: d.birthdate ?? '',
    phone: d.phone ?? '',
    email: d.email ?? '',
    preferredLanguage: d.preferredLanguage ?? '',
    addressLine1: d.address?.line1 ?? '',
    addressLine2: d.address?.line2 ?? '',
    locality: d.address?.locality ?? '',
    postalCode: d.address?.postalCode ?? '',
    country: d.address?.country ?? '',
    // Ticked unless the person opted out.
    messages: Object.fromEntries(MESSAGE_CHANNELS.map((c) => [c, !(d.optedOut ?? []).includes(c)])),
  };
}

/** What the form submitted, as the Rust side takes it. */
export function detailsFromForm(data: Record<string, unknown>): MyDetails {
  const birth = text(data.birthdate);
  const address: AddressDetails = {
    line1: text(data.addressLine1),
    line2: text(data.addressLine2),
    locality: text(data.locality),
    postalCode: text(data.postalCode),
    country: text(data.country) ?? '',
  };
  const hasAddress = address.line1 || address.line2 || address.locality || address.postalCode;
  return {
    givenName: text(data.givenName) ?? '',
    familyName: text(data.familyName) ?? '',
    // Form.io's date field gives a full timestamp; the registry keeps the day.
    birthdate: birth ? birth.slice(0, 10) : null,
    phone: text(data.phone),
    email: text(data.email),
    preferredLanguage: text(data.preferredLanguage),
    address: hasAddress ? address : null,
    // Only a box seen unticked opts out: a form without the boxes leaves messages on.
    optedOut: MESSAGE_CHANNELS.filter((c) => (data.messages as Record<string, unknown> | undefined)?.[c] === false),
  };
}

/** ISO 3166-1 alpha-2 codes of the countries and territories; names come from Intl, so they are
 *  in the person's language without a catalog of our own. */
export const COUNTRY_CODES = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS ' +
  'BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE ' +
  'EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM ' +
  'HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC ' +
  'LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA ' +
  'NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO ' +
  'TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
).split(' ');

const countriesByLocale = new Map<string, { label: string; value: string }[]>();

/** The country choices, named and sorted in `locale` (worked out once per language). */
export function countryOptions(locale: string): { label: string; value: string }[] {
  const known = countriesByLocale.get(locale);
  if (known) return known;
  let names: Intl.DisplayNames | null = null;
  try {
    names = new Intl.DisplayNames([locale], { type: 'region' });
  } catch {
    /* no region names in this engine: the codes themselves */
  }
  const collator = new Intl.Collator(locale);
  const options = COUNTRY_CODES.map((code) => ({ value: code, label: names?.of(code) ?? code })).sort((a, b) =>
    collator.compare(a.label, b.label),
  );
  countriesByLocale.set(locale, options);
  return options;
}

/** The contact-details form with its country list in `locale`. */
export function contactForm(locale: string): FormSchema {
  const schema = structuredClone(contactDetails) as FormSchema;
  const fill = (components: FormComponent[]) => {
    for (const c of components) {
      // A copy: Form.io may change the list it is given.
      if (c.key === 'country') c.data = { values: countryOptions(locale).map((o) => ({ ...o })) };
      if (c.components) fill(c.components);
    }
  };
  fill(schema.components);
  return schema;
}
