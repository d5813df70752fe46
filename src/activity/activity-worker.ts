// Entry of one activity service worker process (forked by the primary,
// activity-service.ts): waits for its configuration over IPC, serves HTTP on
// the shared listening socket, and exits once told to close.
import cluster from 'node:cluster';
import { MetaqError } from '../common/index.js';
import { ClaimServer } from './claim-server.js';
import type { ToPrimary, ToWorker } from './worker-messages.js';

if (cluster.isWorker) {
  let server: ClaimServer | undefined;
  const send = (m: ToPrimary): void => {
    if (process.connected) process.send!(m);
  };
  process.on('message', (m: ToWorker) => {
    switch (m?.t) {
      case 'config':
        void start(m.options, m.index);
        break;
      case 'fwd':
        server?.onForwarded(m.from, m.items);
        break;
      case 'ans':
        server?.onAnswers(m.items);
        break;
      case 'metrics':
        server?.onMetrics(m.id, m.text, m.contentType);
        break;
      case 'collect':
        void server?.metrics.registry.getMetricsAsJSON().then((metrics) => send({ t: 'collected', id: m.id, metrics }));
        break;
      case 'close':
        void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0));
        break;
      default:
    }
  });
  // A Ctrl-C reaches the whole process group: the primary stops the workers
  // in order (claims in flight answered first), so a worker does not die on it.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  send({ t: 'hello' });
  // The primary gone (killed): nothing can be forwarded or aggregated any more.
  process.on('disconnect', () => void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0)));

  async function start(options: Extract<ToWorker, { t: 'config' }>['options'], index: number): Promise<void> {
    try {
      server = new ClaimServer(options, index, send);
      send({ t: 'ready', port: await server.listen() });
    } catch (err) {
      send({ t: 'failed', code: err instanceof MetaqError ? err.code : ((err as { code?: string }).code ?? 'ERROR'), message: (err as Error).message });
    }
  }
}
