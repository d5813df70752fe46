// Message ids: (store host, physical CommitLog offset) as 32 hex digits:
// IPv4 (8) + port (8) + offset (16). The offset alone finds the record, the
// host tells which broker holds it.
import { InvalidMessageIdError } from './errors.js';

const ID_LENGTH = 32;

export interface MessageIdParts {
  host: string;
  port: number;
  offset: number;
}

export function encodeMessageId(host: string, port: number, offset: number): string {
  const octets = host.split('.').map((p) => Number(p));
  const ip = octets.length === 4 && octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255) ? octets : [0, 0, 0, 0];
  const ipHex = ip.map((o) => o.toString(16).padStart(2, '0')).join('');
  return (ipHex + port.toString(16).padStart(8, '0') + offset.toString(16).padStart(16, '0')).toUpperCase();
}

export function decodeMessageId(id: string): MessageIdParts {
  if (id.length !== ID_LENGTH || !/^[0-9A-Fa-f]+$/.test(id)) {
    throw new InvalidMessageIdError(`malformed message id ${JSON.stringify(id)}: expected ${ID_LENGTH} hex digits`);
  }
  const host = [0, 2, 4, 6].map((i) => parseInt(id.slice(i, i + 2), 16)).join('.');
  const port = parseInt(id.slice(8, 16), 16);
  const offset = parseInt(id.slice(16), 16);
  if (!Number.isSafeInteger(offset)) throw new InvalidMessageIdError(`message id ${id} has an offset beyond 2^53`);
  return { host, port, offset };
}
