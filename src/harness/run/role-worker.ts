// A server role of a harness run in its own worker thread: the name server
// or a broker (master or slave), started through the same public boot API a
// user would call. It posts its address once it listens, answers `figures`
// requests, and closes cleanly on `stop`.
import { parentPort, workerData } from 'node:worker_threads';
import { Broker, type BrokerConfig } from '../../broker/index.js';
import { ownThreadTid } from '../../load/index.js';
import { NameServer } from '../../namesrv/index.js';
import { loadCredentialFile } from '../../security/index.js';

export type RoleJob = { role: 'namesrv'; brokerExpiryMs: number; credentialsFile?: string } | { role: 'broker'; config: BrokerConfig; credentialFile?: string; replicaCredentialFile?: string };

export type RoleReport =
  /** `tid`: the kernel's id of this thread, for its CPU time. */
  | { type: 'listening'; addr: string; haAddr: string | undefined; tid: number | undefined }
  | { type: 'stopped'; writtenOffset: number; flushCycles: number }
  | { type: 'failed'; message: string };

const port = parentPort!;
const job = workerData as RoleJob;

async function main(): Promise<void> {
  if (job.role === 'namesrv') {
    const ns = await NameServer.start({ host: '127.0.0.1', port: 0, brokerExpiryMs: job.brokerExpiryMs, credentialsFile: job.credentialsFile });
    port.postMessage({ type: 'listening', addr: ns.addr, haAddr: undefined, tid: ownThreadTid() } satisfies RoleReport);
    await new Promise((resolve) => port.once('message', resolve));
    await ns.close();
    port.postMessage({ type: 'stopped', writtenOffset: 0, flushCycles: 0 } satisfies RoleReport);
  } else {
    const broker = await Broker.start(
      {
        ...job.config,
        ...(job.credentialFile !== undefined ? { credential: loadCredentialFile(job.credentialFile) } : {}),
        ...(job.replicaCredentialFile !== undefined ? { replicaCredential: loadCredentialFile(job.replicaCredentialFile) } : {}),
      },
      {
      warn: (message, err) => console.error(`metaq scenario ${job.config.role ?? 'master'}: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
    });
    port.postMessage({ type: 'listening', addr: broker.addr, haAddr: broker.haAddr, tid: ownThreadTid() } satisfies RoleReport);
    await new Promise((resolve) => port.once('message', resolve));
    const s = broker.stats().store;
    await broker.close();
    port.postMessage({ type: 'stopped', writtenOffset: s.writtenOffset, flushCycles: s.flushCycles } satisfies RoleReport);
  }
  port.close();
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies RoleReport);
  port.close();
});
