// Reads the hub's full status for the owner view through the hub's status client, as a value (never a thrown error).
import type { HubStatus } from '../../ts/hub/hub-status.js';
import { readFullStatus, type StatusSource } from '../../ts/hub/status-client.js';

/** One answer: the document, or why there is none (unreachable, refused, malformed). */
export type HubStatusResult = { ok: true; status: HubStatus } | { ok: false; error: string };

/** Fetches and validates the full status (`GET /status/full`, signed with a viewer or admin key). */
export async function readHubStatus(source: StatusSource): Promise<HubStatusResult> {
  try {
    return { ok: true, status: await readFullStatus(source) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
