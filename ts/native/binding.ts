// Loads the napi-rs addon once; every other module goes through the typed facade beside this file.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Binding from '../../bindings/index.cjs';
import { packageRoot } from '../package-root.js';

/** The raw native binding. Only the facade modules in ts/native/ import this. */
export const binding: typeof Binding = createRequire(import.meta.url)(
  join(packageRoot, 'bindings', 'index.cjs'),
);
