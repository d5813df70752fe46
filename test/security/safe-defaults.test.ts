// Safe defaults: a broker or name server bound to an address other hosts can
// reach refuses to start without accounts, saying why and how to fix it,
// unless told explicitly that it may run open. On loopback (the default) it
// runs open as before. Checked in-process and through the `metaq` command.
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { InvalidConfigError } from '../../src/common/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { writeAccounts } from '../helpers/credentials.js';
import { rejectionOf } from '../helpers/errors.js';
import { metaq } from '../helpers/metaq-cli.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const ALL_INTERFACES = '0.0.0.0';
const quiet = { warn: () => undefined };

describe('safe defaults', () => {
  const tempDir = useTempDirs('safe');
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  const store = () => ({ dir: tempDir(), segmentSize: 16 * 1024 * 1024 });

  it('a broker and a name server on a non-loopback host without accounts refuse to start, and say how to fix it', async () => {
    const b = await rejectionOf(Broker.start({ host: ALL_INTERFACES, port: 0, haPort: 0, store: store() }, quiet));
    expect(b).toBeInstanceOf(InvalidConfigError);
    expect((b as Error).message).toMatch(/broker broker-a would listen on 0\.0\.0\.0, reachable from other hosts, without credentials.*credentialsFile.*allowUnauthenticated: true/);
    const n = await rejectionOf(NameServer.start({ host: ALL_INTERFACES, port: 0 }));
    expect(n).toBeInstanceOf(InvalidConfigError);
    expect((n as Error).message).toMatch(/name server would listen on 0\.0\.0\.0/);
  });

  it('start with accounts, or with the explicit override; loopback stays open by default', async () => {
    const file = writeAccounts(tempDir(), [{ name: 'ops', role: 'admin' }]);
    const secured = await Broker.start({ host: ALL_INTERFACES, port: 0, haPort: 0, credentialsFile: file, store: store() }, quiet);
    closers.push(() => secured.close());
    const open = await Broker.start({ host: ALL_INTERFACES, port: 0, haPort: 0, allowUnauthenticated: true, store: store() }, quiet);
    closers.push(() => open.close());
    const ns = await NameServer.start({ host: ALL_INTERFACES, port: 0, allowUnauthenticated: true });
    closers.push(() => ns.close());
    const local = await NameServer.start({ port: 0 });
    closers.push(() => local.close());
    expect(secured.port).toBeGreaterThan(0);
    expect(open.port).toBeGreaterThan(0);
  });

  it('metaq namesrv and broker: refused on --host 0.0.0.0 without --credentials-file, exit 2 with the reason', async () => {
    const ns = await metaq(['namesrv', '--host', ALL_INTERFACES, '--port', '0'], 30_000);
    expect(ns.code).toBe(2);
    expect(ns.stderr).toMatch(/METAQ_INVALID_CONFIG.*name server would listen on 0\.0\.0\.0.*--allow-unauthenticated/);
    const broker = await metaq(['broker', '--host', ALL_INTERFACES, '--port', '0', '--dir', tempDir()], 30_000);
    expect(broker.code).toBe(2);
    expect(broker.stderr).toMatch(/broker broker-a would listen on 0\.0\.0\.0/);
    // A typo'd or world-readable accounts file is refused the same way.
    const file = writeAccounts(tempDir(), [{ name: 'ops', role: 'admin' }]);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const readable = await metaq(['namesrv', '--host', ALL_INTERFACES, '--port', '0', '--credentials-file', file], 30_000);
    expect(readable.code).toBe(2);
    expect(readable.stderr).toMatch(/accessible to other users \(mode 644\).*chmod 600/);
  });
});
