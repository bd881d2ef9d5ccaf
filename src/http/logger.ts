// pino logger. Phones and IMSIs are masked wherever they could appear; tokens and keys are never logged.
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "smsc-hub" },
      redact: { paths: ["token", "*.token", "authorization", "*.authorization", "secret", "*.secret", "imsi", "*.imsi"], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** What a log line says of an error: its message and, when it has one, its code (a Postgres SQLSTATE, ECONNREFUSED…). */
export function errorFields(err: unknown): { message: string | undefined; code: string | undefined } {
  return { message: (err as Error | null)?.message, code: (err as { code?: string } | null)?.code };
}

/** 79161234567 → 7916***4567: enough to recognise, not enough to dial. */
export function maskPhone(phone: string | null | undefined): string | null {
  if (!phone) return null;
  if (phone.length <= 6) return "*".repeat(phone.length);
  return `${phone.slice(0, 4)}${"*".repeat(Math.max(3, phone.length - 8))}${phone.slice(-4)}`;
}
