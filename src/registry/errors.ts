/** Every failure the registry reports carries one of these codes. */
export type RegistryErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_VALUE'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UNAVAILABLE'
  | 'CORRUPT'
  | 'LOCKED'
  | 'CLOSED'
  | 'UNSUPPORTED';

export const REGISTRY_ERROR_CODES: readonly RegistryErrorCode[] = [
  'INVALID_KEY',
  'INVALID_VALUE',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'UNAVAILABLE',
  'CORRUPT',
  'LOCKED',
  'CLOSED',
  'UNSUPPORTED',
];

/**
 * The one error type of the registry. `message` is written for a person: it says what went wrong
 * and, where there is one, what to do about it. It never contains a password.
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static is(err: unknown, code?: RegistryErrorCode): err is RegistryError {
    return (
      typeof err === 'object' &&
      err !== null &&
      (err as { name?: unknown }).name === 'RegistryError' &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (code === undefined || (err as { code: string }).code === code)
    );
  }
}

/** A short, single-line description of any thrown value, for wrapping causes into messages. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    return typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg;
  }
  return String(err);
}
