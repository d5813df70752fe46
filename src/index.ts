// metaq's public API: one entry file.
export * from './common/index.js';
export * from './store/index.js';
export * from './protocol/index.js';
export * from './net/index.js';
export * from './broker/index.js';
export * from './namesrv/index.js';
export * from './client/index.js';
export * from './message/index.js';
export * from './security/index.js';
