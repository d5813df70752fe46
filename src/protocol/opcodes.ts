// Request opcodes. Numbers are part of the wire contract (docs/PROTOCOL.md):
// never renumber, only add.
export const Opcode = {
  // producer
  Send: 1,
  // consumer
  Pull: 2,
  CommitOffsets: 3,
  QueryOffset: 4,
  Heartbeat: 5,
  UnregisterClient: 6,
  GetConsumers: 7,
  LockQueues: 8,
  UnlockQueues: 9,
  SendBack: 10,
  // admin and tools
  CreateTopic: 11,
  QueryByKey: 12,
  QueryById: 13,
  OffsetForTimestamp: 14,
  QueueOffsets: 15,
  BrokerStats: 16,
  ResetOffsets: 17,
  // name server
  GetRoute: 20,
  RegisterBroker: 21,
  UnregisterBroker: 22,
  // broker to client (oneway)
  NotifyConsumersChanged: 30,
  // replication, on the master's HA port (docs/PROTOCOL.md "Replication")
  HaHandshake: 40,
  HaReport: 41,
  HaData: 42,
  HaOffsets: 43,
  HaDurable: 44,
  HaResync: 45,
  HaCatchUp: 46,
  // authentication, first on any connection to a server that has accounts (docs/PROTOCOL.md "Authentication")
  AuthHello: 50,
  AuthProof: 51,
  // transactional messages (docs/PROTOCOL.md "Transactional messages"); CHECK_TRANSACTION_STATE goes broker to producer (oneway)
  TransactionHalf: 60,
  EndTransaction: 61,
  CheckTransactionState: 62,
  RegisterProducer: 63,
  UnregisterProducer: 64,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

const NAMES = new Map<number, string>(Object.entries(Opcode).map(([k, v]) => [v, k]));

export function opcodeName(op: number): string {
  return NAMES.get(op) ?? `opcode ${op}`;
}

export function isKnownOpcode(op: number): op is Opcode {
  return NAMES.has(op);
}
