// The canonical HLR fast path must give exactly what the general scanner gives, for every line it accepts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseGeneral, parseStatusString } from "../../src/domain/status-string.js";

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
const name = fc.oneof(
  fc.constant(""),
  fc.stringMatching(/^[A-Za-z0-9+%.\-]{1,20}$/),
  fc.constantFrom("Russian+Federation", "MegaFON+open+Joint+Stock+Company", "%D0%9C%D0%A2%D0%A1", "%D1%D2%CE%CF", "bad%zzescape", "100%25"),
);

const canonical = fc
  .record({
    id: digits(1, 12),
    stat: fc.constantFrom("DELIVRD", "delivrd", "UNDELIV", "EXPIRED", "Rejectd"),
    err: digits(1, 3),
    imsi: digits(0, 15),
    msc: digits(0, 12),
    mcc: digits(0, 3),
    mnc: digits(0, 3),
    cn: name,
    net: name,
    rcn: name,
    rnet: name,
  })
  .map((r) => `id:${r.id} stat:${r.stat} err:${r.err} imsi:${r.imsi} msc:${r.msc} mcc:${r.mcc} mnc:${r.mnc} cn:${r.cn} net:${r.net} rcn:${r.rcn} rnet:${r.rnet}`);

describe("the canonical HLR fast path", () => {
  it("gives the general scanner's record for every canonical line", () => {
    fc.assert(
      fc.property(canonical, (line) => {
        expect(parseStatusString(line)).toEqual(parseGeneral(line));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 cn:Russian+Federation net:MegaFON+open+Joint+Stock+Company rcn: rnet:",
    "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 cn:Russian+Federation net:MegaFon rcn:Turkey rnet:Turkcell",
    // not canonical: the general scanner reads them
    "12345#id:855469 stat:DELIVRD err:000 imsi: msc: mcc:250 mnc:02 cn:Russia net:MTS rcn: rnet:",
    "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 cn:Russian Federation net:MTS rcn: rnet:\r\n",
    "id:abc123 stat:DELIVRD err:000 imsi: msc: mcc: mnc: cn: net: rcn: rnet: ported:1",
  ])("agrees with the general scanner: %s", (line) => {
    expect(parseStatusString(line)).toEqual(parseGeneral(line));
  });
});
