// Safe defaults: a server reachable from other hosts must either check
// credentials or be told explicitly that it may run open.
import { InvalidConfigError } from '../common/index.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * Throws when `host` is not a loopback address, no accounts are configured
 * and running open was not allowed explicitly. `what` names the server,
 * `flags` how to configure it ("credentialsFile" or "--credentials-file").
 */
export function checkSafeBinding(what: string, host: string, hasAccounts: boolean, allowUnauthenticated: boolean): void {
  if (hasAccounts || allowUnauthenticated || isLoopbackHost(host)) return;
  throw new InvalidConfigError(
    `${what} would listen on ${host}, reachable from other hosts, without credentials: anyone reaching it could send, read, register brokers or replicate. ` +
      'Configure accounts (credentialsFile, --credentials-file or METAQ_CREDENTIALS_FILE; docs/SECURITY.md), ' +
      'or, on a network you trust, say it may run open (allowUnauthenticated: true, --allow-unauthenticated)',
  );
}
