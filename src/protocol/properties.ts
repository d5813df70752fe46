// User properties as the store and the wire carry them: RocketMQ's
// name\x01value\x02 string. The format and its validation belong to the
// message record (message/); the wire uses them as they are.
export { encodeProperties, decodeProperties } from '../message/index.js';
