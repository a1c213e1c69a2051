/**
 * Text from the network or from someone else's contract, made safe to print in one field: every
 * C0 control (newline too), DEL and C1 control becomes its `\xNN` spelling, the Unicode bidi
 * controls (U+202A–202E, U+2066–2069) their `\uNNNN` spelling. Backslashes stay as they are, so
 * that text printed twice over (an error's own text, then its report line) reads the same; a literal
 * "\x1b" in a name thus reads like an escaped control. A contract name of "\x1b]0;X\x07\x1b[2J"
 * would otherwise retitle and clear the operator's terminal, a newline would forge a line of the
 * CLI's own output, and a bidi override would show a name or id in another order than it has.
 */
export function printable(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069))
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return out;
}
