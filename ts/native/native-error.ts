// Typed errors for failures inside the native core: every one carries the core's reason label.

/** A native call refused its input; `code` is the core's stable reason label (e.g. `truncated`). */
export class NativeError extends Error {
  override readonly name = 'NativeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a native call, turning its thrown error into a {@link NativeError}. */
export function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
      throw new NativeError(error.code, error.message);
    }
    throw error;
  }
}
