// The error a command throws for bad arguments (exit code 2, message names the argument).

/** Bad command-line arguments: the message says which argument and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
