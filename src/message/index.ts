// Public door of message/: the message record layout that the store writes,
// pulls carry and clients read (offsets, magic, flags, property separators),
// its encode/check/decode functions and the validation of message properties.
export * from './record-layout.js';
export {
  PROPERTY_TAGS,
  PROPERTY_KEYS,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  KEY_SEPARATOR,
  NAME_VALUE_SEPARATOR_BYTE,
  PROPERTY_SEPARATOR_BYTE,
  KEY_SEPARATOR_BYTE,
  MAX_PROPERTIES_LENGTH,
  type MessagePropertyFields,
  hasSeparator,
  isValidProperty,
  encodeProperties,
  encodeMessageProperties,
  propertiesLength,
  decodeProperties,
} from './properties.js';
export { writeRecord, writeBlankMarker, RecordCheck, checkRecord, decodeRecord, decodeRecords, type DecodedMessage } from './record.js';
export { type PlainMessageBatch, isPlainTagsAndKeys, plainPropertiesLength, writePlainProperties, plainTagsCode } from './plain-batch.js';
