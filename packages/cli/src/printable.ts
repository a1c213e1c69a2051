/**
 * Text from the network or from someone else's contract, made safe to print in one field: every
 * C0 control (newline too), DEL and C1 control becomes its `\xNN` spelling. A contract name of
 * "\x1b]0;X\x07\x1b[2J" would otherwise retitle and clear the operator's terminal, and a newline
 * would forge a line of the CLI's own output.
 */
export function printable(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  }
  return out;
}
