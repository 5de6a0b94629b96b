// Typed errors for a misconfigured engine (bad account settings), naming the offending field.

/** Thrown by the engine's constructor when an `AccountConfig` (or option) is unusable. */
export class EngineConfigError extends Error {
  override readonly name = 'EngineConfigError';
  constructor(
    /** Dotted path of the bad field, e.g. `accounts[1].makerFee`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
