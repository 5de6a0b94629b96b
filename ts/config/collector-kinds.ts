// The collector kinds (DESIGN.md 5), one list for the collectors, the configuration's checks and the deploy inventory.

/** Every collector kind, as `tributary collect <kind>` names it. */
export const COLLECTOR_KINDS = [
  'kline',
  'hot-kline',
  'tick',
  'stream',
  'account',
  'position-risk',
  'user-stream',
  'income',
  'universe',
] as const;

export type CollectorKind = (typeof COLLECTOR_KINDS)[number];

export function isCollectorKind(name: string): name is CollectorKind {
  return (COLLECTOR_KINDS as readonly string[]).includes(name);
}
