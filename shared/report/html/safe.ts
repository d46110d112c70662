/**
 * HTML that escapes by construction. html`...` escapes every string and number put into it and
 * inserts a SafeHtml (the result of another html`...`) as it is; the template's literal parts
 * are the author's markup. SafeHtml can be made no other way, and every piece of the email that
 * holds markup is typed SafeHtml: text passed where markup is expected is escaped, never read
 * as markup, and a forgotten escape cannot exist.
 *
 * Escaped text is safe in element content and in double-quoted attribute values, the only two
 * places the report puts it.
 */
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup that html`...` built: its text is escaped, its tags are the template's own. */
class SafeHtml {
  // A private field makes the type nominal: no other object, or string, passes for SafeHtml.
  readonly #html: string;
  constructor(markup: string) {
    this.#html = markup;
  }
  toString(): string {
    return this.#html;
  }
}

export type { SafeHtml };

/** What html`...` takes: text (escaped), markup (as it is), or a list of them (one after another). */
export type HtmlValue = SafeHtml | string | number | readonly HtmlValue[];

const markup = (value: HtmlValue): string =>
  value instanceof SafeHtml
    ? value.toString()
    : typeof value === 'string'
      ? escapeHtml(value)
      : typeof value === 'number'
        ? String(value)
        : value.map(markup).join('');

export function html(literals: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = literals[0]!;
  for (let i = 0; i < values.length; i++) out += markup(values[i]!) + literals[i + 1]!;
  return new SafeHtml(out);
}

/** The parts one after another, `separator` (text, escaped) between them. */
export function joinHtml(parts: readonly HtmlValue[], separator: string): SafeHtml {
  return new SafeHtml(parts.map(markup).join(escapeHtml(separator)));
}
