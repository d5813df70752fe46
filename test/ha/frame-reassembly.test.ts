// Frames longer than one socket read, as replication pushes them (up to
// 1 MiB of CommitLog per HaData frame) and as large pulls answer: a raw TCP
// server answers a RequestClient with one response frame written in 48 KiB
// pieces, with pauses so that each piece reaches the client in its own read.
//
// Three pieces fail: RequestClient reads every chunk into one reused buffer
// (src/net/request-client.ts, READ_BUFFER_SIZE) and FrameDecoder.push
// (src/protocol/frame-decoder.ts) keeps a chunk that does not complete the
// frame by reference (`this.#parts.push(chunk)`), so the next read overwrites
// the middle of the frame before it is assembled. For replication this means
// a slave that is behind by more than about two reads is pushed damaged
// chunks, rejects them ("replicated bytes ... are not a valid record"),
// reconnects and never catches up (slave-restart.test.ts, large backlog).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RequestClient } from '../../src/net/index.js';
import { encodeFrame, FrameDecoder, FrameFlag, Opcode } from '../../src/protocol/index.js';
import { bytesFor } from '../helpers/messages.js';
import { sleep } from '../helpers/wait.js';

/** Starts a server answering each request with `body`, written in `pieces` parts 50 ms apart. */
async function pieceServer(body: Buffer, pieces: number): Promise<{ addr: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(Buffer.from(chunk), (req) => {
        const frame = encodeFrame({ opcode: req.opcode, flags: FrameFlag.Response, requestId: req.requestId, status: 0 }, body);
        void (async () => {
          const size = Math.ceil(frame.length / pieces);
          for (let at = 0; at < frame.length; at += size) {
            socket.write(frame.subarray(at, Math.min(frame.length, at + size)));
            await sleep(50);
          }
        })();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    addr: `127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function roundTrip(pieces: number): Promise<{ sent: Buffer; got: Buffer }> {
  // Pieces of 48 KiB: each small enough to arrive in one read.
  const sent = bytesFor(0x5eed + pieces, pieces * 48 * 1024 - 16);
  const server = await pieceServer(sent, pieces);
  const client = await RequestClient.connect(server.addr);
  try {
    const f = await client.request(Opcode.BrokerStats, undefined, 5000);
    return { sent, got: Buffer.from(f.body) };
  } finally {
    client.close();
    await server.close();
  }
}

function differingBytes(a: Buffer, b: Buffer): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('a frame received by RequestClient in several socket reads (48 KiB each)', () => {
  it('two reads: arrives intact', async () => {
    const { sent, got } = await roundTrip(2);
    expect(got.length).toBe(sent.length);
    expect(differingBytes(sent, got)).toBe(0);
  });

  it('three reads: arrives intact', async () => {
    const { sent, got } = await roundTrip(3);
    const diff = differingBytes(sent, got);
    console.log(`frame-reassembly: a frame of ${sent.length} bytes received in 3 reads: ${diff} bytes differ`);
    expect(diff).toBe(0);
  });
});
