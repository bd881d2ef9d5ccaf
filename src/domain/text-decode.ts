// Text decoding shared by the callback body parser and the status-string parser.
// SMSC's default charset is windows-1251; everything else we receive is UTF-8. The rule everywhere:
// try strict UTF-8, fall back to windows-1251 when the bytes are not valid UTF-8.

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const cp1251 = new TextDecoder("windows-1251");
const encoder = new TextEncoder();

/** Decodes bytes as UTF-8, or as windows-1251 when they are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return cp1251.decode(bytes);
  }
}

/** True when the bytes are valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 70) return code - 55; // A-F
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

/**
 * Percent-decodes a string to bytes. `+` becomes a space when `plusIsSpace` (form encoding).
 * A malformed escape (`%zz`, a trailing `%`) is kept literally. Characters that are not escapes are
 * encoded as UTF-8.
 */
export function percentDecodeToBytes(input: string, plusIsSpace = true): Uint8Array {
  const out = new Uint8Array(input.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    if (code === 37 /* % */ && i + 2 < input.length) {
      const hi = hexValue(input.charCodeAt(i + 1));
      const lo = hexValue(input.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    if (code === 43 /* + */ && plusIsSpace) {
      out[n++] = 32;
      continue;
    }
    if (code < 0x80) {
      out[n++] = code;
      continue;
    }
    // Non-ASCII character: copy its UTF-8 bytes (surrogate pairs handled by codePointAt).
    const cp = input.codePointAt(i) ?? code;
    const bytes = encoder.encode(String.fromCodePoint(cp));
    out.set(bytes, n);
    n += bytes.length;
    if (cp > 0xffff) i++;
  }
  return out.subarray(0, n);
}

/** Percent-decodes a form or URL value: `%XX` bytes read as UTF-8, else windows-1251. */
export function decodeFormValue(input: string, plusIsSpace = true): string {
  // Fast paths: nothing to decode, or only `+` for spaces.
  if (input.indexOf("%") < 0) return plusIsSpace && input.indexOf("+") >= 0 ? input.replaceAll("+", " ") : input;
  return decodeText(percentDecodeToBytes(input, plusIsSpace));
}
