// TLS for the framed links (client ports, replication ports, name servers):
// the options a config names (PEM files by path), their shape check (a typo
// is an error), and loading the files into what node:tls takes, once, at
// start: an unreadable file, a file that is not PEM, a key that does not
// match its certificate or an expired certificate is an InvalidConfigError
// naming the path, before anything listens or connects.
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type ConnectionOptions, type TlsOptions } from 'node:tls';
import { InvalidConfigError } from '../common/index.js';

/** A listener's TLS: its certificate and key, and optionally the CA its clients' certificates must be signed by. */
export interface TlsServerOptions {
  /** PEM certificate (chain) this server presents. */
  certFile: string;
  /** PEM private key of that certificate (unencrypted: protect the file, mode 0600). */
  keyFile: string;
  /** PEM CA bundle: when given, every client must present a certificate signed by it. Default: none asked. */
  clientCaFile?: string;
}

/** A connecting side's TLS: what it trusts, the name it checks, and its own certificate for servers that ask for one. */
export interface TlsClientOptions {
  /** PEM CA bundle to trust (a self-signed server certificate itself, or the CA that signed it). Default: Node's built-in public roots. */
  caFile?: string;
  /** Name the server certificate must carry; default: the host of the address connected to (an IP address is checked against the certificate's IP entries). */
  servername?: string;
  /** PEM certificate presented to a server that verifies clients (its clientCaFile); with keyFile. */
  certFile?: string;
  keyFile?: string;
}

/** Oldest protocol accepted either way: TLS 1.2 and 1.3 only. */
export const TLS_MIN_VERSION = 'TLSv1.2';
/** A connection that has not finished its TLS handshake within this is dropped (node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A listener's TLS material, loaded and checked (RequestServerOptions.tls). */
export interface ServerTls {
  readonly options: TlsOptions;
  /** For logs and errors: which files. */
  readonly describe: string;
}

/** A connecting side's TLS material, loaded and checked (RequestClientOptions.tls). */
export interface ClientTls {
  readonly options: ConnectionOptions;
  readonly describe: string;
}

const SERVER_KEYS = ['certFile', 'keyFile', 'clientCaFile'];
const CLIENT_KEYS = ['caFile', 'servername', 'certFile', 'keyFile'];

function checkShape(v: unknown, known: readonly string[], where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidConfigError(`${where} must be an object with ${known.join(', ')}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new InvalidConfigError(`${where}: unknown option ${JSON.stringify(k)} (known: ${known.join(', ')})`);
  }
  for (const [k, val] of Object.entries(o)) {
    if (val !== undefined && (typeof val !== 'string' || val === '')) throw new InvalidConfigError(`${where}.${k} must be a non-empty string, got ${JSON.stringify(val)}`);
  }
  return o;
}

/** Checks the shape of a listener's TLS options (no file is read). */
export function checkTlsServerOptions(v: unknown, where: string): TlsServerOptions {
  const o = checkShape(v, SERVER_KEYS, where);
  if (o.certFile === undefined || o.keyFile === undefined) throw new InvalidConfigError(`${where} needs certFile and keyFile (PEM files)`);
  return o as unknown as TlsServerOptions;
}

/** Checks the shape of a connecting side's TLS options (no file is read). */
export function checkTlsClientOptions(v: unknown, where: string): TlsClientOptions {
  const o = checkShape(v, CLIENT_KEYS, where);
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw new InvalidConfigError(`${where}: certFile and keyFile go together`);
  return o as unknown as TlsClientOptions;
}

function readPem(file: string, what: string, where: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new InvalidConfigError(`${where}: cannot read the ${what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!data.includes('-----BEGIN ')) throw new InvalidConfigError(`${where}: the ${what} file ${file} is not PEM (no -----BEGIN line)`);
  return data;
}

/** Whether node:tls takes it; the message names the file. */
function checkMaterial(o: { cert?: Buffer; key?: Buffer; ca?: Buffer }, problem: string, where: string): void {
  try {
    createSecureContext(o);
  } catch (err) {
    throw new InvalidConfigError(`${where}: ${problem}: ${(err as Error).message}`, { cause: err });
  }
}

function loadPair(certFile: string, keyFile: string, where: string): { cert: Buffer; key: Buffer } {
  const cert = readPem(certFile, 'certificate', where);
  const key = readPem(keyFile, 'private key', where);
  checkMaterial({ cert }, `the certificate file ${certFile} is not a valid certificate`, where);
  checkMaterial({ key }, `the private key file ${keyFile} is not a valid unencrypted private key`, where);
  checkMaterial({ cert, key }, `the private key ${keyFile} does not belong to the certificate ${certFile}`, where);
  const validTo = new Date(new X509Certificate(cert).validTo);
  if (validTo.getTime() < Date.now()) throw new InvalidConfigError(`${where}: the certificate ${certFile} expired on ${validTo.toISOString()}`);
  return { cert, key };
}

function loadCa(caFile: string, where: string): Buffer {
  const ca = readPem(caFile, 'CA', where);
  const problem = `the CA file ${caFile} is not a valid certificate bundle`;
  checkMaterial({ ca }, problem, where);
  // node:tls skips what is not a certificate (a key given by mistake): then nothing would be trusted.
  try {
    new X509Certificate(ca);
  } catch (err) {
    throw new InvalidConfigError(`${where}: ${problem}: ${(err as Error).message}`, { cause: err });
  }
  return ca;
}

/** Reads and checks a listener's files. `where` names the option in errors (e.g. "tls", "haTls"). */
export function loadServerTls(o: TlsServerOptions, where: string, handshakeTimeoutMs = TLS_HANDSHAKE_TIMEOUT_MS): ServerTls {
  const { cert, key } = loadPair(o.certFile, o.keyFile, where);
  const options: TlsOptions = { cert, key, minVersion: TLS_MIN_VERSION, handshakeTimeout: handshakeTimeoutMs };
  if (o.clientCaFile !== undefined) {
    options.ca = loadCa(o.clientCaFile, where);
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return { options, describe: `certificate ${o.certFile}${o.clientCaFile === undefined ? '' : `, client certificates from ${o.clientCaFile}`}` };
}

/** Reads and checks a connecting side's files. The server's certificate is always verified. */
export function loadClientTls(o: TlsClientOptions, where: string): ClientTls {
  const options: ConnectionOptions = { minVersion: TLS_MIN_VERSION, rejectUnauthorized: true };
  if (o.caFile !== undefined) options.ca = loadCa(o.caFile, where);
  if (o.certFile !== undefined && o.keyFile !== undefined) Object.assign(options, loadPair(o.certFile, o.keyFile, where));
  if (o.servername !== undefined) options.servername = o.servername;
  return { options, describe: o.caFile === undefined ? 'public roots' : `trusting ${o.caFile}` };
}
