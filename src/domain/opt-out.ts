// Opt-out and opt-in words: a message whose whole text, trimmed and compared without regard to case (Ё as Е),
// equals one of the words. Pure.

export type OptIntent = "out" | "in";

/** The form words and texts are compared in: trimmed, upper-cased, Ё read as Е, inner spaces collapsed. */
export function foldWord(text: string): string {
  return text.trim().replace(/\s+/g, " ").toUpperCase().replaceAll("Ё", "Е");
}

export type OptWords = { optOutWords: readonly string[]; optInWords: readonly string[] };

/** What the message asks for, if its whole text is an opt-out or opt-in word. */
export function optIntent(text: string, words: OptWords): { intent: OptIntent; word: string } | null {
  const folded = foldWord(text);
  if (folded === "") return null;
  const out = words.optOutWords.find((w) => foldWord(w) === folded);
  if (out !== undefined) return { intent: "out", word: out };
  const into = words.optInWords.find((w) => foldWord(w) === folded);
  if (into !== undefined) return { intent: "in", word: into };
  return null;
}
