// Consumer options: defaults come from CONSUMER_DEFAULTS, bad values are
// InvalidConfigError before anything connects.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { ConsumeMode } from '../../protocol/index.js';
import { thrownBy } from '../../../test/helpers/errors.js';
import { CONSUMER_DEFAULTS, resolveConsumerOptions, type ConsumerOptions } from './consumer-options.js';

const base: ConsumerOptions = { namesrv: '127.0.0.1:9876', group: 'g1', clientId: 'c1' };

describe('resolveConsumerOptions', () => {
  it('fills every option from CONSUMER_DEFAULTS', () => {
    const o = resolveConsumerOptions(base);
    expect(o).toMatchObject({
      group: 'g1',
      clientId: 'c1',
      namesrv: ['127.0.0.1:9876'],
      mode: ConsumeMode.Clustering,
      offsetGroup: 'g1',
      ordered: CONSUMER_DEFAULTS.ordered,
      consumeFrom: CONSUMER_DEFAULTS.consumeFrom,
      batchSize: CONSUMER_DEFAULTS.batchSize,
      concurrency: CONSUMER_DEFAULTS.concurrency,
      pullBatchSize: CONSUMER_DEFAULTS.pullBatchSize,
      pollTimeoutMs: CONSUMER_DEFAULTS.pollTimeoutMs,
      maxBufferedPerQueue: CONSUMER_DEFAULTS.maxBufferedPerQueue,
      heartbeatIntervalMs: CONSUMER_DEFAULTS.heartbeatIntervalMs,
      rebalanceIntervalMs: CONSUMER_DEFAULTS.rebalanceIntervalMs,
      commitIntervalMs: CONSUMER_DEFAULTS.commitIntervalMs,
      maxReconsumeTimes: CONSUMER_DEFAULTS.maxReconsumeTimes,
      localRetryDelayMs: CONSUMER_DEFAULTS.localRetryDelayMs,
      readFromSlave: CONSUMER_DEFAULTS.readFromSlave,
      requestTimeoutMs: CONSUMER_DEFAULTS.requestTimeoutMs,
      routeRefreshMs: CONSUMER_DEFAULTS.routeRefreshMs,
    });
  });

  it('gives each broadcasting member its own offset group', () => {
    const o = resolveConsumerOptions({ ...base, mode: 'broadcasting' });
    expect(o.mode).toBe(ConsumeMode.Broadcasting);
    expect(o.offsetGroup).toBe('g1@c1');
  });

  it('allows zero where zero means something, and nowhere else', () => {
    expect(resolveConsumerOptions({ ...base, pollTimeoutMs: 0, maxReconsumeTimes: 0, localRetryDelayMs: 0 })).toMatchObject({ pollTimeoutMs: 0, maxReconsumeTimes: 0, localRetryDelayMs: 0 });
    expect(thrownBy(() => resolveConsumerOptions({ ...base, batchSize: 0 }))).toBeInstanceOf(InvalidConfigError);
  });

  it('refuses bad values with InvalidConfigError', () => {
    const bad: Partial<Record<keyof ConsumerOptions, unknown>>[] = [
      { group: 'no spaces' },
      { group: '' },
      { mode: 'fanout' },
      { consumeFrom: 'middle' },
      { concurrency: -1 },
      { pullBatchSize: Number.NaN },
      { readFromSlave: 'always' },
      { namesrv: '' },
    ];
    for (const b of bad) {
      const err = thrownBy(() => resolveConsumerOptions({ ...base, ...b } as ConsumerOptions));
      expect(err, JSON.stringify(b)).toBeInstanceOf(InvalidConfigError);
    }
  });
});
