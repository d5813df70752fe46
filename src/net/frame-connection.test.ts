// FrameConnection's backpressure over a real socket on 127.0.0.1: a peer that
// does not read stops the frames it sent from being handed on (they wait, in
// order), answers made later wait for room, and everything resumes, in order,
// once the peer reads.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameFlag, type Frame } from '../protocol/index.js';
import { FrameConnection } from './frame-connection.js';

const MiB = 1024 * 1024;

async function pair(): Promise<{ server: Server; accepted: Promise<Socket>; client: Socket }> {
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (accept = resolve));
  const server = createServer(accept);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port });
  client.pause();
  await new Promise<void>((resolve) => client.once('connect', resolve));
  return { server, accepted, client };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('FrameConnection backpressure', () => {
  const open: (() => void)[] = [];
  afterEach(() => {
    for (const f of open.splice(0)) f();
  });

  it('stops handing on frames while its output is above the mark, and resumes in order once the peer reads', async () => {
    const { server, accepted, client } = await pair();
    open.push(() => client.destroy(), () => server.close());
    const handled: number[] = [];
    const later: string[] = [];
    let pauses = 0;
    const answer = Buffer.alloc(MiB, 1);
    const conn: FrameConnection = new FrameConnection(
      await accepted,
      64 * 1024,
      {
        onFrame: (f: Frame) => {
          handled.push(f.requestId);
          conn.send({ opcode: f.opcode, flags: FrameFlag.Response, requestId: f.requestId, status: 0 }, answer);
        },
        onStreamFailure: () => undefined,
        onClose: () => undefined,
      },
      false,
      { outputHighWaterBytes: 4 * MiB, onOutputPause: () => pauses++ },
    );
    const REQUESTS = 40;
    client.write(Buffer.concat(Array.from({ length: REQUESTS }, (_, i) => encodeFrame({ opcode: 3, flags: 0, requestId: i + 1, status: 0 }, Buffer.alloc(8)))));
    await sleep(300);
    // The kernel's buffers take some megabytes; past them the rest wait.
    expect(handled.length).toBeLessThan(REQUESTS);
    expect(conn.congested).toBe(true);
    expect(pauses).toBeGreaterThanOrEqual(1);
    conn.whenWritable(() => {
      later.push(`answer made after ${handled.length} requests`);
      return 0;
    });
    expect(later).toEqual([]);

    let received = 0;
    client.on('data', (chunk: Buffer) => (received += chunk.length));
    client.resume();
    const deadline = Date.now() + 10_000;
    while (handled.length < REQUESTS && Date.now() < deadline) await sleep(20);
    expect(handled).toEqual(Array.from({ length: REQUESTS }, (_, i) => i + 1));
    // The answer that waited for room went before the requests that waited to be read.
    expect(later).toHaveLength(1);
    expect(Number(/after (\d+)/.exec(later[0]!)![1])).toBeLessThan(REQUESTS);
    while (received < REQUESTS * (MiB + 16) && Date.now() < deadline) await sleep(20);
    expect(received).toBe(REQUESTS * (MiB + 16));
  });

  it('answers made in a burst through whenWritable stop at the mark by their declared size', async () => {
    const { server, accepted, client } = await pair();
    open.push(() => client.destroy(), () => server.close());
    const conn = new FrameConnection(await accepted, 64 * 1024, { onFrame: () => undefined, onStreamFailure: () => undefined, onClose: () => undefined }, false, {
      outputHighWaterBytes: 4 * MiB,
    });
    let made = 0;
    // 100 answers of 1 MiB woken at once: each says its size before it is sent.
    for (let i = 0; i < 100; i++) {
      conn.whenWritable(() => {
        made++;
        queueMicrotask(() => conn.send({ opcode: 3, flags: FrameFlag.Response, requestId: i + 1, status: 0 }, Buffer.alloc(MiB)));
        return MiB;
      });
    }
    expect(made).toBe(5);
    expect(conn.congested).toBe(true);
  });
});
