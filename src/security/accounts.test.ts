import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { Opcode } from '../protocol/index.js';
import { loadAccountsFile, parseAccounts } from './accounts.js';
import { loadCredentialFile, parseCredential, resolveCredential } from './credential.js';
import { roleMay } from './permissions.js';
import { checkSafeBinding } from './safe-binding.js';

const SECRET = '0123456789abcdef0123';
const doc = (accounts: unknown[]): string => JSON.stringify({ accounts });

function errorOf(fn: () => unknown): InvalidConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return err as InvalidConfigError;
  }
  throw new Error('expected InvalidConfigError, nothing was thrown');
}

describe('credentials file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const file = (text: string, mode: number): string => {
    const d = mkdtempSync(join(tmpdir(), 'metaq-accounts-'));
    dirs.push(d);
    const p = join(d, 'accounts.json');
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };

  it('takes a valid file with scopes', () => {
    const a = parseAccounts(doc([{ name: 'c1', role: 'consumer', secret: SECRET, groups: ['g1'] }, { name: 'b', role: 'broker', secret: SECRET, brokerNames: ['broker-a'] }]), 'f');
    expect(a.names()).toEqual(['c1', 'b']);
    expect(a.lookup('c1')!.principal.groups?.has('g1')).toBe(true);
  });

  it('refuses typos, bad roles, weak secrets, misplaced scopes and duplicates, naming the problem', () => {
    expect(errorOf(() => parseAccounts(doc([{ name: 'a', role: 'admin', secret: SECRET, grups: ['g'] }]), 'f')).message).toMatch(/unknown key "grups"/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'a', role: 'root', secret: SECRET }]), 'f')).message).toMatch(/role must be one of admin, producer, consumer, broker, replica, got "root"/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'a', role: 'admin', secret: 'short' }]), 'f')).message).toMatch(/at least 16 characters/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'a', role: 'producer', secret: SECRET, groups: ['g'] }]), 'f')).message).toMatch(/groups is for consumer accounts/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'b', role: 'broker', secret: SECRET }]), 'f')).message).toMatch(/needs brokerNames/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'a', role: 'admin', secret: SECRET }, { name: 'a', role: 'producer', secret: SECRET }]), 'f')).message).toMatch(/appears twice/);
    expect(errorOf(() => parseAccounts(JSON.stringify({ acounts: [] }), 'f')).message).toMatch(/unknown key "acounts"/);
    expect(errorOf(() => parseAccounts('{', 'f')).message).toMatch(/not valid JSON/);
    expect(errorOf(() => parseAccounts(doc([{ name: 'a:b', role: 'admin', secret: SECRET }]), 'f')).message).toMatch(/name must be/);
  });

  it('refuses a file other users may read, and says how to fix it', () => {
    const text = doc([{ name: 'a', role: 'admin', secret: SECRET }]);
    expect(loadAccountsFile(file(text, 0o600)).size).toBe(1);
    const open = file(text, 0o644);
    expect(errorOf(() => loadAccountsFile(open)).message).toMatch(/accessible to other users \(mode 644\).*chmod 600/);
    expect(errorOf(() => loadCredentialFile(file(JSON.stringify({ name: 'a', secret: SECRET }), 0o604))).message).toMatch(/chmod 600/);
  });

  it('reads a client credential from a file or the environment, never guessing', () => {
    expect(parseCredential(`shop:${SECRET}`, 'METAQ_CREDENTIAL')).toEqual({ name: 'shop', secret: SECRET });
    expect(errorOf(() => parseCredential(SECRET, 'METAQ_CREDENTIAL')).message).toMatch(/name:secret/);
    const f = file(JSON.stringify({ name: 'shop', secret: SECRET }), 0o600);
    expect(resolveCredential(undefined, { METAQ_CREDENTIAL_FILE: f })).toEqual({ name: 'shop', secret: SECRET });
    expect(resolveCredential(undefined, { METAQ_CREDENTIAL: `x:${SECRET}` })).toEqual({ name: 'x', secret: SECRET });
    expect(resolveCredential(undefined, {})).toBeUndefined();
    expect(errorOf(() => loadCredentialFile(file(JSON.stringify({ name: 'shop', secret: SECRET, scret: 1 }), 0o600))).message).toMatch(/unknown key "scret"/);
  });
});

describe('roles', () => {
  it('grants each role its requests only', () => {
    expect(roleMay('producer', Opcode.Send)).toBe(true);
    for (const op of [Opcode.TransactionHalf, Opcode.EndTransaction, Opcode.RegisterProducer, Opcode.UnregisterProducer]) {
      expect(roleMay('producer', op)).toBe(true);
      expect(roleMay('consumer', op)).toBe(false);
    }
    expect(roleMay('producer', Opcode.CreateTopic)).toBe(false);
    expect(roleMay('consumer', Opcode.Send)).toBe(false);
    expect(roleMay('consumer', Opcode.CommitOffsets)).toBe(true);
    expect(roleMay('consumer', Opcode.ResetOffsets)).toBe(false);
    expect(roleMay('consumer', Opcode.QueryByKey)).toBe(false);
    expect(roleMay('broker', Opcode.RegisterBroker)).toBe(true);
    expect(roleMay('broker', Opcode.Send)).toBe(false);
    expect(roleMay('replica', Opcode.HaHandshake)).toBe(true);
    expect(roleMay('replica', Opcode.Send)).toBe(false);
    expect(roleMay('producer', Opcode.HaHandshake)).toBe(false);
    for (const op of Object.values(Opcode)) expect(roleMay('admin', op)).toBe(true);
  });
});

describe('safe binding', () => {
  it('refuses a non-loopback host without accounts unless told it may run open', () => {
    expect(errorOf(() => checkSafeBinding('broker b', '0.0.0.0', false, false)).message).toMatch(/without credentials.*--allow-unauthenticated/);
    checkSafeBinding('broker b', '0.0.0.0', true, false);
    checkSafeBinding('broker b', '0.0.0.0', false, true);
    checkSafeBinding('broker b', '127.0.0.1', false, false);
    checkSafeBinding('broker b', '::1', false, false);
    checkSafeBinding('broker b', 'localhost', false, false);
  });
});
