// `metaq activity`: runs the activity service (the sale's HTTP front: POST
// /claims, GET /healthz, GET /metrics) in the foreground until SIGINT or
// SIGTERM. The producers' credential comes from --credential-file or the
// environment, never a flag; bad input is an InvalidConfigError (exit 2).
import type { Argv, CommandModule } from 'yargs';
import { ACTIVITY_DEFAULTS, defaultWorkers, startActivityService, type ActivityServiceOptions } from '../activity/index.js';
import { defined, intFlag, stringFlag } from './options.js';
import { serveUntilSignal } from './serve-until-signal.js';
import { clientSecurityOptions, credentialFrom, type SecurityArgs } from './security-flags.js';
import { InvalidConfigError } from '../common/index.js';

interface ActivityArgs extends SecurityArgs {
  namesrv?: unknown;
  host?: unknown;
  port?: unknown;
  workers?: unknown;
  topic?: unknown;
  activity?: unknown;
  'max-body-bytes'?: unknown;
  'max-in-flight'?: unknown;
  'max-restarts-per-minute'?: unknown;
  'send-timeout-ms'?: unknown;
}

/** The service options a command line asks for. */
export function activityOptionsFromArgs(a: ActivityArgs, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ActivityServiceOptions {
  const namesrv = stringFlag('namesrv', a.namesrv);
  if (namesrv === undefined) throw new InvalidConfigError('--namesrv is required (host:port of a name server; several separated by ;)');
  const sendTimeoutMs = intFlag('send-timeout-ms', a['send-timeout-ms'], 1);
  const credential = credentialFrom(a, env, cwd);
  return {
    namesrv,
    ...defined({
      host: stringFlag('host', a.host),
      port: intFlag('port', a.port, 0, 65535),
      workers: intFlag('workers', a.workers, 1),
      topic: stringFlag('topic', a.topic),
      activity: stringFlag('activity', a.activity),
      maxBodyBytes: intFlag('max-body-bytes', a['max-body-bytes'], 1),
      maxInFlight: intFlag('max-in-flight', a['max-in-flight'], 1),
      maxRestartsPerMinute: intFlag('max-restarts-per-minute', a['max-restarts-per-minute'], 0),
      credential,
      producer: sendTimeoutMs === undefined ? undefined : { requestTimeoutMs: sendTimeoutMs },
    }),
  };
}

const d = ACTIVITY_DEFAULTS;

export const activityCommand: CommandModule<object, ActivityArgs> = {
  command: 'activity',
  describe: 'Run the activity service (HTTP: POST /claims, GET /healthz, GET /metrics) until SIGINT/SIGTERM',
  builder: (y) =>
    clientSecurityOptions(
      y
        .usage('$0 activity --namesrv host:port [options]\n\nRuns the activity service in the foreground: users claim a lottery ticket with POST /claims {"userId": <integer>, "activityId": "<id>"}; each new claim is produced to the topic and answered 200 once the broker acknowledged it (SEND_OK), 503 with Retry-After when it could not.')
        .option('namesrv', { type: 'string', requiresArg: true, describe: 'Name server address(es), host:port, several separated by ; (required)' })
        .option('host', { type: 'string', requiresArg: true, describe: `Address to listen on (default ${d.host})` })
        .option('port', { requiresArg: true, describe: `Port to listen on; 0 picks a free one (default ${d.port})` })
        .option('workers', { requiresArg: true, describe: `Worker processes serving HTTP (default: the machine's cores, here ${defaultWorkers()})` })
        .option('topic', { type: 'string', requiresArg: true, describe: `Topic the claims are produced to (default ${d.topic})` })
        .option('activity', { type: 'string', requiresArg: true, describe: `Activity id of a claim that names none (default ${d.activity})` })
        .option('max-body-bytes', { requiresArg: true, describe: `Largest claim body; larger is answered 413 (default ${d.maxBodyBytes})` })
        .option('max-in-flight', { requiresArg: true, describe: `Claims one worker holds open at once; past it 503 (default ${d.maxInFlight})` })
        .option('max-restarts-per-minute', { requiresArg: true, describe: `Dead workers forked again at most this often within a minute; 0: never (default ${d.maxRestartsPerMinute})` })
        .option('send-timeout-ms', { requiresArg: true, describe: 'Timeout of one send to a broker, ms (default: the Producer default, 3000)' }),
      'the service',
    ) as unknown as Argv<ActivityArgs>,
  handler: (a) =>
    serveUntilSignal('activity', async () => {
      const s = await startActivityService(activityOptionsFromArgs(a));
      return {
        startLine: `metaq activity listening on ${s.url} (${s.workers} worker${s.workers === 1 ? '' : 's'}, claims to topic ${s.topic} via ${s.options.namesrv.join(';')})`,
        close: () => s.close(),
      };
    }),
};
