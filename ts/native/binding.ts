// Loads the napi-rs addon once; every other module goes through the typed facade beside this file.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Binding from '../../bindings/index.cjs';
import { packageRoot } from '../package-root.js';

/** The raw native binding. Only the facade modules in ts/native/ import this. */
export const binding: typeof Binding = createRequire(import.meta.url)(
  join(packageRoot, 'bindings', 'index.cjs'),
);

/**
 * The raw Node-API functions of bindings/src/hot_call.rs: the per-frame calls without napi-rs's
 * class-method bookkeeping, on a book found by its `hotHandle()`. napi-rs's generated typings do
 * not list them (they are registered by hand), so their signatures are declared here.
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

/** The hot calls, checked once at load: a binding without them is a stale build. */
export const hotCalls: HotCalls = (() => {
  const raw = binding as unknown as Partial<HotCalls>;
  const { traderApplyOne, hubIngestOne, hubMergeRestKlines, hubDiscardDeltas } = raw;
  if (
    typeof traderApplyOne !== 'function' ||
    typeof hubIngestOne !== 'function' ||
    typeof hubMergeRestKlines !== 'function' ||
    typeof hubDiscardDeltas !== 'function'
  ) {
    throw new Error('the native binding has no hot calls: rebuild it (npm run build:native)');
  }
  return { traderApplyOne, hubIngestOne, hubMergeRestKlines, hubDiscardDeltas };
})();
