// The TLS flags of `metaq namesrv`, `metaq broker` and `metaq admin`, as real
// child processes: a name server, a sync master and its slave all over TLS
// from the command line carry a replicated send; `admin reset-offsets` works
// with --tls-ca and is refused without it; flag mistakes and unreadable
// files are one-line typed errors (exit 2).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSelfSignedCert } from '../../src/bench/index.js';
import { Producer } from '../../src/client/index.js';
import { REPO_ROOT, runTs, useChildren, type RunningChild } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');
const SEGMENT = String(8 * 1024 * 1024);

const tempDir = useTempDirs('tls-cli');
const spawnChild = useChildren();

function start(args: readonly string[]): RunningChild {
  return spawnChild(MAIN, args);
}

async function startLine(r: RunningChild, timeoutMs = 15_000): Promise<string> {
  let exited = false;
  void r.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = r.lines.find((l) => / listening on /.test(l));
    if (line !== undefined) return line;
    if (exited || Date.now() > deadline) throw new Error(`no start line (${exited ? 'exited' : 'timed out'}); stderr:\n${r.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('TLS flags of the commands', () => {
  it('namesrv, a sync master and its slave over TLS from the command line carry a replicated send; admin needs --tls-ca', async () => {
    const certDir = tempDir();
    const { certFile, keyFile } = makeSelfSignedCert(certDir);
    const tls = ['--tls-cert', certFile, '--tls-key', keyFile];
    const nsLine = await startLine(start(['namesrv', '--port', '0', ...tls]));
    expect(nsLine).toMatch(/^metaq namesrv listening on 127\.0\.0\.1:\d+ \(TLS\) /);
    const nsAddr = /listening on (\S+)/.exec(nsLine)![1]!;

    const common = ['--port', '0', '--namesrv', nsAddr, '--topic', 'T:2', '--segment-size', SEGMENT, ...tls, '--tls-ca', certFile];
    const masterLine = await startLine(start(['broker', '--ha-port', '0', '--dir', tempDir(), '--replication', 'sync', '--slave-timeout-ms', '5000', ...common]));
    const m = /listening on (\S+) \(TLS\), replication on (\S+) \(TLS\) /.exec(masterLine);
    expect(m, masterLine).not.toBeNull();
    await startLine(start(['broker', '--role', 'slave', '--master', m![2]!, '--dir', tempDir(), ...common]));

    const p = new Producer({ namesrv: nsAddr, tls: { caFile: certFile } });
    try {
      const deadline = Date.now() + 20_000;
      let status = '';
      // Until the slave has connected over TLS, a sync master takes no writes (METAQ_MASTER_BEHIND_SLAVE).
      while (status !== 'SEND_OK') {
        expect(Date.now(), `last status ${status}`).toBeLessThan(deadline);
        status = await p.send('T', { body: 'over tls' }).then(
          (r) => r.status,
          (err: unknown) => (err as { code?: string }).code ?? String(err),
        );
        if (status !== 'SEND_OK') await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      p.shutdown();
    }

    const reset = ['admin', 'reset-offsets', '--broker', m![1]!, '--group', 'g', '--topic', 'T', '--offset', '0'];
    const [trusted, untrusted] = await Promise.all([runTs(MAIN, [...reset, '--tls-ca', certFile], { timeoutMs: 30_000 }), runTs(MAIN, reset, { timeoutMs: 30_000 })]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.lines.join('\n')).toMatch(/reset group g on topic T to offset 0: 2 queue/);
    expect(untrusted.code).not.toBe(0);
    // Without --tls-ca the admin speaks plain TCP to a TLS port: dropped, with a hint.
    expect(untrusted.stderr).toMatch(/METAQ_CONNECTION_CLOSED.*closed it without answering anything: if it serves TLS, connect with TLS options, e\.g\. --tls-ca/);
  });

  it('--help lists the TLS flags of namesrv, broker and admin reset-offsets', async () => {
    const [broker, namesrv, admin] = await Promise.all([['broker'], ['namesrv'], ['admin', 'reset-offsets']].map((c) => runTs(MAIN, [...c, '--help'], { timeoutMs: 20_000 })));
    const flags = (r: { lines: string[] }): string[] => r.lines.flatMap((l) => /^\s+--(tls-[a-z-]+)\s+PEM /.exec(l)?.[1] ?? []);
    expect(flags(broker!)).toEqual(['tls-cert', 'tls-key', 'tls-client-ca', 'tls-ca']);
    expect(flags(namesrv!)).toEqual(['tls-cert', 'tls-key', 'tls-client-ca']);
    expect(flags(admin!)).toEqual(['tls-cert', 'tls-key', 'tls-ca']);
  });

  it('flag mistakes and unreadable certificate files are one-line typed errors', async () => {
    const dir = tempDir();
    const { certFile, keyFile } = makeSelfSignedCert(dir);
    const missing = path.join(dir, 'missing.pem');
    const cases: [string[], RegExp][] = [
      [['namesrv', '--port', '0', '--tls-cert', certFile], /^metaq: \[METAQ_INVALID_CONFIG\] --tls-cert and --tls-key go together/],
      [['namesrv', '--port', '0', '--tls-client-ca', certFile], /^metaq: \[METAQ_INVALID_CONFIG\] --tls-client-ca needs --tls-cert and --tls-key/],
      [['namesrv', '--port', '0', '--tls-cert', missing, '--tls-key', keyFile], /^metaq: \[METAQ_INVALID_CONFIG\] tls: cannot read the certificate file .*missing\.pem/],
      [['broker', '--port', '0', '--dir', path.join(dir, 'b'), '--tls-cert', certFile, '--tls-key', certFile], /^metaq: \[METAQ_INVALID_CONFIG\] tls: the private key file .* is not a valid unencrypted private key/],
      [['broker', '--port', '0', '--dir', path.join(dir, 'c'), '--tls-ca', missing], /^metaq: \[METAQ_INVALID_CONFIG\] namesrvTls: cannot read the CA file .*missing\.pem/],
      [['admin', 'reset-offsets', '--broker', '127.0.0.1:1', '--group', 'g', '--topic', 'T', '--offset', '0', '--tls-cert', certFile, '--tls-key', keyFile], /^metaq: \[METAQ_INVALID_CONFIG\] --tls-cert and --tls-key need --tls-ca/],
    ];
    const results = await Promise.all(cases.map(([args]) => runTs(MAIN, args, { timeoutMs: 30_000 })));
    results.forEach((r, i) => {
      const stderr = r.stderr.trim();
      expect(r.code, stderr).toBe(2);
      expect(stderr.split('\n')).toHaveLength(1);
      expect(stderr).toMatch(cases[i]![1]);
    });
  });
});
