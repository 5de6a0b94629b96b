// The signatures of the raw Node-API functions in src/hot_call.rs, which napi-rs's generated index.d.cts does not list.

/**
 * The per-frame and per-poll calls without napi-rs's class-method bookkeeping, on a book found by
 * its `hotHandle()` (ts/native/binding.ts checks at load that the binding has them).
 */
export interface HotCalls {
  /** `TraderBook.applyOne(frame)` of the book with this handle. */
  traderApplyOne(handle: number, frame: Uint8Array): number;
  /** `HubBook.ingestOneToScratch(frame, source, now)` of the book with this handle. */
  hubIngestOne(handle: number, frame: Uint8Array, source: number, now: number): number;
  /** `HubBook.mergeRestKlines(...)` of the book with this handle: the number of bars refused. */
  hubMergeRestKlines(
    handle: number,
    symbolId: number,
    interval: string,
    body: Uint8Array,
    serverTimeMs: number,
    source: number,
    receivedAt: number,
  ): number;
  /** `HubBook.discardDeltas()` of the book with this handle. */
  hubDiscardDeltas(handle: number): number;
}
