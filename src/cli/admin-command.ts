// `metaq admin <command>`: operator commands against running brokers. One so
// far, `reset-offsets`: moves a consumer group's committed offsets on a topic
// to an offset or to a point in time (re-consume from then, or skip a
// backlog). Bad input is an InvalidConfigError (exit 2); a broker's refusal
// is its typed error, printed by main.ts the same way.
import type { Argv, CommandModule } from 'yargs';
import { Admin, type AdminOptions, type OffsetReset, type ResetTarget } from '../client/index.js';
import { InvalidConfigError } from '../common/index.js';
import { intFlag, listFlag, stringFlag } from './options.js';
import { clientTlsFromFlags, withTlsFlags, type TlsArgs } from './tls-flags.js';
import { credentialFrom, type SecurityArgs } from './security-flags.js';

interface ResetArgs extends TlsArgs, SecurityArgs {
  namesrv?: unknown;
  broker?: unknown;
  group?: unknown;
  topic?: unknown;
  queue?: unknown;
  offset?: unknown;
  timestamp?: unknown;
}

/** What a `reset-offsets` command line asks for. */
export interface ResetPlan {
  /** Name servers to route the topic through, or undefined when --broker names the brokers. */
  namesrv: string[] | undefined;
  brokers: string[] | undefined;
  group: string;
  topic: string;
  queueId: number | undefined;
  target: ResetTarget;
}

/** Largest queue id (0xffffffff means "every queue" on the wire). */
const MAX_QUEUE_ID = 0xfffffffe;
/** An ISO 8601 date, optionally with a time: 2026-12-12, 2026-12-12T00:00:00+08:00. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** --timestamp: milliseconds since the epoch, or an ISO 8601 date (a date without zone is UTC at midnight, with a time but no zone: local time). */
export function parseTimestamp(raw: unknown): number {
  const text = stringFlag('timestamp', raw)!.trim();
  if (/^\d+$/.test(text)) return intFlag('timestamp', text, 0)!;
  const ms = ISO_DATE.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidConfigError(`--timestamp must be milliseconds since the epoch or an ISO 8601 date (2026-12-12T00:00:00+08:00), got ${JSON.stringify(text)}`);
  }
  return ms;
}

export function resetPlanFromArgs(a: ResetArgs): ResetPlan {
  const namesrv = listFlag(a.namesrv);
  const brokers = listFlag(a.broker);
  if ((namesrv === undefined || namesrv.length === 0) === (brokers === undefined || brokers.length === 0)) {
    throw new InvalidConfigError('name either --namesrv (reset on every broker serving the topic) or --broker (these brokers only), not both');
  }
  const group = stringFlag('group', a.group);
  if (group === undefined) throw new InvalidConfigError('--group is required');
  const topic = stringFlag('topic', a.topic);
  if (topic === undefined) throw new InvalidConfigError('--topic is required');
  if ((a.offset === undefined) === (a.timestamp === undefined)) throw new InvalidConfigError('give exactly one of --offset and --timestamp');
  const target: ResetTarget = a.offset !== undefined ? { offset: intFlag('offset', a.offset, 0)! } : { timestamp: parseTimestamp(a.timestamp) };
  return { namesrv: brokers === undefined ? namesrv : undefined, brokers, group, topic, queueId: intFlag('queue', a.queue, 0, MAX_QUEUE_ID), target };
}

/** One line per queue: where it was, where it is, and why it differs from what was asked. */
export function describeReset(topic: string, r: OffsetReset): string {
  const where = r.brokerName === r.addr ? r.addr : `${r.brokerName} (${r.addr})`;
  const was = r.previousOffset === undefined ? 'none' : String(r.previousOffset);
  const notes = [
    r.clamped === 'min' ? "clamped up to the queue's minOffset" : r.clamped === 'max' ? "clamped down to the queue's maxOffset" : undefined,
    r.membersRedirected ? 'live members redirected' : undefined,
  ].filter((n) => n !== undefined);
  return `${where} ${topic}:${r.queueId} ${was} -> ${r.offset}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

const resetOffsetsCommand: CommandModule<object, ResetArgs> = {
  command: 'reset-offsets',
  describe: "Move a consumer group's committed offsets on a topic to an offset or to a point in time",
  builder: (y) =>
    withTlsFlags(
      y
      .usage(
        [
          '$0 admin reset-offsets (--namesrv ADDR | --broker ADDR) --group G --topic T (--offset N | --timestamp ISO|ms) [--queue Q]',
          '',
          "Sets the group's committed offset on every queue of the topic (or on --queue only), backwards or forwards.",
          "An offset outside a queue's [minOffset, maxOffset] is clamped to that end, and the output says so.",
          'A timestamp picks, per queue, the first message stored at or after it.',
          "Live consumers of the group are redirected by their next pull (within their poll timeout); consumers that",
          'start later begin at the new offsets. The broker keeps no history of offsets: note the printed old ones.',
        ].join('\n'),
      )
      .option('namesrv', { type: 'string', requiresArg: true, describe: "Name server(s) host:port, ';' or ',' separated: reset on every broker serving the topic (each master, or its slave if the master is down)" })
      .option('broker', { type: 'string', requiresArg: true, describe: 'Broker(s) host:port instead of --namesrv: reset on these brokers only' })
      .option('group', { type: 'string', requiresArg: true, describe: 'Consumer group (a broadcasting member keeps its own offsets as group@clientId)' })
      .option('topic', { type: 'string', requiresArg: true, describe: 'Topic' })
      .option('queue', { requiresArg: true, describe: 'Only this queue id (default: every queue)' })
      .option('offset', { requiresArg: true, describe: 'Queue offset to set (the index of the next message to consume)' })
      .option('timestamp', { type: 'string', requiresArg: true, describe: 'Point in time: milliseconds since the epoch, or ISO 8601 (2026-12-12T00:00:00+08:00)' })
      .example('$0 admin reset-offsets --namesrv 127.0.0.1:9876 --group orders --topic Order --timestamp 2026-12-12T00:00:00+08:00', 're-consume everything stored since midnight (UTC+8)')
      .option('credential-file', {
        type: 'string',
        requiresArg: true,
        describe: 'JSON {"name", "secret"} file (mode 600) of an admin account, for brokers and name servers that have accounts; env METAQ_CREDENTIAL_FILE, or METAQ_CREDENTIAL=name:secret (secrets are never taken on the command line)',
      }), { connect: 'reach the name servers and brokers' }) as unknown as Argv<ResetArgs>,
  handler: async (a) => {
    const plan = resetPlanFromArgs(a);
    const tls = clientTlsFromFlags(a, process.cwd(), false);
    const credential = credentialFrom(a, process.env, process.cwd());
    const options: AdminOptions = { ...(plan.namesrv === undefined ? {} : { namesrv: plan.namesrv }), ...(tls === undefined ? {} : { tls }), ...(credential === undefined ? {} : { credential }) };
    const admin = new Admin(options);
    try {
      const resets = await admin.resetOffsets(plan.group, plan.topic, plan.target, { queueId: plan.queueId, brokerAddrs: plan.brokers });
      const to = 'offset' in plan.target ? `offset ${plan.target.offset}` : `timestamp ${plan.target.timestamp} (${new Date(plan.target.timestamp).toISOString()})`;
      console.log(`reset group ${plan.group} on topic ${plan.topic} to ${to}: ${resets.length} queue(s)`);
      for (const r of resets) console.log(describeReset(plan.topic, r));
    } finally {
      admin.close();
    }
  },
};

export const adminCommand: CommandModule = {
  command: 'admin <command>',
  describe: 'Operator commands against running brokers (reset-offsets)',
  builder: (y) => y.usage('$0 admin <command> [options]').command(resetOffsetsCommand).demandCommand(1, 'Name an admin command; see --help.'),
  handler: () => undefined,
};
