// A throwaway self-signed certificate for 127.0.0.1 and localhost, made with
// the openssl command (EC P-256, valid one day), for `bench ha --tls` and the
// TLS tests: the certificate is also the CA its clients trust.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface SelfSignedCert {
  certFile: string;
  keyFile: string;
}

/** Writes `<name>-cert.pem` and `<name>-key.pem` into `dir`; throws when openssl is missing or fails. */
export function makeSelfSignedCert(dir: string, name = 'metaq', subjectAltName = 'IP:127.0.0.1,DNS:localhost'): SelfSignedCert {
  const certFile = path.join(dir, `${name}-cert.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', `subjectAltName=${subjectAltName}`, '-days', '1', '-keyout', keyFile, '-out', certFile],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`making a self-signed certificate needs the openssl command (apt-get install openssl): ${(err as Error).message}`, { cause: err });
  }
  return { certFile, keyFile };
}
