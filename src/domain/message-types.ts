// SMSC message type codes (`type`), protocol reference section 7. Unknown codes read as "other:<n>".

export const MESSAGE_TYPES = {
  "0": "sms",
  "1": "flash",
  "2": "binary",
  "3": "wap_push",
  "4": "hlr",
  "5": "ping",
  "6": "mms",
  "7": "call",
  "8": "email",
  "10": "viber",
  "12": "social",
} as const satisfies Record<string, string>;

export const TYPE_HLR = 4;
export const TYPE_PING = 5;
export const TYPE_CALL = 7;
export const TYPE_EMAIL = 8;

export function messageTypeName(type: number): string {
  return (MESSAGE_TYPES as Record<string, string>)[String(type)] ?? `other:${type}`;
}
