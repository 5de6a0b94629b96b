// Reads the hub's full status (`GET /status/full`, signed with a viewer or admin key) and checks it against its schema.

import type { z } from 'zod';
import { HubStatusSchema } from '../../ts/hub/hub-status.js';
import { statusAuthorization } from '../../ts/hub/peer-auth.js';

export type HubFullStatus = z.infer<typeof HubStatusSchema>;

/** One answer: the document, or why there is none (unreachable, refused, malformed). */
export type HubStatusResult = { ok: true; status: HubFullStatus } | { ok: false; error: string };

/** Fetches and validates the full status; never throws. */
export async function readHubStatus(
  statusUrl: string,
  key: { id: string; secret: string },
  timeoutMs = 3000,
): Promise<HubStatusResult> {
  const url = `${statusUrl.replace(/\/+$/, '')}/full`;
  try {
    const response = await fetch(url, {
      headers: { authorization: statusAuthorization(key, '/status/full') },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return { ok: false, error: `hub answered ${response.status}` };
    const parsed = HubStatusSchema.safeParse(await response.json());
    if (!parsed.success)
      return { ok: false, error: `malformed status: ${parsed.error.issues[0]?.message ?? ''}` };
    return { ok: true, status: parsed.data };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
