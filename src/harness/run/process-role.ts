// A server of a run as a child process of the `metaq` command (name server,
// master or slave), and what faults do to one: SIGKILL, SIGSTOP/SIGCONT, a
// power cut (SIGKILL, then its store cut back to what its sync record says
// the last completed fdatasyncs covered), a lost disk, and a start again on
// the same data directory and ports. Its CPU time adds up over every process
// it was.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { processCpuUs } from '../../load/index.js';
import { cutToDurableImage, readSyncRecord } from '../../store/index.js';
import type { BrokerRole } from './thread-role.js';
import { withTimeout } from './with-timeout.js';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const STOP_NOTICE = /: SIGTERM received, stopping/;
const LISTENING = /listening on (\S+?)(?:,| |$)/;
const REPLICATION_ON = /replication on (\S+?)(?:\)| |$)/;

/** Every child of this process still running: SIGKILLed if the harness itself exits without its teardown. */
const LIVE = new Set<ChildProcess>();
let exitHookSet = false;

function killLeftOnExit(): void {
  if (exitHookSet) return;
  exitHookSet = true;
  process.on('exit', () => {
    for (const c of LIVE) c.kill('SIGKILL');
  });
}

export interface ProcessRoleSpec {
  name: BrokerRole['name'];
  /** The broker group (broker-a, ...); undefined for the name server. */
  brokerName?: string;
  /** `metaq` arguments; `--port 0` / `--ha-port 0` are pinned to the first start's ports on a restart. */
  args: string[];
  /** The broker's store directory (emptied by a lost disk). */
  storeDir?: string;
  /** Where the broker keeps its sync record (for a power cut). */
  syncRecord?: string;
}

export class ProcessRole implements BrokerRole {
  readonly name: BrokerRole['name'];
  readonly brokerName: string | undefined;
  addr = '';
  haAddr: string | undefined;
  readonly #spec: ProcessRoleSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #stderr = '';
  /** CPU time (µs) of the processes this role was before the current one. */
  #pastCpuUs = 0;
  /** The current process's CPU time at its last reading (kept for when it is gone). */
  #lastCpuUs = 0;
  #paused = false;

  private constructor(spec: ProcessRoleSpec) {
    this.#spec = spec;
    this.name = spec.name;
    this.brokerName = spec.brokerName;
  }

  static async start(spec: ProcessRoleSpec): Promise<ProcessRole> {
    killLeftOnExit();
    const role = new ProcessRole(spec);
    await role.#launch(spec.args);
    return role;
  }

  get alive(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Who it is, for a report line: `master broker-a (pid 1234)`. */
  describe(): string {
    return `${this.name}${this.brokerName !== undefined ? ` ${this.brokerName}` : ''}${this.pid !== undefined ? ` (pid ${this.pid})` : ''}`;
  }

  activeMs(): number {
    return this.cpuUs() / 1000;
  }

  /** utime + stime of every process it was so far (µs). */
  cpuUs(): number {
    return this.#pastCpuUs + this.#readCurrent();
  }

  /** The current process's CPU time (its last reading once it is gone; 0 when none runs). */
  #readCurrent(): number {
    const pid = this.#child?.pid;
    if (pid !== undefined) this.#lastCpuUs = processCpuUs(pid) ?? this.#lastCpuUs;
    return this.#lastCpuUs;
  }

  /** The process ended (its /proc entry is gone): its last reading is the role's past. */
  #retire(): void {
    this.#pastCpuUs += this.#lastCpuUs;
    this.#lastCpuUs = 0;
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    // Its last reading before the signal: /proc forgets it once it is reaped.
    this.#readCurrent();
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGKILL, then the store as a power cut would leave it: only what completed fdatasyncs covered. */
  async powerCut(): Promise<string> {
    await this.kill();
    const { storeDir, syncRecord } = this.#spec;
    if (storeDir === undefined || syncRecord === undefined) throw new Error(`the ${this.name} keeps no sync record`);
    const cut = cutToDurableImage(storeDir, readSyncRecord(syncRecord));
    return `${cut.zeroedLogBytes.toLocaleString('en-US')} log bytes and ${cut.cutIndexBytes.toLocaleString('en-US')} index bytes were not durable`;
  }

  /** SIGKILL, then its data directory emptied (a disk replaced). */
  async loseDisk(): Promise<void> {
    await this.kill();
    if (this.#spec.storeDir !== undefined) fs.rmSync(this.#spec.storeDir, { recursive: true, force: true });
    if (this.#spec.syncRecord !== undefined) fs.rmSync(this.#spec.syncRecord, { force: true });
  }

  pause(): void {
    if (this.#child === undefined || this.#paused) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (this.#child === undefined || !this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /** Starts it again on the same directory and ports (after a kill; a running one is left alone: false). */
  async restart(): Promise<boolean> {
    if (this.#child !== undefined) return false;
    await this.#launch(this.#pinnedArgs());
    return true;
  }

  async stop(): Promise<{ writtenOffset: number | null; flushCycles: number | null }> {
    const child = this.#child;
    // Killed by a fault and never started again: nothing to stop.
    if (child === undefined) return { writtenOffset: null, flushCycles: null };
    this.resume();
    this.#readCurrent();
    child.kill('SIGTERM');
    const code = await withTimeout(this.#exited, STOP_TIMEOUT_MS, `the ${this.name} process stop`).catch(() => {
      child.kill('SIGKILL');
      return null;
    });
    if (code !== 0) throw new Error(`the ${this.describe()} process did not stop cleanly (exit ${code}): ${this.#stderr.trim().slice(-500)}`);
    // A process reports nothing back.
    return { writtenOffset: null, flushCycles: null };
  }

  /** The first start's ports, so that clients, the slave and the name server find it where it was. */
  #pinnedArgs(): string[] {
    const args = [...this.#spec.args];
    const pin = (flag: string, addr: string | undefined): void => {
      const i = args.indexOf(flag);
      const port = addr?.slice(addr.lastIndexOf(':') + 1);
      if (i >= 0 && port !== undefined) args[i + 1] = port;
    };
    pin('--port', this.addr);
    pin('--ha-port', this.haAddr);
    return args;
  }

  async #launch(args: string[]): Promise<void> {
    const main = new URL('../../cli/main.js', import.meta.url);
    const child: ChildProcess = spawn(process.execPath, [main.pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    LIVE.add(child);
    this.#stderr = '';
    this.#paused = false;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4096);
      // The stop notice is the harness's own doing; anything else the role says is worth seeing.
      for (const line of d.split('\n')) if (line !== '' && !STOP_NOTICE.test(line)) process.stderr.write(`[${this.name}${this.brokerName !== undefined ? ` ${this.brokerName}` : ''}] ${line}\n`);
    });
    this.#exited = new Promise<number | null>((resolve) =>
      child.once('close', (code) => {
        LIVE.delete(child);
        if (this.#child === child) {
          this.#child = undefined;
          this.#retire();
        }
        resolve(code);
      }),
    );
    this.#child = child;
    const line = await withTimeout(
      new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        void this.#exited.then((code) => reject(new Error(`the ${this.name} process exited (${code}) before listening: ${this.#stderr.trim().slice(-500)}`)));
      }),
      START_TIMEOUT_MS,
      `the ${this.name} process start`,
    ).catch(async (err: unknown) => {
      child.kill('SIGKILL');
      await this.#exited;
      throw err;
    });
    const addr = LISTENING.exec(line)?.[1];
    if (addr === undefined) {
      child.kill('SIGKILL');
      await this.#exited;
      throw new Error(`the ${this.name} process printed an unexpected start line: ${line}`);
    }
    this.addr = addr;
    this.haAddr = REPLICATION_ON.exec(line)?.[1];
  }
}
