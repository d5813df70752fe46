// host:port strings, as the name server and the CLI use them.
import { InvalidConfigError } from '../common/index.js';

export interface Address {
  host: string;
  port: number;
}

export function parseAddress(s: string): Address {
  const i = s.lastIndexOf(':');
  const host = i > 0 ? s.slice(0, i) : '';
  const port = Number(s.slice(i + 1));
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new InvalidConfigError(`address ${JSON.stringify(s)} is not host:port`);
  }
  return { host, port };
}

export function formatAddress(a: Address): string {
  return `${a.host}:${a.port}`;
}
