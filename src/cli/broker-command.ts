// `metaq broker`: runs a broker in the foreground until SIGINT or SIGTERM.
// Options come from an optional JSON config file (a BrokerConfig) with the
// command-line flags laid over it. Every bad input (unreadable or non-JSON
// file, unknown key, bad flag value, bad topic spec) is an InvalidConfigError,
// which main.ts's fail handler prints as one `metaq: [code] message` line and
// exit status 2.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { Broker, BROKER_DEFAULTS, type BrokerConfig } from '../broker/index.js';
import { InvalidConfigError } from '../common/index.js';
import { parseAddress } from '../net/index.js';
import { STORE_DEFAULTS, validateQueueCount, validateTopicName, type MessageStoreConfig } from '../store/index.js';
import { bytesText, checkKeys, defined, intFlag, isObject, listFlag, readConfigFile, stringFlag } from './options.js';
import { serveUntilSignal } from './serve-until-signal.js';
import { clientTlsFromFlags, resolveTlsPaths, serverTlsFromFlags, withTlsFlags, type TlsArgs } from './tls-flags.js';
import { allowUnauthenticatedFrom, clientSecurityOptions, credentialFrom, credentialsFileFrom, replicaCredentialFrom, replicaSecurityOptions, serverSecurityOptions, type SecurityArgs } from './security-flags.js';

interface BrokerArgs extends TlsArgs, SecurityArgs {
  config?: string;
  name?: unknown;
  host?: unknown;
  port?: unknown;
  namesrv?: unknown;
  dir?: unknown;
  flush?: unknown;
  topic?: unknown;
  'max-reconsume-times'?: unknown;
  'max-delay-ms'?: unknown;
  'register-interval-ms'?: unknown;
  'consumer-timeout-ms'?: unknown;
  'transaction-timeout-ms'?: unknown;
  'transaction-check-interval-ms'?: unknown;
  'transaction-check-max'?: unknown;
  'segment-size'?: unknown;
  'max-message-size'?: unknown;
  role?: unknown;
  master?: unknown;
  'ha-port'?: unknown;
  replication?: unknown;
  'slave-timeout-ms'?: unknown;
  'sync-record'?: unknown;
  'metrics-port'?: unknown;
  'metrics-host'?: unknown;
}

const BROKER_KEYS = ['store', ...Object.keys(BROKER_DEFAULTS)];
const STORE_KEYS = ['dir', ...Object.keys(STORE_DEFAULTS)];

/** `name:queues`, e.g. `orders:8`. */
function parseTopicSpec(spec: string): [string, number] {
  const i = spec.lastIndexOf(':');
  const name = i > 0 ? spec.slice(0, i) : '';
  const countText = spec.slice(i + 1);
  if (i <= 0 || !/^\d+$/.test(countText)) throw new InvalidConfigError(`--topic ${JSON.stringify(spec)} is not name:queues (e.g. orders:8)`);
  try {
    validateTopicName(name);
    validateQueueCount(Number(countText));
  } catch (err) {
    throw new InvalidConfigError(`--topic ${JSON.stringify(spec)}: ${(err as Error).message}`, { cause: err });
  }
  return [name, Number(countText)];
}

function checkTopics(topics: unknown, where: string): void {
  if (!isObject(topics)) throw new InvalidConfigError(`${where}: topics must map topic names to queue counts`);
  for (const [name, count] of Object.entries(topics)) {
    try {
      validateTopicName(name);
      validateQueueCount(count);
    } catch (err) {
      throw new InvalidConfigError(`${where}: topic ${JSON.stringify(name)}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function checkNamesrvs(addrs: unknown, where: string): void {
  if (!Array.isArray(addrs) || !addrs.every((a) => typeof a === 'string')) {
    throw new InvalidConfigError(`${where}: namesrvAddrs must be a list of host:port strings`);
  }
  for (const a of addrs) {
    try {
      parseAddress(a);
    } catch (err) {
      throw new InvalidConfigError(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The BrokerConfig a command line asks for: the config file (if any) with the flags laid over it. */
export function brokerConfigFromArgs(a: BrokerArgs, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  let file: Record<string, unknown> = {};
  let fileStore: Record<string, unknown> = {};
  let fileDir: string | undefined;
  if (a.config !== undefined) {
    const where = `config file ${a.config}`;
    file = readConfigFile(path.resolve(cwd, a.config));
    checkKeys(file, BROKER_KEYS, where);
    if (file.store !== undefined) {
      if (!isObject(file.store)) throw new InvalidConfigError(`${where}: store must be an object`);
      fileStore = file.store;
      checkKeys(fileStore, STORE_KEYS, `${where}: store`);
      if (fileStore.dir !== undefined) {
        if (typeof fileStore.dir !== 'string' || fileStore.dir === '') throw new InvalidConfigError(`${where}: store.dir must be a non-empty path`);
        // A relative store dir in a config file is relative to that file.
        fileDir = path.resolve(path.dirname(path.resolve(cwd, a.config)), fileStore.dir);
      }
    }
    if (file.topics !== undefined) checkTopics(file.topics, where);
    if (file.namesrvAddrs !== undefined) checkNamesrvs(file.namesrvAddrs, where);
    // Certificate paths in a config file are relative to it, like store.dir.
    for (const k of ['tls', 'haTls', 'masterTls', 'namesrvTls']) {
      if (file[k] !== undefined) file[k] = resolveTlsPaths(file[k], path.dirname(path.resolve(cwd, a.config)));
    }
  }

  const dirFlag = stringFlag('dir', a.dir);
  const dir = dirFlag !== undefined ? path.resolve(cwd, dirFlag) : fileDir;
  if (dir === undefined) throw new InvalidConfigError('the broker needs a store directory: give --dir, or store.dir in the --config file');

  const flush = stringFlag('flush', a.flush);
  if (flush !== undefined && flush !== 'sync' && flush !== 'async') {
    throw new InvalidConfigError(`--flush must be sync or async, got ${JSON.stringify(flush)}`);
  }

  const role = stringFlag('role', a.role);
  if (role !== undefined && role !== 'master' && role !== 'slave') {
    throw new InvalidConfigError(`--role must be master or slave, got ${JSON.stringify(role)}`);
  }
  const replication = stringFlag('replication', a.replication);
  if (replication !== undefined && replication !== 'sync' && replication !== 'async') {
    throw new InvalidConfigError(`--replication must be sync or async, got ${JSON.stringify(replication)}`);
  }
  const master = stringFlag('master', a.master);
  if (master !== undefined) {
    try {
      parseAddress(master);
    } catch (err) {
      throw new InvalidConfigError(`--master: ${(err as Error).message}`, { cause: err });
    }
  }
  const effectiveRole = role ?? (file.role as string | undefined) ?? b.role;
  if (effectiveRole === 'slave' && master === undefined && file.masterHaAddr === undefined) {
    throw new InvalidConfigError('a slave needs --master host:port (its master\'s replication address, printed in the master\'s start line)');
  }
  if (effectiveRole !== 'slave' && master !== undefined) {
    throw new InvalidConfigError('--master is for slaves: give --role slave too');
  }

  const namesrvs = listFlag(a.namesrv);
  if (namesrvs !== undefined) {
    if (namesrvs.length === 0) throw new InvalidConfigError('--namesrv needs host:port');
    checkNamesrvs(namesrvs, '--namesrv');
  }

  const topicSpecs = listFlag(a.topic);
  const topics =
    topicSpecs === undefined
      ? undefined
      : { ...((file.topics as Record<string, number> | undefined) ?? {}), ...Object.fromEntries(topicSpecs.map(parseTopicSpec)) };

  // One certificate for the client port and a master's replication port; --tls-ca for the links this broker opens.
  const serverTls = serverTlsFromFlags(a, cwd);
  const clientTls = clientTlsFromFlags(a, cwd);

  const syncRecord = stringFlag('sync-record', a['sync-record']);
  const store: MessageStoreConfig = {
    ...(fileStore as Partial<MessageStoreConfig>),
    ...defined({
      dir,
      flushMode: flush as 'sync' | 'async' | undefined,
      segmentSize: intFlag('segment-size', a['segment-size'], 4096),
      maxMessageSize: intFlag('max-message-size', a['max-message-size'], 1),
      syncRecordFile: syncRecord === undefined ? undefined : path.resolve(cwd, syncRecord),
    }),
  };
  return {
    ...(file as Partial<BrokerConfig>),
    ...defined({
      brokerName: stringFlag('name', a.name),
      host: stringFlag('host', a.host),
      port: intFlag('port', a.port, 0, 65535),
      namesrvAddrs: namesrvs,
      topics,
      maxReconsumeTimes: intFlag('max-reconsume-times', a['max-reconsume-times'], 0),
      maxDelayMs: intFlag('max-delay-ms', a['max-delay-ms'], 1000),
      registerIntervalMs: intFlag('register-interval-ms', a['register-interval-ms'], 1),
      consumerTimeoutMs: intFlag('consumer-timeout-ms', a['consumer-timeout-ms'], 1),
      transactionTimeoutMs: intFlag('transaction-timeout-ms', a['transaction-timeout-ms'], 1),
      transactionCheckIntervalMs: intFlag('transaction-check-interval-ms', a['transaction-check-interval-ms'], 1),
      transactionCheckMax: intFlag('transaction-check-max', a['transaction-check-max'], 0, 65535),
      role: role as 'master' | 'slave' | undefined,
      masterHaAddr: master,
      haPort: intFlag('ha-port', a['ha-port'], 0, 65535),
      replicationMode: replication as 'sync' | 'async' | undefined,
      slaveTimeoutMs: intFlag('slave-timeout-ms', a['slave-timeout-ms'], 1),
      tls: serverTls,
      haTls: effectiveRole === 'slave' ? undefined : serverTls,
      namesrvTls: clientTls,
      masterTls: effectiveRole === 'slave' ? clientTls : undefined,
      // Flags and the environment over the config file; a relative credentialsFile in the file is relative to it.
      credentialsFile: credentialsFileFrom(a, env, cwd) ?? (typeof file.credentialsFile === 'string' && a.config !== undefined ? path.resolve(path.dirname(path.resolve(cwd, a.config)), file.credentialsFile) : undefined),
      credential: credentialFrom(a, env, cwd),
      replicaCredential: replicaCredentialFrom(a, env, cwd),
      allowUnauthenticated: allowUnauthenticatedFrom(a),
      metricsPort: intFlag('metrics-port', a['metrics-port'], 0, 65535),
      metricsHost: stringFlag('metrics-host', a['metrics-host']),
    }),
    store,
  };
}

const b = BROKER_DEFAULTS;
const s = STORE_DEFAULTS;

export const brokerCommand: CommandModule<object, BrokerArgs> = {
  command: 'broker',
  describe: 'Run a broker (the message store behind the wire protocol) until SIGINT/SIGTERM',
  builder: (y) =>
    withTlsFlags(
      serverSecurityOptions(replicaSecurityOptions(clientSecurityOptions(y
      .usage('$0 broker --dir <store dir> [options]\n\nRuns a broker in the foreground. Flags override the values of the --config file.')
      .option('config', {
        type: 'string',
        requiresArg: true,
        describe: 'JSON file holding a BrokerConfig ({"brokerName", "port", "namesrvAddrs", "topics", "store": {"dir", ...}, ...}); unknown keys are errors, a relative store.dir is relative to the file',
      })
      .option('name', { type: 'string', requiresArg: true, describe: `Broker name, registered with the name servers and shown to clients (default ${b.brokerName})` })
      .option('host', { type: 'string', requiresArg: true, describe: `Address to listen on; also the address registered with the name servers, so clients must reach it (default ${b.host})` })
      .option('port', { requiresArg: true, describe: `Port to listen on; 0 picks a free one (default ${b.port})` })
      .option('namesrv', {
        type: 'string',
        array: true,
        requiresArg: true,
        describe: 'Name server(s) to register with, host:port; repeat the flag or separate with ; or , (default: none, the broker runs standalone)',
      })
      .option('dir', { type: 'string', requiresArg: true, describe: 'Store directory, created if missing; required unless the config file has store.dir' })
      .option('flush', {
        type: 'string',
        requiresArg: true,
        describe: `When a send is acknowledged, sync or async: sync once fdatasync covers it, async once it is in the page cache (flushed every ${s.flushIntervalMs} ms) (default ${s.flushMode})`,
      })
      .option('topic', {
        type: 'string',
        array: true,
        requiresArg: true,
        describe: 'Topic to create at start when missing, as name:queues (e.g. orders:8); repeatable or comma separated; added to the config file\'s topics',
      })
      .option('max-reconsume-times', {
        requiresArg: true,
        describe: `Re-deliveries of a failed message before it moves to the dead-letter topic (default ${b.maxReconsumeTimes})`,
      })
      .option('max-delay-ms', {
        requiresArg: true,
        describe: `The longest delay a delayed send may ask for, ms (default ${b.maxDelayMs}: 2 days; at most the store's retention)`,
      })
      .option('register-interval-ms', { requiresArg: true, describe: `How often the broker re-registers its topics with the name servers, ms (default ${b.registerIntervalMs})` })
      .option('consumer-timeout-ms', { requiresArg: true, describe: `A consumer silent for longer than this leaves its group, ms (default ${b.consumerTimeoutMs})` })
      .option('transaction-timeout-ms', { requiresArg: true, describe: `Transactional messages: a half message not ended is first checked back with its producer group this long after it was stored, ms (default ${b.transactionTimeoutMs})` })
      .option('transaction-check-interval-ms', { requiresArg: true, describe: `Transactional messages: then checked again at this interval, ms (default ${b.transactionCheckIntervalMs})` })
      .option('transaction-check-max', { requiresArg: true, describe: `Transactional messages: checks before an unanswered half message is discarded to TRANS_CHECK_MAX_TIME_TOPIC (default ${b.transactionCheckMax})` })
      .option('segment-size', {
        requiresArg: true,
        describe: `CommitLog segment size in bytes; each segment is preallocated, and must hold the largest message (default ${bytesText(s.segmentSize)})`,
      })
      .option('max-message-size', { requiresArg: true, describe: `Largest message body in bytes (default ${bytesText(s.maxMessageSize)})` })
      .option('role', {
        type: 'string',
        requiresArg: true,
        describe: `Master or slave: a master takes sends and serves a slave on its replication port; a slave copies its master's log and serves reads (default ${b.role})`,
      })
      .option('master', {
        type: 'string',
        requiresArg: true,
        describe: 'Slaves: host:port of the master\'s replication listener, as its start line prints it (default: none; required with --role slave)',
      })
      .option('ha-port', { requiresArg: true, describe: 'Masters: port of the replication listener that slaves connect to; 0 picks a free one (default --port + 1, or 0 when --port is 0)' })
      .option('replication', {
        type: 'string',
        requiresArg: true,
        describe: `Masters: sync acknowledges a send once the slave holds it too (else SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE), async at once (default ${b.replicationMode})`,
      })
      .option('slave-timeout-ms', { requiresArg: true, describe: `Masters, sync replication: how long a send waits for the slave before SLAVE_TIMEOUT, ms (default ${b.slaveTimeoutMs})` })
      .option('metrics-port', { requiresArg: true, describe: 'Serve GET /metrics (Prometheus text) on this port; 0 picks a free one (default: off)' })
      .option('metrics-host', { type: 'string', requiresArg: true, describe: `Address of the /metrics listener, which has no authentication (default ${b.metricsHost})` })
      .option('sync-record', {
        type: 'string',
        requiresArg: true,
        describe:
          'For fault-injection harnesses: keep in <file> what each completed fdatasync covered, so that after a SIGKILL the store can be cut to what a power cut would have left (see docs/STORAGE.md) (default: off)',
      }), 'this broker'))), { listen: 'serve the client port and a master\'s replication port', connect: 'register with the name servers (and a slave: reach its master)' }) as unknown as Argv<BrokerArgs>,
  handler: (a) =>
    serveUntilSignal('broker', async () => {
      const config = brokerConfigFromArgs(a);
      const broker = await Broker.start(config);
      const c = broker.config;
      const role = c.role === 'master' ? `master, replication ${c.replicationMode}` : `slave of ${c.masterHaAddr}`;
      const replicationPort = broker.haAddr === undefined ? '' : `, replication on ${broker.haAddr}${c.haTls === undefined ? '' : ' (TLS)'}`;
      const clientTls = c.tls === undefined ? '' : ' (TLS)';
      const metrics = broker.metricsAddr === undefined ? '' : `, metrics on http://${broker.metricsAddr}/metrics`;
      return {
        startLine: `metaq broker ${c.brokerName} (${role}) listening on ${broker.addr}${clientTls}${replicationPort}${metrics} (store ${config.store.dir}, flush ${config.store.flushMode ?? s.flushMode}, ${c.credentialsFile === undefined ? 'open: no accounts' : `accounts from ${c.credentialsFile}`})`,
        close: () => broker.close(),
      };
    }),
};
