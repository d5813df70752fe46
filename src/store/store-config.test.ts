// Config validation: typos and impossible values fail before anything opens.
import { describe, expect, it } from 'vitest';
import { resolveStoreConfig, STORE_DEFAULTS } from './store-config.js';

const code = { code: 'METAQ_INVALID_CONFIG' };

describe('store config', () => {
  it('fills defaults', () => {
    expect(resolveStoreConfig({ dir: '/tmp/x' })).toEqual({ ...STORE_DEFAULTS, dir: '/tmp/x' });
  });

  it('rejects unknown options, naming them', () => {
    expect(() => resolveStoreConfig({ dir: '/tmp/x', flushmode: 'sync' } as never)).toThrow(/unknown store config option "flushmode"/);
  });

  it.each([
    [{ flushMode: 'fast' }],
    [{ segmentSize: 1000 }],
    [{ segmentSize: 1 << 20, maxMessageSize: 1 << 20 }],
    [{ maxOpenFiles: 0 }],
    [{ diskHighWaterRatio: 1.5 }],
    [{ retentionMs: -1 }],
    [{ preallocateSegments: 'yes' }],
  ])('rejects %j', (bad) => {
    expect(() => resolveStoreConfig({ dir: '/tmp/x', ...(bad as object) })).toThrow(expect.objectContaining(code));
  });

  it('needs a dir', () => {
    expect(() => resolveStoreConfig({} as never)).toThrow(expect.objectContaining(code));
  });
});
