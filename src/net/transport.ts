// Where net/ makes its sockets: plain TCP, or TLS over it when a ServerTls or
// ClientTls is given. Everything above (frames, pipelining, the one reused
// read buffer of `onread`, which node:tls also honours, with the decrypted
// bytes) is the same either way: frames are unchanged inside TLS.
import { connect as netConnect, createServer as netCreateServer, isIP, type OnReadOpts, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer, type ConnectionOptions } from 'node:tls';
import { ConnectError } from '../common/index.js';
import type { ClientTls, ServerTls } from './tls-options.js';

/** The refusal counter (RefusalCounters) of connections whose TLS handshake failed. */
export const TLS_HANDSHAKE_REFUSAL = 'tlsHandshake';

/** A listener, and how to destroy every TCP socket it accepted (those still in a TLS handshake were not handed on). */
export interface SocketServer {
  server: Server;
  destroyAll(): void;
}

/**
 * A listener handing each connection to `onSocket`: plain at once, TLS once
 * its handshake succeeded. A failed handshake (a plain-TCP client, an
 * untrusted client certificate, a stalled handshake) closes that socket only.
 */
export function createSocketServer(tls: ServerTls | undefined, onSocket: (socket: Socket) => void, onHandshakeFailure: (err: Error) => void): SocketServer {
  if (tls === undefined) return { server: netCreateServer(onSocket), destroyAll: () => undefined };
  const server = tlsCreateServer(tls.options, onSocket);
  // A closing server must not wait for connections still in their handshake (up to its timeout): it keeps their TCP sockets.
  const raws = new Set<Socket>();
  server.on('connection', (raw: Socket) => {
    raws.add(raw);
    raw.once('close', () => raws.delete(raw));
  });
  // node leaves the socket of a failed handshake open (a stalled one for ever): it is closed here.
  server.on('tlsClientError', (err, socket) => {
    socket.destroy();
    onHandshakeFailure(err);
  });
  return {
    server,
    destroyAll: () => {
      for (const raw of raws) raw.destroy();
    },
  };
}

/** A connecting socket and the event that says it is ready for frames. */
export interface OpeningSocket {
  socket: Socket;
  ready: 'connect' | 'secureConnect';
}

export function openSocket(host: string, port: number, onread: OnReadOpts, tls: ClientTls | undefined): OpeningSocket {
  if (tls === undefined) return { socket: netConnect({ host, port, onread }), ready: 'connect' };
  // SNI carries names only: an IP address is checked against the certificate's IP entries, without SNI.
  const servername = tls.options.servername ?? (isIP(host) === 0 ? host : undefined);
  // node:tls passes `onread` to its socket (decrypted bytes land in the one buffer); its typings omit it.
  const options = { ...tls.options, host, port, onread, ...(servername === undefined ? {} : { servername }) } as ConnectionOptions;
  const socket = tlsConnect(options);
  return { socket, ready: 'secureConnect' };
}

/** The typed error of a connection that failed before it was ready; `tcpConnected`: it failed in the TLS handshake. */
export function connectFailure(addr: string, err: Error, tls: ClientTls | undefined, tcpConnected: boolean): ConnectError {
  if (tls === undefined || !tcpConnected) return new ConnectError(`cannot connect to ${addr}: ${err.message}`, { cause: err });
  const code = (err as { code?: string }).code;
  return new ConnectError(
    `TLS handshake with ${addr} failed${code === undefined ? '' : ` (${code})`}: ${err.message}; check that the server speaks TLS, and that its certificate is trusted (${tls.describe}) and names the host connected to`,
    { cause: err },
  );
}
