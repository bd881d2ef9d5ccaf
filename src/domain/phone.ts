// Phone normalisation: the ways people and SMSC write a number, to E.164 digits (no '+').
// SMSC sends international digits without '+' (79161234567); people also write +7 916 123-45-67,
// 8 916 123 45 67 (national, DEFAULT_COUNTRY) or 00 7 916 ...
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from "libphonenumber-js/max";
import { fail, ok, type Parsed } from "./parsed.js";

export type NormalizedPhone = {
  /** E.164 digits without '+'. */
  phone: string;
  /** E.164 with '+'. */
  e164: string;
  /** ISO country of the number's range, when the numbering plan knows it. */
  country: string | null;
  /** True when the numbering plan accepts the number; false when it is only of a possible length. */
  valid: boolean;
};

const SEPARATORS = /[\s\-().\u00a0\u2010-\u2015/]/g;

function callingCode(country: string): string {
  try {
    return getCountryCallingCode(country as CountryCode);
  } catch {
    return "\u0000"; // an unknown country: no digits start with it
  }
}

function phoneOf(p: PhoneNumber, valid: boolean): NormalizedPhone {
  return { phone: p.number.slice(1), e164: p.number, country: p.country ?? null, valid };
}

export function normalizePhone(input: string, defaultCountry: string): Parsed<NormalizedPhone> {
  const cleaned = input.trim().replace(SEPARATORS, "");
  if (cleaned === "") return fail("empty_phone", "the phone number is empty");
  let digits: string;
  let international: boolean;
  if (cleaned.startsWith("+")) {
    digits = cleaned.slice(1);
    international = true;
  } else if (cleaned.startsWith("00")) {
    digits = cleaned.slice(2);
    international = true;
  } else {
    digits = cleaned;
    international = false;
  }
  if (!/^\d+$/.test(digits)) return fail("not_a_phone", "a phone number has only digits, spaces, dashes, brackets and a leading +");
  if (digits.length < 4 || digits.length > 15) return fail("not_a_phone", `a phone number has 4 to 15 digits (E.164), not ${digits.length}`);
  if (international && digits.startsWith("0")) return fail("not_a_phone", "no country calling code starts with 0");

  // International digits without '+' (SMSC's form, 79161234567) start with the default country's calling code;
  // anything else written without '+' or 00 is read as a national number first (8 495 123-45-67, 4951234567).
  // The second reading is parsed only when the first is not valid (parsing costs about 0.05 ms).
  const readings: (() => PhoneNumber | undefined)[] = [() => parsePhoneNumberFromString(`+${digits}`)];
  if (!international) {
    const national = () => parsePhoneNumberFromString(digits, defaultCountry as CountryCode);
    if (digits.startsWith(callingCode(defaultCountry))) readings.push(national);
    else readings.unshift(national);
  }
  let possible: PhoneNumber | undefined;
  for (const read of readings) {
    const reading = read();
    if (reading?.isValid()) return ok(phoneOf(reading, true));
    if (!possible && reading?.isPossible()) possible = reading;
  }
  if (possible) return ok(phoneOf(possible, false));
  // Not a number any plan accepts: keep the digits as written, international form assumed.
  return ok({ phone: digits, e164: `+${digits}`, country: null, valid: false });
}
