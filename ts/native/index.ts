// The typed facade over the native core: the only door from TypeScript into bindings/.
export * from './aggregator.js';
export * from './bar-aggregator.js';
export * from './book-changes.js';
export * from './hub.js';
export * from './interval.js';
export * from './native-error.js';
export * from './parse.js';
export * from './records.js';
export * from './trader-book.js';
