// `metaq broker --sync-record`: the harness's power cut, end to end. A broker
// process in sync flush mode takes sends from four producers, is killed with
// SIGKILL mid-stream, its store is cut in place from the record it kept
// (readSyncRecord, cutToDurableImage), and every SEND_OK message is in the
// reopened store with its body.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../src/client/index.js';
import { cutToDurableImage, decodeRecords, MessageStore, readSyncRecord } from '../../src/store/index.js';
import { REPO_ROOT, spawnTs, type RunningChild } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';

const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');
const SEGMENT = String(1024 * 1024);
const QUEUES = 4;
const PRODUCERS = 4;

const tempDir = useTempDirs('sync-record-cli');
const running: RunningChild[] = [];
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
});

async function startLine(r: RunningChild): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = r.lines.find((l) => / listening on /.test(l));
    if (line !== undefined) return /listening on ([^\s,]+)/.exec(line)![1]!;
    if (r.child.exitCode !== null || Date.now() > deadline) throw new Error(`no start line; stderr:\n${r.stderr()}`);
    await sleep(20);
  }
}

describe('metaq broker --sync-record', () => {
  it('SIGKILL, cut from the record: every SEND_OK message survives', async () => {
    const root = tempDir();
    const dir = path.join(root, 'master');
    const record = path.join(root, 'master.sync-record');
    const ns = spawnTs(MAIN, ['namesrv', '--port', '0']);
    running.push(ns);
    const nsAddr = await startLine(ns);
    const broker = spawnTs(MAIN, ['broker', '--port', '0', '--namesrv', nsAddr, '--dir', dir, '--topic', `T:${QUEUES}`, '--segment-size', SEGMENT, '--max-message-size', '4096', '--flush', 'sync', '--sync-record', record]);
    running.push(broker);
    await startLine(broker);

    const acked = new Map<string, string>(); // "queue:offset" -> body
    const producer = new Producer({ namesrv: nsAddr, retries: 0 });
    let stop = false;
    const loops = Array.from({ length: PRODUCERS }, async (_, p) => {
      for (let i = 0; !stop; i++) {
        const bodies = Array.from({ length: 8 }, (_, j) => `p${p}-b${i}-m${j}`);
        try {
          const r = await producer.send('T', bodies.map((body) => ({ body })), { timeoutMs: 2000 });
          if (r.status === 'SEND_OK') bodies.forEach((b, j) => acked.set(`${r.queueId}:${r.queueOffset + j}`, b));
        } catch {
          return; // the broker is gone
        }
      }
    });
    while (acked.size < 400) await sleep(10);
    broker.child.kill('SIGKILL');
    expect((await broker.exited).signal).toBe('SIGKILL');
    stop = true;
    await Promise.all(loops);
    producer.shutdown();
    ns.child.kill('SIGTERM');

    const image = readSyncRecord(record);
    cutToDurableImage(dir, image);
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    const store = await MessageStore.open({ dir, segmentSize: Number(SEGMENT), maxMessageSize: 4096 });
    try {
      let missing = 0;
      for (const [key, body] of acked) {
        const [q, o] = key.split(':').map(Number);
        const r = store.getMessages('T', q!, o!, 1, 1 << 20);
        const got = r.status === 'FOUND' ? decodeRecords(r.records)[0]?.body.toString() : undefined;
        if (got !== body) missing++;
      }
      expect(missing, `of ${acked.size} acknowledged`).toBe(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
