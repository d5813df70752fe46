// Which role may send which request: the one table (docs/SECURITY.md
// "Credentials and roles"). Precomputed per role as a byte per opcode so the
// check on every request is one indexed read, no allocation. Scopes (a
// consumer's groups, a producer's topics, a broker's names) need the request
// body and are checked by the handler through its Principal.
import { Opcode } from '../protocol/index.js';
import { ROLES, type Role } from './roles.js';

/**
 * Opcode -> roles besides admin allowed to send it. Admin may send anything a
 * server serves. Anything not listed is admin only (CREATE_TOPIC,
 * RESET_OFFSETS, QUERY_BY_KEY, QUERY_BY_ID, BROKER_STATS: stats show every
 * group and client, so they are an operator's view).
 */
export const PERMISSIONS: Readonly<Record<number, readonly Role[]>> = {
  [Opcode.Send]: ['producer'],
  [Opcode.Pull]: ['consumer'],
  [Opcode.CommitOffsets]: ['consumer'],
  [Opcode.QueryOffset]: ['consumer'],
  [Opcode.Heartbeat]: ['consumer'],
  [Opcode.UnregisterClient]: ['consumer'],
  [Opcode.GetConsumers]: ['consumer'],
  [Opcode.LockQueues]: ['consumer'],
  [Opcode.UnlockQueues]: ['consumer'],
  [Opcode.SendBack]: ['consumer'],
  [Opcode.OffsetForTimestamp]: ['consumer'],
  [Opcode.QueueOffsets]: ['consumer'],
  // transactional messages: a producer's, scoped to the real topic (TRANSACTION_HALF) and checked again at END
  [Opcode.TransactionHalf]: ['producer'],
  [Opcode.EndTransaction]: ['producer'],
  [Opcode.RegisterProducer]: ['producer'],
  [Opcode.UnregisterProducer]: ['producer'],
  // name server
  [Opcode.GetRoute]: ['producer', 'consumer'],
  [Opcode.RegisterBroker]: ['broker'],
  [Opcode.UnregisterBroker]: ['broker'],
  // replication port (the HA listener takes only replica accounts, see Authenticator's `roles`)
  [Opcode.HaHandshake]: ['replica'],
  [Opcode.HaReport]: ['replica'],
  [Opcode.HaResync]: ['replica'],
  [Opcode.HaCatchUp]: ['replica'],
  [Opcode.HaOffsets]: ['replica'],
};

/** Opcodes are a u8 on the wire. */
const OPCODE_SPACE = 0x100;

/** One byte per opcode: 1 where the role may send it. */
export type OpcodeMask = Uint8Array;

function buildMasks(): ReadonlyMap<Role, OpcodeMask> {
  const masks = new Map<Role, OpcodeMask>();
  for (const role of ROLES) masks.set(role, new Uint8Array(OPCODE_SPACE).fill(role === 'admin' ? 1 : 0));
  for (const [op, roles] of Object.entries(PERMISSIONS)) for (const r of roles) masks.get(r)![Number(op)] = 1;
  return masks;
}

const MASKS = buildMasks();

/** The precomputed mask of a role (shared, read only). */
export function opcodeMask(role: Role): OpcodeMask {
  return MASKS.get(role)!;
}

/** Whether `role` may send `opcode` (tests and docs; servers read the mask). */
export function roleMay(role: Role, opcode: number): boolean {
  return opcodeMask(role)[opcode] === 1;
}
