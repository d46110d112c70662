/**
 * What a report sender may look like: "reports@example.com" or "FIFO <reports@example.com>".
 * The deployment settings (lib/config.ts) and the report's environment (shared/report/config.ts)
 * check the same rule, and the stack grants SES on the address inside it.
 */

/** One address: no spaces, angle brackets or commas, and a dot in the domain. */
const ADDRESS = '[^\\s@<>,]+@[^\\s@<>,]+\\.[^\\s@<>,]+';
const PLAIN_ADDRESS = new RegExp(`^${ADDRESS}$`);
const SENDER = new RegExp(`^(?:[^<>]*<${ADDRESS}>|${ADDRESS})$`);

/** What a sender must be, phrased to follow the setting's name. */
export const SENDER_ADDRESS_RULE =
  'must be an email address, e.g. "reports@example.com" or "FIFO <reports@example.com>"';

/** "addr@host", without a display name. */
export function isPlainAddress(text: string): boolean {
  return PLAIN_ADDRESS.test(text);
}

/** "addr@host" or "Display Name <addr@host>". */
export function isSenderAddress(text: string): boolean {
  return SENDER.test(text);
}

/** The address inside "Name <address>", or the sender itself when it has no display name. */
export function senderAddress(sender: string): string {
  const match = /<([^<>]+)>\s*$/.exec(sender);
  return (match ? match[1]! : sender).trim();
}
