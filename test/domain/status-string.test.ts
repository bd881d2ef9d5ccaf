import { describe, expect, it } from "vitest";
import {
  formatStatusString,
  parseStatusString,
  STATUS_STRING_ERRORS,
  type StatusRecord,
} from "../../src/domain/status-string.js";
import { invalidFixtures, validFixtures } from "../fixtures/status-strings.js";

const ABSENT: Omit<StatusRecord, "id" | "stat"> = {
  err: null,
  submitDate: null,
  doneDate: null,
  sub: null,
  dlvrd: null,
  text: null,
  imsi: null,
  msc: null,
  mcc: null,
  mnc: null,
  cn: null,
  net: null,
  rcn: null,
  rnet: null,
  roaming: null,
  extra: {},
};

const MB = 1024 * 1024;

describe("parseStatusString: valid lines", () => {
  it.each(validFixtures)("$name", ({ line, expect: fields }) => {
    expect(parseStatusString(line)).toEqual({ ok: true, value: { ...ABSENT, ...fields } });
  });
});

describe("parseStatusString: invalid lines", () => {
  it.each(invalidFixtures)("$name → $error", ({ line, error }) => {
    const result = parseStatusString(line);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(error);
    expect(result.error.message).not.toBe("");
  });

  it("uses only the documented error codes", () => {
    const codes = new Set(Object.keys(STATUS_STRING_ERRORS));
    for (const { error } of invalidFixtures) expect(codes.has(error)).toBe(true);
  });

  it("names the key and the value in a bad_date message", () => {
    const result = parseStatusString("id:1 stat:DELIVRD done date:2413011200");
    expect(result).toEqual({
      ok: false,
      error: { code: "bad_date", message: '`done date` is not a valid date: "2413011200"' },
    });
  });
});

describe("formatStatusString", () => {
  it("writes the HLR fields in SMSC's order, names form-encoded", () => {
    const record: StatusRecord = {
      ...ABSENT,
      id: "855469",
      stat: "DELIVRD",
      err: "000",
      imsi: "250023012345678",
      msc: "79232510066",
      mcc: "250",
      mnc: "02",
      cn: "Russian Federation",
      net: "100% Мега+",
      rcn: "",
      rnet: "",
      roaming: false,
    };
    expect(formatStatusString(record)).toBe(
      "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 " +
        "cn:Russian+Federation net:100%25+%D0%9C%D0%B5%D0%B3%D0%B0%2B rcn: rnet:",
    );
  });

  it("writes receipt dates as 14 digits, extra before text, text last", () => {
    const record: StatusRecord = {
      ...ABSENT,
      id: "ab12",
      stat: "DELIVRD",
      err: "000",
      sub: "001",
      dlvrd: "001",
      submitDate: "2024-01-15T12:30:00",
      doneDate: "2024-01-15T12:31:05",
      text: "Code: 12:34",
      extra: { price: "1.50" },
    };
    expect(formatStatusString(record)).toBe(
      "id:ab12 sub:001 dlvrd:001 submit date:20240115123000 done date:20240115123105 stat:DELIVRD err:000 price:1.50 text:Code: 12:34",
    );
  });

  it.each(validFixtures)("reads back what it writes: $name", ({ expect: fields }) => {
    const record: StatusRecord = { ...ABSENT, ...fields };
    expect(parseStatusString(formatStatusString(record))).toEqual({ ok: true, value: record });
  });
});

describe("parseStatusString: long lines (1 MB) return", () => {
  it("a 1 MB text", () => {
    const text = "ab: cd ".repeat(MB / 7);
    const result = parseStatusString(`id:1 stat:DELIVRD text:${text}`);
    expect(result).toEqual({ ok: true, value: { ...ABSENT, id: "1", stat: "DELIVRD", text: text.trimEnd() } });
  });

  it("1 MB of glued-prefix punctuation before the first key", () => {
    const result = parseStatusString(`${"#|=:".repeat(MB / 4)}id:1 stat:DELIVRD`);
    expect(result).toEqual({ ok: true, value: { ...ABSENT, id: "1", stat: "DELIVRD" } });
  });

  it("1 MB of near-keys (`submit` and blanks, `su`, `id#`) and no key", () => {
    const result = parseStatusString(`${"submit   su id# ".repeat(MB / 16)}`);
    expect(result.ok ? null : result.error.code).toBe("missing_id");
  });

  it("a 1 MB unencoded name made of keyless words", () => {
    const words = "Federation ".repeat(MB / 11);
    const result = parseStatusString(`id:1 stat:DELIVRD cn:${words}net:MTS`);
    expect(result.ok && result.value.cn).toBe(words.trimEnd());
    expect(result.ok && result.value.net).toBe("MTS");
  });

  it("a 1 MB form-encoded line", () => {
    const result = parseStatusString(`id%3A1+stat%3ADELIVRD+text%3A${"x%3A".repeat(MB / 4)}`);
    expect(result.ok && result.value.text).toBe("x:".repeat(MB / 4));
  });

  it("a 1 MB date value is a bad date", () => {
    const result = parseStatusString(`id:1 stat:DELIVRD done date:${"1".repeat(MB)}`);
    expect(result.ok ? null : result.error.code).toBe("bad_date");
  });
});
