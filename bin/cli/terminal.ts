/**
 * What the CLI prints comes partly from the data (order ids, symbols, notes, error messages),
 * and a value holding terminal escape sequences could recolour, rewrite or hide what the
 * operator reads. Every string written to stdout or stderr goes through `terminalSafe`:
 * control characters and bidirectional overrides are shown as `\xNN` / `\u{NNNN}`.
 */

/** C0 controls but tab and newline (and carriage return when kept), DEL, C1, bidi controls. */
function unsafe(code: number, keepCarriageReturn: boolean): boolean {
  if (code === 0x09 || code === 0x0a) return false;
  if (code === 0x0d) return !keepCarriageReturn;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

const shown = (code: number) =>
  code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;

/**
 * Every character `unsafe` names, but carriage return, as a regular expression: most text has
 * none, and one search of a large chunk costs far less than the loop over its characters.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose.
const UNSAFE_SEARCH = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** The text with every unsafe character shown as an escape; stderr keeps \r for its progress line. */
export function terminalSafe(text: string, keepCarriageReturn = false): string {
  if (!UNSAFE_SEARCH.test(text) && (keepCarriageReturn || !text.includes('\r'))) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafe(code, keepCarriageReturn)) continue;
    out += text.slice(from, i) + shown(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Routes every string written to stdout and stderr through terminalSafe. */
export function guardTerminalOutput(): void {
  for (const [stream, keepCr] of [
    [process.stdout, false],
    [process.stderr, true],
  ] as const) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' ? terminalSafe(chunk, keepCr) : chunk, ...rest)) as typeof stream.write;
  }
}
