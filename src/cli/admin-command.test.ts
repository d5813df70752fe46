// The reset-offsets command line parsed in process: every bad flag
// combination is an InvalidConfigError naming the flag (test/cli runs the
// command itself), and good ones become the plan Admin.resetOffsets gets.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { thrownBy } from '../../test/helpers/errors.js';
import { resetPlanFromArgs } from './admin-command.js';

const GROUP = 'cli-group';
const TOPIC = 'CliReset';

describe('metaq admin reset-offsets flags', () => {
  it('refuses bad combinations and values, and parses good ones', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, offset: 1, timestamp: '0' }, /exactly one of --offset and --timestamp/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, offset: -3 }, /--offset must be an integer >= 0/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, offset: 'ten' }, /--offset must be an integer >= 0/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, offset: 2 ** 53 }, /--offset must be an integer >= 0/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, timestamp: '2026-13-45' }, /--timestamp must be milliseconds/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, timestamp: '' }, /--timestamp must not be empty/],
      [{ broker: 'b:1', group: GROUP, topic: TOPIC, queue: 'x', offset: 1 }, /--queue must be an integer in 0\.\.4294967294/],
      [{ group: GROUP, topic: TOPIC, offset: 1 }, /either --namesrv .* or --broker/],
      [{ namesrv: 'n:1', broker: 'b:1', group: GROUP, topic: TOPIC, offset: 1 }, /either --namesrv .* or --broker/],
      [{ broker: 'b:1', topic: TOPIC, offset: 1 }, /--group is required/],
      [{ broker: 'b:1', group: GROUP, offset: 1 }, /--topic is required/],
    ];
    for (const [args, message] of cases) {
      const err = thrownBy(() => resetPlanFromArgs(args));
      expect(err, JSON.stringify(args)).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toMatch(message);
    }
    expect(resetPlanFromArgs({ namesrv: 'n:1;n:2', group: GROUP, topic: TOPIC, queue: '3', timestamp: '2026-12-12T00:00:00+08:00' })).toEqual({
      namesrv: ['n:1', 'n:2'],
      brokers: undefined,
      group: GROUP,
      topic: TOPIC,
      queueId: 3,
      target: { timestamp: Date.UTC(2026, 11, 11, 16) },
  });
  expect(resetPlanFromArgs({ broker: 'b:1', group: GROUP, topic: TOPIC, offset: '12' }).target).toEqual({ offset: 12 });
  });
});
