// `metaq admin reset-offsets`, run as a real child process against a real
// broker and name server: resets through the name server and through one
// broker, to an offset (clamped, and saying so) and to a timestamp; its help
// text; bad input exits 2 with one typed line, and so does a broker's refusal.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { REPO_ROOT, runTs } from '../helpers/child.js';
import { sleep } from '../helpers/wait.js';

const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');
const TOPIC = 'CliReset';
const GROUP = 'cli-group';

const cluster = useCluster();
const clients = useClients();

function metaq(args: readonly string[]): ReturnType<typeof runTs> {
  return runTs(MAIN, ['admin', 'reset-offsets', ...args], { timeoutMs: 15_000 });
}

describe('metaq admin reset-offsets', () => {
  it('resets a group to an offset (clamped into range) and to a timestamp, through the name server or one broker', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    const producer = clients.producer(c.ns);
    for (const mq of queues) await producer.sendToQueue(mq, Array.from({ length: 5 }, (_, i) => ({ body: `early-${i}` })));
    await sleep(30);
    const from = Date.now();
    await sleep(30);
    for (const mq of queues) await producer.sendToQueue(mq, Array.from({ length: 3 }, (_, i) => ({ body: `late-${i}` })));
    for (const mq of queues) await admin.commitOffset(GROUP, mq, 8);

    const toTime = await metaq(['--namesrv', c.ns, '--group', GROUP, '--topic', TOPIC, '--timestamp', new Date(from).toISOString()]);
    expect(toTime.stderr).toBe('');
    expect(toTime.code).toBe(0);
    expect(toTime.lines[0]).toBe(`reset group ${GROUP} on topic ${TOPIC} to timestamp ${from} (${new Date(from).toISOString()}): 2 queue(s)`);
    expect(toTime.lines.slice(1)).toEqual([`broker-a (${broker.addr}) ${TOPIC}:0 8 -> 5`, `broker-a (${broker.addr}) ${TOPIC}:1 8 -> 5`]);
    for (const mq of queues) expect(await admin.committedOffset(GROUP, mq)).toBe(5);

    const clamped = await metaq(['--broker', broker.addr, '--group', GROUP, '--topic', TOPIC, '--queue', '1', '--offset', '500']);
    expect(clamped.code).toBe(0);
    expect(clamped.lines.slice(1)).toEqual([`${broker.addr} ${TOPIC}:1 5 -> 8 (clamped down to the queue's maxOffset)`]);
    expect(await admin.committedOffset(GROUP, queues[0]!)).toBe(5);
    expect(await admin.committedOffset(GROUP, queues[1]!)).toBe(8);

    const fresh = await metaq(['--broker', broker.addr, '--group', 'never-committed', '--topic', TOPIC, '--queue', '0', '--timestamp', '0']);
    expect(fresh.lines.slice(1)).toEqual([`${broker.addr} ${TOPIC}:0 none -> 0`]);

    // A broker's refusal is a typed one-liner too.
    const internal = await metaq(['--broker', broker.addr, '--group', '%SCHEDULE%', '--topic', TOPIC, '--offset', '0']);
    expect(internal.code).toBe(2);
    expect(internal.stderr.trim()).toMatch(/^metaq: \[METAQ_INTERNAL_GROUP\] /);
    const unknown = await metaq(['--broker', broker.addr, '--group', GROUP, '--topic', 'NoSuchTopic', '--offset', '0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^metaq: \[METAQ_UNKNOWN_TOPIC\] /);
  });

  it('--help describes every flag; bad input exits 2 with one typed line', async () => {
    const help = await runTs(MAIN, ['admin', 'reset-offsets', '--help'], { timeoutMs: 10_000 });
    expect(help.code).toBe(0);
    const text = help.lines.join('\n');
    for (const flag of ['namesrv', 'broker', 'group', 'topic', 'queue', 'offset', 'timestamp']) expect(text).toMatch(new RegExp(`^\\s+--${flag}\\s+[A-Z]`, 'm'));
    expect(text.replace(/\s+/g, ' ')).toContain('clamped');

    // Two bad command lines as real processes: exit 2, one typed line.
    const base = ['--broker', '127.0.0.1:1', '--group', GROUP, '--topic', TOPIC];
    for (const [args, message] of [
      [base, /give exactly one of --offset and --timestamp/],
      [[...base, '--timestamp', 'yesterday'], /--timestamp must be milliseconds since the epoch or an ISO 8601 date/],
    ] as const) {
      const r = await metaq(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(/^metaq: \[METAQ_INVALID_CONFIG\] /);
      expect(r.stderr).toMatch(message);
    }

    // The rest of the table: src/cli/admin-command.test.ts, through the same parser in process.
  });
});
