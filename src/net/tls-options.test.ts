import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { checkTlsClientOptions, checkTlsServerOptions, loadClientTls, loadServerTls } from './tls-options.js';

// A throwaway certificate and key, valid only on 2020-01-01 (made once with Python's cryptography package; openssl 3.0 cannot backdate).
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const EXPIRED = { certFile: path.join(FIXTURES, 'expired-cert.pem'), keyFile: path.join(FIXTURES, 'expired-key.pem') };

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('TLS options', () => {
  it('shapes: unknown keys, missing halves and non-strings are errors naming the option', () => {
    expect(configError(() => checkTlsServerOptions({ certFile: 'a', keyfile: 'b' }, 'haTls'))).toMatch(/^haTls: unknown option "keyfile" \(known: certFile, keyFile, clientCaFile\)/);
    expect(configError(() => checkTlsServerOptions({ certFile: 'a' }, 'tls'))).toMatch(/^tls needs certFile and keyFile/);
    expect(configError(() => checkTlsServerOptions('cert.pem', 'tls'))).toMatch(/^tls must be an object/);
    expect(configError(() => checkTlsClientOptions({ caFile: 3 }, 'tls'))).toMatch(/^tls\.caFile must be a non-empty string, got 3/);
    expect(configError(() => checkTlsClientOptions({ caFile: 'ca.pem', certFile: 'c.pem' }, 'masterTls'))).toMatch(/^masterTls: certFile and keyFile go together/);
    expect(checkTlsClientOptions({}, 'tls')).toEqual({});
    expect(checkTlsServerOptions({ certFile: 'a', keyFile: 'b' }, 'tls')).toEqual({ certFile: 'a', keyFile: 'b' });
  });

  it('an expired certificate is refused at load, naming the file and the date', () => {
    expect(configError(() => loadServerTls(EXPIRED, 'tls'))).toMatch(/^tls: the certificate .*expired-cert\.pem expired on 2020-01-02T00:00:00\.000Z/);
    // As a client's own certificate too; as a CA to trust it loads (the handshake then refuses the server).
    expect(configError(() => loadClientTls({ caFile: EXPIRED.certFile, ...EXPIRED }, 'tls'))).toMatch(/expired on 2020-01-02/);
    expect(loadClientTls({ caFile: EXPIRED.certFile }, 'tls').options.rejectUnauthorized).toBe(true);
  });

  it('a key file given as the CA, or a certificate given as the key, is refused naming it', () => {
    expect(configError(() => loadClientTls({ caFile: EXPIRED.keyFile }, 'namesrvTls'))).toMatch(/^namesrvTls: the CA file .*expired-key\.pem is not a valid certificate bundle/);
    expect(configError(() => loadServerTls({ certFile: EXPIRED.certFile, keyFile: EXPIRED.certFile }, 'tls'))).toMatch(/^tls: the private key file .*expired-cert\.pem is not a valid unencrypted private key/);
  });
});
