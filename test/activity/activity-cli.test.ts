// `metaq activity` as operators run it (the built command, dist/): a start
// line naming the URL, claims served, a clean stop on SIGTERM, and bad
// flags refused with a clear error and exit status 2.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/child.js';
import { useCluster } from '../helpers/cluster.js';
import { MAIN, metaq } from '../helpers/metaq-cli.js';
import { claim, request } from './activity-helpers.js';

const START_LINE = /^metaq activity listening on (http:\/\/127\.0\.0\.1:\d+) \(1 worker, claims to topic LOTTERY_CLAIM via /;

describe('metaq activity', () => {
  const cluster = useCluster();

  it('serves claims after its start line and stops cleanly on SIGTERM', async () => {
    const c = await cluster({ topics: { LOTTERY_CLAIM: 1 } });
    const child = spawn(process.execPath, [MAIN, 'activity', '--namesrv', c.ns, '--port', '0', '--workers', '1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = START_LINE.exec(stdout);
        if (m !== null) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before its start line: ${stderr}`)));
    });
    expect((await request(url, 'GET', '/healthz')).status).toBe(200);
    expect((await claim(url, { userId: 7 })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM received, stopping/);
  });

  it.each([
    [['activity'], /--namesrv is required/],
    [['activity', '--namesrv', '127.0.0.1:9876', '--workers', '0'], /--workers must be an integer >= 1/],
    [['activity', '--namesrv', '127.0.0.1:9876', '--port', 'x'], /--port/],
    [['activity', '--namesrv', '127.0.0.1:9876', '--credential', 'a:b'], /Unknown argument/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await metaq(args, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
