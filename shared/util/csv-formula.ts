/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a
 * formula: a symbol of `=HYPERLINK(...)` would. Such text gets a leading apostrophe, as
 * OWASP's CSV-injection advice says. Decimals are left alone: a negative PnL stays a number.
 */
export function neutraliseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
