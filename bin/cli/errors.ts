/** An error meant for the operator: printed as is, without a stack, and exits 1. */
export class CliError extends Error {
  override name = 'CliError';
}
