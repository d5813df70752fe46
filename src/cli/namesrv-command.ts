// `metaq namesrv`: runs a name server in the foreground until SIGINT or
// SIGTERM. Options come from an optional JSON config file (a NameServerConfig)
// with the flags laid over it; bad input is an InvalidConfigError (exit 2).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InvalidConfigError } from '../common/index.js';
import { NameServer, NAMESRV_DEFAULTS, type NameServerConfig } from '../namesrv/index.js';
import { checkKeys, defined, intFlag, readConfigFile, stringFlag } from './options.js';
import { serveUntilSignal } from './serve-until-signal.js';
import { resolveTlsPaths, serverTlsFromFlags, withTlsFlags, type TlsArgs } from './tls-flags.js';
import { allowUnauthenticatedFrom, credentialsFileFrom, serverSecurityOptions, type SecurityArgs } from './security-flags.js';

interface NamesrvArgs extends TlsArgs, SecurityArgs {
  config?: string;
  host?: unknown;
  port?: unknown;
  'broker-expiry-ms'?: unknown;
  'metrics-port'?: unknown;
  'metrics-host'?: unknown;
}

/** The NameServerConfig a command line asks for: the config file (if any) with the flags laid over it. */
export function namesrvConfigFromArgs(a: NamesrvArgs, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): NameServerConfig {
  let file: Record<string, unknown> = {};
  if (a.config !== undefined) {
    const where = `config file ${a.config}`;
    file = readConfigFile(path.resolve(cwd, a.config));
    checkKeys(file, [...Object.keys(NAMESRV_DEFAULTS), 'tls', 'metricsPort'], where);
    // Certificate paths in a config file are relative to it.
    if (file.tls !== undefined) file.tls = resolveTlsPaths(file.tls, path.dirname(path.resolve(cwd, a.config)));
    if (file.host !== undefined && (typeof file.host !== 'string' || file.host === '')) throw new InvalidConfigError(`${where}: host must be a non-empty string`);
    for (const k of ['port', 'brokerExpiryMs', 'maxFrameSize'] as const) {
      const v = file[k];
      if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v))) {
        throw new InvalidConfigError(`${where}: ${k} must be an integer, got ${JSON.stringify(v)}`);
      }
    }
  }
  return {
    ...(file as NameServerConfig),
    ...defined({
      host: stringFlag('host', a.host),
      port: intFlag('port', a.port, 0, 65535),
      brokerExpiryMs: intFlag('broker-expiry-ms', a['broker-expiry-ms'], 1),
      tls: serverTlsFromFlags(a, cwd),
      credentialsFile: credentialsFileFrom(a, env, cwd) ?? (typeof file.credentialsFile === 'string' && a.config !== undefined ? path.resolve(path.dirname(path.resolve(cwd, a.config)), file.credentialsFile) : undefined),
      allowUnauthenticated: allowUnauthenticatedFrom(a),
      metricsPort: intFlag('metrics-port', a['metrics-port'], 0, 65535),
      metricsHost: stringFlag('metrics-host', a['metrics-host']),
    }),
  };
}

const d = NAMESRV_DEFAULTS;

export const namesrvCommand: CommandModule<object, NamesrvArgs> = {
  command: 'namesrv',
  describe: 'Run a name server (where brokers register and clients look up topic routes) until SIGINT/SIGTERM',
  builder: (y) =>
    withTlsFlags(
      serverSecurityOptions(y
      .usage('$0 namesrv [options]\n\nRuns a name server in the foreground. Flags override the values of the --config file.')
      .option('config', {
        type: 'string',
        requiresArg: true,
        describe: 'JSON file holding a NameServerConfig ({"host", "port", "brokerExpiryMs", "maxFrameSize", "tls": {"certFile", "keyFile", "clientCaFile"}}); unknown keys are errors; relative certificate paths are relative to the file',
      })
      .option('host', { type: 'string', requiresArg: true, describe: `Address to listen on (default ${d.host})` })
      .option('port', { requiresArg: true, describe: `Port to listen on; 0 picks a free one (default ${d.port})` })
      .option('broker-expiry-ms', {
        requiresArg: true,
        describe: `A broker that has not re-registered for this long is dropped from the routes, ms (default ${d.brokerExpiryMs})`,
      })
      .option('metrics-port', { requiresArg: true, describe: 'Serve GET /metrics (Prometheus text) on this port; 0 picks a free one (default: off)' })
      .option('metrics-host', { type: 'string', requiresArg: true, describe: `Address of the /metrics listener, which has no authentication (default ${d.metricsHost})` })), { listen: 'serve the port' }) as unknown as Argv<NamesrvArgs>,
  handler: (a) =>
    serveUntilSignal('namesrv', async () => {
      const ns = await NameServer.start(namesrvConfigFromArgs(a));
      return {
        startLine: `metaq namesrv listening on ${ns.addr}${ns.config.tls === undefined ? '' : ' (TLS)'}${ns.metricsAddr === undefined ? '' : `, metrics on http://${ns.metricsAddr}/metrics`} (broker expiry ${ns.config.brokerExpiryMs} ms, ${ns.config.credentialsFile === undefined ? 'open: no accounts' : `accounts from ${ns.config.credentialsFile}`})`,
        close: () => ns.close(),
      };
    }),
};
