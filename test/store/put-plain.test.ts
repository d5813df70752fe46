// putPlain (records encoded straight from a SEND request's bytes) against put
// (records from decoded messages): byte-identical logs for the same plain
// messages (tags, several keys, no tags, no keys, empty bodies), the key
// index and tag filter work on them, and what put refuses, putPlain refuses.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidMessageError, MessageTooLargeError } from '../../src/common/index.js';
import type { PlainMessageBatch } from '../../src/message/index.js';
import { decodeSendRequest, encodeSendRequest, SendRequestView, type WireMessage } from '../../src/protocol/index.js';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const FIXED_NOW = 1_764_000_000_000;
const MAX_BODY = 256;

function config(dir: string): MessageStoreConfig {
  return { dir, flushMode: 'sync', segmentSize: 128 * 1024, maxMessageSize: MAX_BODY, indexSlotCount: 64, indexMaxEntries: 1000 };
}

function messages(n: number, salt: number): WireMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    body: Buffer.alloc(i % 7 === 0 ? 0 : 1 + ((i * 37 + salt) % 200), (i + salt) & 0xff),
    tags: i % 3 === 0 ? undefined : `tag-${i % 4}`,
    keys: i % 5 === 0 ? undefined : i % 2 === 0 ? `user-${salt}-${i}` : [`a${i}`, `b${i}`, 'c'],
    flag: i * 3,
    bornTimestamp: 1_700_000_000_000 + i,
  }));
}

/** The whole written log of a store (every segment's used bytes, in order). */
function logOf(store: MessageStore, topic: string, queues: number): Buffer {
  const parts: Buffer[] = [];
  for (let q = 0; q < queues; q++) parts.push(store.getMessages(topic, q, 0, 10_000, 1 << 24).records);
  return Buffer.concat(parts);
}

describe('MessageStore.putPlain', () => {
  const tempDir = useTempDirs('put-plain');
  afterEach(() => vi.restoreAllMocks());

  it('writes the records put writes for the same messages, byte for byte, and indexes their keys', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(FIXED_NOW);
    const viaPut = await MessageStore.open(config(tempDir()));
    const viaPlain = await MessageStore.open(config(tempDir()));
    try {
      for (const s of [viaPut, viaPlain]) s.createTopic('claims', 3);
      const view = new SendRequestView();
      for (let b = 0; b < 40; b++) {
        const body = encodeSendRequest({ topic: 'claims', queueId: b % 3, messages: messages(1 + (b % 9) * 5, b) });
        const req = decodeSendRequest(body);
        expect(view.parse(body)).toBe(true);
        const [a, p] = await Promise.all([viaPut.put(req.topic, req.queueId, req.messages), viaPlain.putPlain(view.topic, view.queueId, view)]);
        expect(p).toEqual(a);
      }
      await Promise.all([waitDispatched(viaPut), waitDispatched(viaPlain)]);
      const expected = logOf(viaPut, 'claims', 3);
      expect(expected.length).toBeGreaterThan(128 * 1024); // across segment rolls
      expect(logOf(viaPlain, 'claims', 3).equals(expected)).toBe(true);
      expect(viaPlain.queryByKey('claims', 'user-4-2').map((m) => m.keys)).toEqual([['user-4-2']]);
      expect(viaPlain.queryByKey('claims', 'b1').length).toBe(viaPut.queryByKey('claims', 'b1').length);
      expect(viaPlain.getMessages('claims', 1, 0, 1000, 1 << 20, ['tag-1']).count).toBe(viaPut.getMessages('claims', 1, 0, 1000, 1 << 20, ['tag-1']).count);
    } finally {
      await viaPut.close();
      await viaPlain.close();
    }
  });

  it('refuses what put refuses (an oversized body, a batch that is not plain), storing nothing of the batch', async () => {
    const store = await MessageStore.open(config(tempDir()));
    try {
      store.createTopic('claims', 1);
      const view = new SendRequestView();
      expect(view.parse(encodeSendRequest({ topic: 'claims', queueId: 0, messages: [{ body: Buffer.alloc(8) }, { body: Buffer.alloc(MAX_BODY + 1) }] }))).toBe(true);
      expect(await rejectionOf(store.putPlain('claims', 0, view))).toBeInstanceOf(MessageTooLargeError);
      // A batch that claims plainness but carries a property separator in a key.
      const bytes = Buffer.from('k\u0001y', 'latin1');
      const lying: PlainMessageBatch = { count: 1, bytes, select: () => undefined, flag: 0, bornTimestamp: 0, bodyAt: 0, bodyLength: 0, tagsAt: 0, tagsLength: 0, keysAt: 0, keysLength: 3 };
      expect(await rejectionOf(store.putPlain('claims', 0, lying))).toBeInstanceOf(InvalidMessageError);
      // ... or keys past the end of its bytes.
      const past: PlainMessageBatch = { ...lying, bytes: Buffer.from('key', 'latin1'), keysLength: 4 };
      expect(await rejectionOf(store.putPlain('claims', 0, past))).toBeInstanceOf(InvalidMessageError);
      expect(store.stats().appendOffset).toBe(0);
    } finally {
      await store.close();
    }
  });
});
