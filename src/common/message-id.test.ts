// Message ids encode (host, port, physical offset) and decode back exactly.
import { describe, expect, it } from 'vitest';
import { decodeMessageId, encodeMessageId } from './message-id.js';

describe('message ids', () => {
  it('round-trips host, port and a large offset', () => {
    const id = encodeMessageId('10.1.2.254', 10911, 2 ** 52 + 7);
    expect(id).toMatch(/^[0-9A-F]{32}$/);
    expect(decodeMessageId(id)).toEqual({ host: '10.1.2.254', port: 10911, offset: 2 ** 52 + 7 });
  });

  it('rejects malformed ids with a typed error', () => {
    for (const bad of ['', 'xyz', '0'.repeat(31), 'G'.repeat(32)]) {
      expect(() => decodeMessageId(bad)).toThrow(expect.objectContaining({ code: 'METAQ_INVALID_MESSAGE_ID' }));
    }
  });
});
