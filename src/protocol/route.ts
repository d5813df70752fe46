// Name server requests: where a topic lives, and brokers announcing themselves.
//
// GET_ROUTE request: topic str8
//   response: count u8 | count x (brokerName str8 | addr str8 host:port | queueCount u32 | role u8)
//   status NoRoute when no live broker serves the topic
// REGISTER_BROKER request: brokerName str8 | addr str8 | role u8 | topicCount u32 | topicCount x (topic str8 | queueCount u32)
//   response: empty
// role: BrokerRole (0 master, 1 slave); a master and its slave share a brokerName.
// UNREGISTER_BROKER request: brokerName str8 | addr str8; response: empty
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';

export const BrokerRole = {
  Master: 0,
  Slave: 1,
} as const;
export type BrokerRole = (typeof BrokerRole)[keyof typeof BrokerRole];

function readRole(r: BodyReader): BrokerRole {
  const role = r.u8('role');
  if (role !== BrokerRole.Master && role !== BrokerRole.Slave) throw new MalformedFrameError(`unknown broker role ${role}`);
  return role;
}

export interface BrokerRoute {
  brokerName: string;
  /** host:port of the broker's client listener. */
  addr: string;
  queueCount: number;
  role: BrokerRole;
}

export interface TopicRoute {
  topic: string;
  brokers: BrokerRoute[];
}

export interface TopicInfo {
  topic: string;
  queueCount: number;
}

export interface RegisterBrokerRequest {
  brokerName: string;
  addr: string;
  role: BrokerRole;
  topics: readonly TopicInfo[];
}

export interface BrokerIdentity {
  brokerName: string;
  addr: string;
}

export function encodeTopic(topic: string): Buffer {
  return new BodyWriter().str8(topic, 'topic').finish();
}

export function decodeTopic(body: Buffer): string {
  const r = new BodyReader(body);
  const t = r.str8('topic');
  r.done('the topic');
  return t;
}

/** A route's count is a u8: at most this many brokers per topic (the name server's maxRouteEntriesPerTopic keeps routes within it). */
export const MAX_ROUTE_ENTRIES = 255;

export function encodeRoute(brokers: readonly BrokerRoute[]): Buffer {
  const w = new BodyWriter().u8(brokers.length);
  for (const b of brokers) w.str8(b.brokerName, 'brokerName').str8(b.addr, 'addr').u32(b.queueCount).u8(b.role);
  return w.finish();
}

export function decodeRoute(body: Buffer): BrokerRoute[] {
  const r = new BodyReader(body);
  const n = r.u8('broker count');
  const brokers: BrokerRoute[] = [];
  for (let i = 0; i < n; i++) brokers.push({ brokerName: r.str8('brokerName'), addr: r.str8('addr'), queueCount: r.u32('queueCount'), role: readRole(r) });
  r.done('the route');
  return brokers;
}

export function encodeRegisterBroker(req: RegisterBrokerRequest): Buffer {
  const w = new BodyWriter().str8(req.brokerName, 'brokerName').str8(req.addr, 'addr').u8(req.role).u32(req.topics.length);
  for (const t of req.topics) w.str8(t.topic, 'topic').u32(t.queueCount);
  return w.finish();
}

export function decodeRegisterBroker(body: Buffer): RegisterBrokerRequest {
  const r = new BodyReader(body);
  const brokerName = r.str8('brokerName');
  const addr = r.str8('addr');
  const role = readRole(r);
  const n = r.u32('topic count');
  const topics: TopicInfo[] = [];
  for (let i = 0; i < n; i++) topics.push({ topic: r.str8('topic'), queueCount: r.u32('queueCount') });
  r.done('the registration');
  return { brokerName, addr, role, topics };
}

export function encodeBrokerIdentity(b: BrokerIdentity): Buffer {
  return new BodyWriter().str8(b.brokerName, 'brokerName').str8(b.addr, 'addr').finish();
}

export function decodeBrokerIdentity(body: Buffer): BrokerIdentity {
  const r = new BodyReader(body);
  const b = { brokerName: r.str8('brokerName'), addr: r.str8('addr') };
  r.done('the broker identity');
  return b;
}
