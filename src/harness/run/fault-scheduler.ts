// Carries out a run's faults at their seconds, one after another (a restart
// never overlaps the kill before it), from the sale's start until the
// teardown. A fault is part of the run: whatever it does or fails to do
// (a broker that does not come back) is written down, never thrown.
import { nowUs } from '../../load/index.js';
import { elapsedSec, type RunContext } from './run-context.js';
import { ProcessRole } from './process-role.js';
import { brokerGroupName, isSlaveFault, type FaultSpec } from '../scenario/index.js';
import { describeError } from './run-steps.js';

/** What one fault did. */
export interface FaultRecord {
  spec: FaultSpec;
  /** Seconds from the sale's start when it was carried out; null when the run ended before it was due. */
  doneAtSec: number | null;
  /** What it hit: `master broker-a (pid 1234)`, `consumer 1`. */
  target: string;
  note?: string;
}

const MS_PER_S = 1000;

export class FaultScheduler {
  readonly #run: RunContext;
  readonly #records: FaultRecord[];
  readonly #timers: NodeJS.Timeout[] = [];
  /** Faults run in turn: each waits for the one before it. */
  #chain: Promise<void> = Promise.resolve();
  readonly #paused = new Set<ProcessRole>();
  #stopped = false;

  constructor(run: RunContext) {
    this.#run = run;
    this.#records = run.faults.map((spec) => ({ spec, doneAtSec: null, target: targetName(spec) }));
  }

  /** Arms every fault against the sale's clock (run.runStartUs must be set). */
  start(): void {
    for (const record of this.#records) {
      const delayMs = Math.max(0, (record.spec.atSec - elapsedSec(this.#run)) * MS_PER_S);
      this.#timers.push(
        setTimeout(() => {
          this.#chain = this.#chain.then(() => this.#carryOut(record));
        }, delayMs),
      );
    }
  }

  /** Disarms what is not due yet, waits for the fault under way, lets a paused slave go on; what each did. */
  async stop(): Promise<FaultRecord[]> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await this.#chain;
    for (const role of this.#paused) role.resume();
    this.#paused.clear();
    return this.#records;
  }

  async #carryOut(record: FaultRecord): Promise<void> {
    if (this.#stopped) return;
    const run = this.#run;
    const f = record.spec;
    record.doneAtSec = Math.round(elapsedSec(run) * MS_PER_S) / MS_PER_S;
    try {
      if (f.kind === 'kill-consumer') {
        const killed = run.pools?.killConsumer(f.target) ?? false;
        if (!killed) record.note = 'that consumer was not running';
      } else {
        const role = this.#role(f);
        record.target = role.describe();
        record.note = await this.#brokerFault(f, role);
      }
    } catch (err) {
      record.note = `failed: ${describeError(err)}`;
    } finally {
      // The producers time their first SEND_OK after it from once it is done (a broker killed cannot answer a
      // send started after that); the k-th mark answers the k-th fault, as all run in order.
      run.pools?.markFault(nowUs());
    }
    run.progress.note(`metaq scenario: fault ${f.text} at ${record.doneAtSec.toFixed(1)} s: ${record.target}${record.note !== undefined ? `: ${record.note}` : ''}`);
  }

  /** Carries out a broker fault; a line for the report when there is something to say. */
  async #brokerFault(f: FaultSpec, role: ProcessRole): Promise<string | undefined> {
    switch (f.kind) {
      case 'kill-master':
      case 'kill-slave':
        if (!role.alive) return 'it was not running';
        await role.kill();
        return undefined;
      case 'power-loss-master':
      case 'power-loss-slave':
        if (!role.alive) return 'it was not running';
        return await role.powerCut();
      case 'restart-master':
      case 'restart-slave':
        return (await role.restart()) ? `back on ${role.addr}` : 'it was running: left alone';
      case 'pause-slave': {
        if (!role.alive) return 'it was not running';
        role.pause();
        this.#paused.add(role);
        const t = setTimeout(() => {
          role.resume();
          this.#paused.delete(role);
        }, f.pauseSec! * MS_PER_S);
        this.#timers.push(t);
        return `paused for ${f.pauseSec} s`;
      }
      case 'disk-loss-master':
        await role.loseDisk();
        await role.restart();
        return `back on ${role.addr} with an empty data directory`;
      case 'kill-consumer':
        throw new Error('not a broker fault');
    }
  }

  #role(f: FaultSpec): ProcessRole {
    const group = this.#run.topology?.groups[f.target];
    const role = isSlaveFault(f.kind) ? group?.slave : group?.master;
    if (!(role instanceof ProcessRole)) throw new Error(`${targetName(f)} is not a broker process of this run`);
    return role;
  }
}

function targetName(f: FaultSpec): string {
  if (f.kind === 'kill-consumer') return `consumer ${f.target}`;
  return `${isSlaveFault(f.kind) ? 'slave' : 'master'} ${brokerGroupName(f.target)}`;
}
