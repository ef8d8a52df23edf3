/**
 * Names come from torrents, that is from strangers: printed raw, an ESC or CSI sequence in one can
 * clear the screen, retitle the window or hide what follows, and a newline can forge a line of
 * output. Every C0 and C1 control character and DEL is shown as a visible escape instead, and so
 * are the bidirectional overrides that make text read in another order than it is stored.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function visible (char: string): string {
  const code = char.charCodeAt(0)
  return SHORT[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/** `text` safe to write to a terminal: one line, nothing a terminal would act on. */
export function escapeText (text: string): string {
  return text.replace(UNSAFE, visible)
}

/** A JSON line safe for a terminal too: JSON.stringify escapes C0 but leaves DEL, C1 and the
 *  bidi overrides raw. The `\uXXXX` form it gets instead decodes to the same string. */
export function escapeJson (json: string): string {
  return json.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
