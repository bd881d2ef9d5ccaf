import { describe, expect, it } from "vitest";
import { normalizePhone } from "../../src/domain/phone.js";

describe("normalizePhone", () => {
it.each([
  ["79161234567", "RU", "79161234567", "RU"], ["+7 916 123-45-67", "RU", "79161234567", "RU"], ["89161234567", "RU", "79161234567", "RU"],
  ["8 (495) 123-45-67", "RU", "74951234567", "RU"], ["88612345678", "RU", "78612345678", "RU"], ["4951234567", "RU", "74951234567", "RU"],
  ["77011234567", "RU", "77011234567", "KZ"], ["380501234567", "RU", "380501234567", "UA"], ["0501234567", "UA", "380501234567", "UA"],
  ["00380501234567", "RU", "380501234567", "UA"], ["0049301234567", "RU", "49301234567", "DE"], ["9161234567", "RU", "79161234567", "RU"],
])("%s (default %s) is %s in %s", (input, cc, phone, country) => {
  const r = normalizePhone(input, cc);
  expect(r.ok && r.value.phone).toBe(phone);
  expect(r.ok && r.value.country).toBe(country);
  expect(r.ok && r.value.e164).toBe(`+${phone}`);
});

it.each([
  ["", "empty_phone"],
  ["   ", "empty_phone"],
  ["abc", "not_a_phone"],
  ["+7 916 ABC", "not_a_phone"],
  ["123", "not_a_phone"],
  ["123456789012345678", "not_a_phone"],
  ["1234567890123456", "not_a_phone"],
  ["+0000000", "not_a_phone"],
])("%j is not a phone (%s)", (input, code) => {
  const r = normalizePhone(input, "RU");
  expect(r.ok).toBe(false);
  expect(!r.ok && r.error.code).toBe(code);
});

it("keeps a possible number the plan rejects, marked not valid", () => {
  const r = normalizePhone("+70000000000", "RU");
  expect(r.ok && r.value).toMatchObject({ phone: "70000000000", valid: false });
});
});
