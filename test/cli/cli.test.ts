// The `metaq broker` and `metaq namesrv` commands, run as real child
// processes: start lines, a send through both, a master and its slave,
// clean stops on SIGTERM (the store lock released), help texts, and one-line
// typed config errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, BROKER_DEFAULTS } from '../../src/broker/index.js';
import { Producer } from '../../src/client/index.js';
import { NAMESRV_DEFAULTS, NameServer } from '../../src/namesrv/index.js';
import { STORE_DEFAULTS } from '../../src/store/index.js';
import { REPO_ROOT, runTs, useChildren, type RunningChild } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');
/** Children started together by the bad-configuration test. */
const CHILDREN_AT_ONCE = 4;
/** Small segments: the default 1 GiB would be zero-filled at start. */
const SEGMENT = String(8 * 1024 * 1024);
const quiet = { warn: () => undefined };

const tempDir = useTempDirs('cli');
const spawnChild = useChildren();

function start(args: readonly string[]): RunningChild {
  return spawnChild(MAIN, args);
}

/** Waits for the start line and returns the address it names. */
async function listeningAddr(r: RunningChild, timeoutMs = 10_000): Promise<{ line: string; addr: string }> {
  let exited = false;
  void r.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = r.lines.find((l) => / listening on /.test(l));
    if (line !== undefined) return { line, addr: /listening on ([^\s,]+)/.exec(line)![1]! };
    if (exited || Date.now() > deadline) throw new Error(`no start line (${exited ? 'exited' : 'timed out'}); stderr:\n${r.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('metaq namesrv and metaq broker', () => {
  it('start, carry a send, and stop cleanly on SIGTERM, releasing the store lock', async () => {
    const dir = tempDir();
    const ns = start(['namesrv', '--port', '0']);
    const { line: nsLine, addr: nsAddr } = await listeningAddr(ns);
    expect(nsLine).toMatch(/^metaq namesrv listening on 127\.0\.0\.1:\d+ /);

    const broker = start(['broker', '--port', '0', '--namesrv', nsAddr, '--dir', dir, '--topic', 'T:4', '--segment-size', SEGMENT]);
    const { line, addr } = await listeningAddr(broker);
    const haAddr = /, replication on (127\.0\.0\.1:\d+) /.exec(line)?.[1];
    expect(line).toBe(`metaq broker broker-a (master, replication async) listening on ${addr}, replication on ${haAddr} (store ${dir}, flush async, open: no accounts)`);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8').trim()).toBe(String(broker.child.pid));

    // While it runs, a second broker on the same dir is refused with a typed error.
    const rival = runTs(MAIN, ['broker', '--port', '0', '--dir', dir, '--segment-size', SEGMENT], { timeoutMs: 10_000 });

    const p = new Producer({ namesrv: nsAddr });
    try {
      const r = await p.send('T', { body: 'x' });
      expect(r.status).toBe('SEND_OK');
      expect(r.brokerName).toBe('broker-a');
      expect(r.queueOffset).toBe(0);
    } finally {
      p.shutdown();
    }

    const refused = await rival;
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^metaq: \[METAQ_STORE_LOCKED\] /);

    broker.child.kill('SIGTERM');
    ns.child.kill('SIGTERM');
    expect(await broker.exited).toEqual({ code: 0, signal: null });
    expect(await ns.exited).toEqual({ code: 0, signal: null });
    expect(broker.stderr()).toContain('SIGTERM received');

    // Released, not merely left behind by a dead process: no lock file, and the next open is clean.
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    const again = await Broker.start({ port: 0, store: { dir, segmentSize: Number(SEGMENT) } }, quiet);
    try {
      let stored = 0;
      for (let q = 0; q < 4; q++) stored += again.store.maxOffset('T', q);
      expect(stored).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('a master and its slave from the command line: sync replication acknowledges SEND_OK, the slave stops cleanly on SIGTERM', async () => {
    const ns = await NameServer.start({ port: 0 });
    const p = new Producer({ namesrv: ns.addr });
    try {
      const masterDir = tempDir();
      const master = start(['broker', '--port', '0', '--ha-port', '0', '--namesrv', ns.addr, '--dir', masterDir, '--topic', 'T:2', '--segment-size', SEGMENT, '--replication', 'sync', '--slave-timeout-ms', '5000']);
      const { line: masterLine, addr: masterAddr } = await listeningAddr(master);
      const haAddr = /^metaq broker broker-a \(master, replication sync\) listening on 127\.0\.0\.1:\d+, replication on (127\.0\.0\.1:\d+) \(store /.exec(masterLine)?.[1];
      expect(haAddr, masterLine).toBeDefined();
      expect(haAddr).not.toBe(masterAddr);

      const slaveDir = tempDir();
      const slave = start(['broker', '--role', 'slave', '--master', haAddr!, '--port', '0', '--namesrv', ns.addr, '--dir', slaveDir, '--topic', 'T:2', '--segment-size', SEGMENT]);
      const { line: slaveLine, addr: slaveAddr } = await listeningAddr(slave);
      expect(slaveLine).toBe(`metaq broker broker-a (slave of ${haAddr}) listening on ${slaveAddr} (store ${slaveDir}, flush async, open: no accounts)`);

      // Until the slave has connected, a sync-replicated master takes no writes (it cannot know
      // whether it is behind its slave): METAQ_MASTER_BEHIND_SLAVE, then SEND_OK.
      const deadline = Date.now() + 20_000;
      let status = '';
      while (status !== 'SEND_OK') {
        expect(Date.now(), `last status ${status}`).toBeLessThan(deadline);
        status = await p.send('T', { body: 'replicated' }).then(
          (r) => r.status,
          (err: unknown) => {
            if ((err as { code?: string }).code !== 'METAQ_MASTER_BEHIND_SLAVE') throw err;
            return 'METAQ_MASTER_BEHIND_SLAVE';
          },
        );
        if (status !== 'SEND_OK') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe('SEND_OK');

      slave.child.kill('SIGTERM');
      expect(await slave.exited).toEqual({ code: 0, signal: null });
      expect(slave.stderr()).toContain('SIGTERM received');
      master.child.kill('SIGTERM');
      expect(await master.exited).toEqual({ code: 0, signal: null });
    } finally {
      p.shutdown();
      await ns.close();
    }
  });

  it('--help lists every flag with its description and default', async () => {
    const [broker, namesrv] = await Promise.all([runTs(MAIN, ['broker', '--help'], { timeoutMs: 10_000 }), runTs(MAIN, ['namesrv', '--help'], { timeoutMs: 10_000 })]);
    expect(broker.code).toBe(0);
    expect(namesrv.code).toBe(0);
    const brokerHelp = broker.lines.join('\n');
    for (const flag of [
      'config',
      'name',
      'host',
      'port',
      'namesrv',
      'dir',
      'flush',
      'topic',
      'max-reconsume-times',
      'max-delay-ms',
      'register-interval-ms',
      'consumer-timeout-ms',
      'transaction-timeout-ms',
      'transaction-check-interval-ms',
      'transaction-check-max',
      'segment-size',
      'max-message-size',
      'role',
      'master',
      'ha-port',
      'replication',
      'slave-timeout-ms',
      'sync-record',
    ]) {
      expect(brokerHelp).toMatch(new RegExp(`^\\s+--${flag}\\s+[A-Z]`, 'm'));
    }
    // Help lines wrap, so compare with whitespace folded.
    const flatBroker = brokerHelp.replace(/\s+/g, ' ');
    for (const d of [BROKER_DEFAULTS.brokerName, BROKER_DEFAULTS.port, BROKER_DEFAULTS.maxReconsumeTimes, BROKER_DEFAULTS.maxDelayMs, BROKER_DEFAULTS.registerIntervalMs, BROKER_DEFAULTS.consumerTimeoutMs, STORE_DEFAULTS.flushMode, STORE_DEFAULTS.segmentSize, STORE_DEFAULTS.maxMessageSize, BROKER_DEFAULTS.role, BROKER_DEFAULTS.replicationMode, BROKER_DEFAULTS.slaveTimeoutMs]) {
      expect(flatBroker).toContain(`default ${d}`);
    }

    const namesrvHelp = namesrv.lines.join('\n');
    for (const flag of ['config', 'host', 'port', 'broker-expiry-ms']) expect(namesrvHelp).toMatch(new RegExp(`^\\s+--${flag}\\s+[A-Z]`, 'm'));
    const flatNamesrv = namesrvHelp.replace(/\s+/g, ' ');
    for (const d of [NAMESRV_DEFAULTS.host, NAMESRV_DEFAULTS.port, NAMESRV_DEFAULTS.brokerExpiryMs]) expect(flatNamesrv).toContain(`default ${d}`);
  });

  it('bad configuration exits 2 with one typed line on stderr', async () => {
    const dir = tempDir();
    const unknownKey = path.join(dir, 'unknown-key.json');
    fs.writeFileSync(unknownKey, JSON.stringify({ brokerName: 'b1', bogusOption: 1, store: { dir: 'store' } }));
    const notJson = path.join(dir, 'not-json.json');
    fs.writeFileSync(notJson, '{ "port": 1, }');
    const nsUnknown = path.join(dir, 'ns.json');
    fs.writeFileSync(nsUnknown, JSON.stringify({ port: 0, expiry: 5 }));

    const cases: [string[], RegExp][] = [
      [['broker', '--config', unknownKey], /unknown option "bogusOption"/],
      [['broker', '--config', notJson], /not valid JSON/],
      [['broker', '--dir', path.join(dir, 's'), '--flush', 'sometimes'], /--flush must be sync or async, got "sometimes"/],
      [['broker', '--dir', path.join(dir, 's'), '--topic', 'T'], /--topic "T" is not name:queues/],
      [['broker', '--dir', path.join(dir, 's'), '--role', 'boss'], /--role must be master or slave, got "boss"/],
      [['broker', '--dir', path.join(dir, 's'), '--replication', 'maybe'], /--replication must be sync or async, got "maybe"/],
      [['broker', '--dir', path.join(dir, 's'), '--role', 'slave'], /a slave needs --master host:port/],
      [['broker', '--dir', path.join(dir, 's'), '--role', 'slave', '--master', 'nowhere'], /--master: /],
      [['broker', '--dir', path.join(dir, 's'), '--master', '127.0.0.1:10912'], /--master is for slaves/],
      [['broker', '--dir', path.join(dir, 's'), '--ha-port', '70000'], /--ha-port must be an integer in 0\.\.65535/],
      [['broker', '--dir', path.join(dir, 's'), '--slave-timeout-ms', '0'], /--slave-timeout-ms must be an integer >= 1/],
      [['namesrv', '--config', nsUnknown], /unknown option "expiry"/],
    ];
    // A few at a time: twelve TypeScript children at once overran a 2-core CI machine's timeout.
    const results: Awaited<ReturnType<typeof runTs>>[] = [];
    for (let i = 0; i < cases.length; i += CHILDREN_AT_ONCE) {
      results.push(...(await Promise.all(cases.slice(i, i + CHILDREN_AT_ONCE).map(([args]) => runTs(MAIN, args, { timeoutMs: 30_000 })))));
    }
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      const stderr = r.stderr.trim();
      expect(r.code, args.join(' ')).toBe(2);
      expect(stderr.split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(/^metaq: \[METAQ_INVALID_CONFIG\] /);
      expect(stderr).toMatch(message);
      expect(r.lines).toEqual([]);
    });
    // Nothing was opened on the way to the error.
    expect(fs.existsSync(path.join(dir, 'store'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 's'))).toBe(false);
  });
});
