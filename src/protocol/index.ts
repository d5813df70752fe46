// Public door of protocol/: the frame format, opcodes, statuses and the pure
// encoders/decoders of every request and response body (docs/PROTOCOL.md).
export * from './frame.js';
export { FrameDecoder, type FrameHandler, type FrameStreamFailure } from './frame-decoder.js';
export { Opcode, opcodeName, isKnownOpcode } from './opcodes.js';
export { Status, statusName, isErrorStatus, statusForError, errorForStatus, FIRST_ERROR_STATUS } from './status.js';
export { BodyReader, BodyWriter } from './body.js';
export * from './send.js';
export { SendRequestView } from './send-view.js';
export * from './pull.js';
export * from './offsets.js';
export * from './reset-offsets.js';
export * from './consumer-group.js';
export * from './send-back.js';
export * from './admin.js';
export * from './stats.js';
export * from './stats-monitor.js';
export type { NameServerStats, NameServerBrokerEntry } from './namesrv-stats.js';
export * from './route.js';
export * from './error-body.js';
export { encodeProperties, decodeProperties } from './properties.js';
export * from './ha.js';
export * from './auth.js';
export * from './transaction.js';
