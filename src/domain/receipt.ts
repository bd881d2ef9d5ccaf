// SMPP `stat` words to SMSC statuses, for receipts that arrive as strings (bulk import).

export const STAT_WORDS = {
  DELIVRD: 1,
  ACCEPTD: 1,
  EXPIRED: 3,
  UNDELIV: 20,
  DELETED: 20,
  REJECTD: 23,
  ENROUTE: 0,
  UNKNOWN: -3,
} as const satisfies Record<string, number>;

/** The SMSC status a `stat` value stands for: a known word, or a numeric SMSC status; null otherwise. */
export function statFromWord(stat: string): number | null {
  const word = stat.trim().toUpperCase();
  if (/^-?\d{1,3}$/.test(word)) return Number(word);
  return (STAT_WORDS as Record<string, number>)[word] ?? null;
}
