// Child process of `bench activity`: the HTTP side under test, in a process
// of its own so that its CPU (this primary and its cluster workers, from
// /proc/<pid>/stat) is not mixed with the brokers' or the load generator's.
// Target `claims`: the activity service (startActivityService, this process
// its cluster primary). Target `hello`: a plain node:http hello-world served
// the same way (a cluster of as many workers on one shared port, the same
// request body read), the floor the claim path is measured against. The job,
// credential included, arrives over the IPC channel, never on the command line.
import cluster from 'node:cluster';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startActivityService, type ActivityServiceOptions } from '../activity/index.js';

export type ServerJob =
  | { target: 'claims'; options: ActivityServiceOptions }
  | { target: 'hello'; host: string; port: number; workers: number };

export type ServerReport = { type: 'ready'; url: string; pids: number[]; workers: number } | { type: 'failed'; message: string } | { type: 'stopped' };

const HELLO_BODY = '{"hello":"world"}';

function post(r: ServerReport): void {
  if (process.connected) process.send!(r);
}

if (cluster.isWorker) {
  // A hello-world worker: reads the body like the service does, answers a fixed JSON.
  const port = Number(process.env.METAQ_HELLO_PORT);
  const host = process.env.METAQ_HELLO_HOST ?? '127.0.0.1';
  http
    .createServer((req, res) => {
      req.resume();
      req.once('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(HELLO_BODY));
    })
    .listen(port, host);
} else if (process.send !== undefined) {
  process.once('message', (job: ServerJob) => void serve(job));
}

async function serve(job: ServerJob): Promise<void> {
  try {
    let stop: () => Promise<void>;
    if (job.target === 'claims') {
      const s = await startActivityService(job.options);
      stop = () => s.close();
      post({ type: 'ready', url: s.url, pids: [process.pid, ...s.pids], workers: s.workers });
    } else {
      const self = import.meta.url;
      cluster.setupPrimary({ exec: fileURLToPath(self), execArgv: self.endsWith('.ts') ? ['--import', 'tsx'] : [] });
      const workers = Array.from({ length: job.workers }, () => cluster.fork({ METAQ_HELLO_PORT: String(job.port), METAQ_HELLO_HOST: job.host }));
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', resolve))));
      stop = async () => {
        await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill()))));
      };
      post({ type: 'ready', url: `http://${job.host}:${job.port}`, pids: [process.pid, ...workers.map((w) => w.process.pid!)], workers: job.workers });
    }
    process.once('message', () => void stop().finally(() => (post({ type: 'stopped' }), process.exit(0))));
  } catch (err) {
    post({ type: 'failed', message: (err as Error).message });
    process.exit(1);
  }
}
