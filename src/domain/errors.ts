// SMSC `err` codes (protocol reference, section 6): meaning, permanence, and the verdict class each one decides.
// One row per code. `verdict` is what the code says about the number (null: neutral, ignored by verdicts);
// `permanence` is how statistics class a failure with this code.

export type VerdictClass = "invalid" | "barred_or_no_sms" | "valid_absent";
export type Permanence = "permanent" | "temporary" | "other";

type ErrorRow = { meaning: string; verdict: VerdictClass | null; permanence: Permanence };

const neutral = (meaning: string): ErrorRow => ({ meaning, verdict: null, permanence: "other" });

export const ERROR_CODES = {
  0: { meaning: "No error (HLR: subscriber available)", verdict: null, permanence: "other" },
  1: { meaning: "Subscriber does not exist", verdict: "invalid", permanence: "permanent" },
  6: { meaning: "Subscriber not in network (absent, switched off)", verdict: "valid_absent", permanence: "temporary" },
  11: { meaning: "No SMS service", verdict: "barred_or_no_sms", permanence: "permanent" },
  12: neutral("Error in the subscriber's handset"),
  13: { meaning: "Subscriber blocked", verdict: "barred_or_no_sms", permanence: "permanent" },
  21: { meaning: "Service not supported by the handset", verdict: "barred_or_no_sms", permanence: "permanent" },
  99: neutral("Unknown error"),
  200: neutral("Virtual sending (test mode)"),
  219: neutral("SIM card replaced"),
  220: { meaning: "Operator queue overflowed (subscriber unavailable)", verdict: "valid_absent", permanence: "temporary" },
  237: neutral("Subscriber did not answer (call)"),
  238: neutral("No template (sending allowed only by a template)"),
  239: neutral("Forbidden sender IP address"),
  240: neutral("Subscriber busy (call)"),
  241: neutral("Conversion error, or not all SMS parts were sent"),
  242: neutral("Answering machine detected (call)"),
  243: neutral("No contract"),
  244: neutral("Mailings forbidden"),
  245: neutral("Status not received"),
  246: neutral("Time restriction"),
  247: neutral("Daily message limit exceeded"),
  248: neutral("No route to the number"),
  249: { meaning: "Invalid number format", verdict: "invalid", permanence: "permanent" },
  250: neutral("Number forbidden by client settings"),
  251: neutral("Per-number daily limit exceeded"),
  252: neutral("Number forbidden"),
  253: neutral("Blocked by spam filter"),
  254: neutral("Unregistered sender ID"),
  255: neutral("Rejected by the operator without an exact code"),
} as const satisfies Record<number, ErrorRow>;

/** Statuses that decide on their own, whatever the err: 22 (wrong number) is invalid; 23 and 24 are neutral. */
export const STATUS_RULES = {
  22: { meaning: "Wrong number format", verdict: "invalid", permanence: "permanent" },
  23: neutral("Prohibited by limits or filters"),
  24: neutral("Insufficient funds"),
} as const satisfies Record<number, ErrorRow>;

export function errorRow(err: number): ErrorRow | null {
  return (ERROR_CODES as Record<number, ErrorRow>)[err] ?? null;
}

export function errorMeaning(err: number): string | null {
  return errorRow(err)?.meaning ?? null;
}

/** How statistics class a final failure: by its status rule, else by its err code; unknown codes are "other". */
export function failurePermanence(status: number, err: number | null): Permanence {
  const byStatus = (STATUS_RULES as Record<number, ErrorRow>)[status];
  if (byStatus) return byStatus.permanence;
  return err === null ? "other" : (errorRow(err)?.permanence ?? "other");
}
