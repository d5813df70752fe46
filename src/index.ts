// metaq's public API: one entry file.
export * from './common/index.js';
export * from './store/index.js';
