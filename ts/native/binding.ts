// Loads the napi-rs addon once; every other module goes through the typed facade beside this file.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { HotCalls } from '../../bindings/hot-calls.cjs';
import type * as Binding from '../../bindings/index.cjs';
import { packageRoot } from '../package-root.js';

/** The raw native binding. Only the facade modules in ts/native/ import this. */
export const binding: typeof Binding = createRequire(import.meta.url)(
  join(packageRoot, 'bindings', 'index.cjs'),
);

export type { HotCalls };

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
