// A client that pipelines 1,000 pulls of 8 MiB each and never reads its
// socket: the broker stops reading that connection's requests once its queued
// output passes the high-water mark, so its memory stays bounded (before, it
// read every answer into memory: ~+2.5 GB in 10 s) and a second, well-behaved
// client is answered at once. The broker runs in its own process, so its
// resident memory is its own.
import { describe, expect, it } from 'vitest';
import { RequestClient } from '../../src/net/index.js';
import { decodePullResponse, Opcode, Status } from '../../src/protocol/index.js';
import { useBrokerProcesses } from '../ha/ha-helpers.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import { connectNeverReading, fill, pullBody, pullFrame, rssOf, stats } from './wire-helpers.js';

const TOPIC = 'BigPulls';
const MiB = 1024 * 1024;
const PULLS = 1000;
/** The bound on the broker's growth (its default high-water mark is 16 MiB). */
const MAX_GROWTH = 300 * MiB;
const WATCH_MS = 6000;

describe('pipelined pulls from a client that never reads', () => {
  const tempDir = useTempDirs('sec-pulls');
  const startProcess = useBrokerProcesses();

  it(`${PULLS} pulls of 8 MiB: broker memory stays bounded and another client is served at once`, async () => {
    const b = await startProcess({ brokerName: 'sec-pulls', port: 0, haPort: 0, topics: { [TOPIC]: 1 }, store: { dir: tempDir(), segmentSize: 64 * MiB } });
    const pid = b.running.child.pid!;
    const good = await RequestClient.connect(b.addr);
    try {
      // 10 MB in the queue: every pull from offset 0 answers ~8 MiB.
      await fill(good, TOPIC, 0, 2500, 4096);
      const before = rssOf(pid);

      const rogue = await connectNeverReading(b.addr);
      rogue.write(Buffer.concat(Array.from({ length: PULLS }, (_, i) => pullFrame(i + 1, { topic: TOPIC }))));

      let peak = before;
      let latencyMs: number | undefined;
      const t0 = Date.now();
      let goodPull: Promise<void> | undefined;
      while (Date.now() - t0 < WATCH_MS) {
        peak = Math.max(peak, rssOf(pid));
        // Fail fast on the old code instead of taking the machine's memory.
        if (peak - before > MAX_GROWTH) break;
        if (goodPull === undefined && Date.now() - t0 > 1000) {
          const start = Date.now();
          goodPull = good.request(Opcode.Pull, pullBody({ topic: TOPIC, maxBytes: 64 * 1024 }), 10_000).then((f) => {
            latencyMs = Date.now() - start;
            expect(f.status).toBe(Status.Ok);
            expect(decodePullResponse(f.body).count).toBeGreaterThan(0);
          });
        }
        await sleep(100);
      }
      const s = await Promise.race([stats(good), sleep(3000).then(() => undefined)]);
      console.log(
        `never-reading client, ${PULLS} x 8 MiB pulls: broker RSS ${(before / MiB).toFixed(0)} MB -> peak ${(peak / MiB).toFixed(0)} MB (+${((peak - before) / MiB).toFixed(0)} MB) within ${Date.now() - t0} ms; ` +
          `another client's pull answered in ${latencyMs ?? 'more than the watch'} ms; refusals ${JSON.stringify(s?.refusals)}`,
      );
      expect(peak - before, 'broker memory growth').toBeLessThan(MAX_GROWTH);
      expect(latencyMs, 'the well-behaved client was answered').toBeDefined();
      expect(latencyMs!).toBeLessThan(2000);
      await goodPull;
      expect(s?.refusals?.outputBytes ?? 0, 'reading the rogue connection was paused for its output').toBeGreaterThanOrEqual(1);

      // Once the rogue goes, the broker is as before.
      rogue.destroy();
      await sleep(200);
      expect((await stats(good)).connections).toBe(1);
    } finally {
      good.close();
    }
  }, 60_000);
});
