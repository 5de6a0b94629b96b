// The owner view's authentication: a password from the secrets, given as a bearer token or HTTP Basic, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The realm the browser shows when it asks for the password. */
export const OWNER_REALM = 'Tributary owner';

/** The password an Authorization header carries (Bearer token, or the password of Basic), if any. */
export function presentedPassword(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer !== null) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic === null) return undefined;
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Whether `header` carries the owner's password. Both sides are hashed first, so the comparison
 * takes the same time whatever the lengths and wherever they differ.
 */
export function isOwner(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '') return false;
  const given = presentedPassword(header);
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
