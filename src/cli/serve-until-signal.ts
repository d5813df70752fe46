// Runs a foreground service (`metaq broker`, `metaq namesrv`) until SIGINT or
// SIGTERM: start, print the start line, close cleanly on the first signal.
import { constants as osConstants } from 'node:os';

export interface RunningService {
  /** The line printed on stdout once the service listens. */
  readonly startLine: string;
  close(): Promise<void>;
}

/**
 * Starts a service, prints its start line, and on the first SIGINT or SIGTERM
 * closes it and exits 0 (1 if closing fails). A second signal exits at once,
 * with 128 + the signal number. A start failure rejects (main.ts exits 2).
 */
export async function serveUntilSignal(label: string, start: () => Promise<RunningService>): Promise<void> {
  let signalled = false;
  let stop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`metaq ${label}: ${sig} again; exiting without a clean stop\n`);
      process.exit(128 + (osConstants.signals[sig] ?? 0));
    }
    signalled = true;
    process.stderr.write(`metaq ${label}: ${sig} received, stopping (send it again to exit at once)\n`);
    stop();
  };
  // Installed before the start, so that a signal during a slow start (store recovery) still stops cleanly.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let service: RunningService;
  try {
    service = await start();
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw err;
  }
  process.stdout.write(`${service.startLine}\n`);
  await stopRequested;
  try {
    await service.close();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`metaq: ${typeof code === 'string' ? `[${code}] ` : ''}closing the ${label} failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.exit(0);
}
