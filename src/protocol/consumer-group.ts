// Consumer group membership: heartbeats, the member list for rebalancing,
// queue locks for ordered consumption, and the broker's change notice.
//
// HEARTBEAT request: clientId str8 | groupCount u8 | groupCount x
//     (group str8 | mode u8 | ordered u8 | subCount u8 | subCount x (topic str8 | tagCount u8 | tagCount x tag str8))
//   response: empty
// UNREGISTER_CLIENT request: clientId str8 | group str8; response: empty
// GET_CONSUMERS request: group str8; response: count u16 | count x clientId str8 (sorted)
// LOCK_QUEUES / UNLOCK_QUEUES request: group str8 | clientId str8 | count u16 | count x (topic str8 | queueId u32)
//   LOCK_QUEUES response: the queues now locked by this client, same list layout (count u16 | ...)
// NOTIFY_CONSUMERS_CHANGED (oneway, broker to client): group str8
import { InvalidRequestError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';
import type { QueueRef } from './offsets.js';

export const ConsumeMode = {
  Clustering: 0,
  Broadcasting: 1,
} as const;
export type ConsumeMode = (typeof ConsumeMode)[keyof typeof ConsumeMode];

export interface Subscription {
  topic: string;
  /** Empty or ['*'] for every tag. */
  tags: readonly string[];
}

export interface GroupMembership {
  group: string;
  mode: ConsumeMode;
  ordered: boolean;
  subscriptions: readonly Subscription[];
}

export interface HeartbeatRequest {
  clientId: string;
  groups: readonly GroupMembership[];
}

export interface ClientGroupRequest {
  clientId: string;
  group: string;
}

export interface QueueLockRequest extends ClientGroupRequest {
  queues: readonly QueueRef[];
}

function writeTags(w: BodyWriter, tags: readonly string[]): void {
  w.u8(tags.length);
  for (const t of tags) w.str8(t, 'tag');
}

function readTags(r: BodyReader): string[] {
  const n = r.u8('tag count');
  const tags: string[] = [];
  for (let i = 0; i < n; i++) tags.push(r.str8('tag'));
  return tags;
}

export function encodeHeartbeat(req: HeartbeatRequest): Buffer {
  const w = new BodyWriter();
  w.str8(req.clientId, 'clientId').u8(req.groups.length);
  for (const g of req.groups) {
    w.str8(g.group, 'group').u8(g.mode).u8(g.ordered ? 1 : 0).u8(g.subscriptions.length);
    for (const s of g.subscriptions) {
      w.str8(s.topic, 'topic');
      writeTags(w, s.tags);
    }
  }
  return w.finish();
}

export function decodeHeartbeat(body: Buffer): HeartbeatRequest {
  const r = new BodyReader(body);
  const clientId = r.str8('clientId');
  const n = r.u8('group count');
  const groups: GroupMembership[] = [];
  for (let i = 0; i < n; i++) {
    const group = r.str8('group');
    const mode = r.u8('mode');
    if (mode !== ConsumeMode.Clustering && mode !== ConsumeMode.Broadcasting) throw new InvalidRequestError(`unknown consume mode ${mode}`);
    const ordered = r.u8('ordered') !== 0;
    const subCount = r.u8('subscription count');
    const subscriptions: Subscription[] = [];
    for (let j = 0; j < subCount; j++) subscriptions.push({ topic: r.str8('topic'), tags: readTags(r) });
    groups.push({ group, mode, ordered, subscriptions });
  }
  r.done('the heartbeat');
  return { clientId, groups };
}

export function encodeClientGroup(req: ClientGroupRequest): Buffer {
  return new BodyWriter().str8(req.clientId, 'clientId').str8(req.group, 'group').finish();
}

export function decodeClientGroup(body: Buffer): ClientGroupRequest {
  const r = new BodyReader(body);
  const req = { clientId: r.str8('clientId'), group: r.str8('group') };
  r.done('the request');
  return req;
}

export function encodeGroup(group: string): Buffer {
  return new BodyWriter().str8(group, 'group').finish();
}

export function decodeGroup(body: Buffer): string {
  const r = new BodyReader(body);
  const group = r.str8('group');
  r.done('the group');
  return group;
}

export function encodeClientIds(ids: readonly string[]): Buffer {
  const w = new BodyWriter().u16(ids.length);
  for (const id of ids) w.str8(id, 'clientId');
  return w.finish();
}

export function decodeClientIds(body: Buffer): string[] {
  const r = new BodyReader(body);
  const n = r.u16('count');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(r.str8('clientId'));
  r.done('the consumer list');
  return ids;
}

function writeQueues(w: BodyWriter, queues: readonly QueueRef[]): void {
  w.u16(queues.length);
  for (const q of queues) w.str8(q.topic, 'topic').u32(q.queueId);
}

function readQueues(r: BodyReader): QueueRef[] {
  const n = r.u16('queue count');
  const queues: QueueRef[] = [];
  for (let i = 0; i < n; i++) queues.push({ topic: r.str8('topic'), queueId: r.u32('queueId') });
  return queues;
}

export function encodeQueueLock(req: QueueLockRequest): Buffer {
  const w = new BodyWriter().str8(req.group, 'group').str8(req.clientId, 'clientId');
  writeQueues(w, req.queues);
  return w.finish();
}

export function decodeQueueLock(body: Buffer): QueueLockRequest {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const clientId = r.str8('clientId');
  const queues = readQueues(r);
  r.done('the lock request');
  return { group, clientId, queues };
}

export function encodeQueueList(queues: readonly QueueRef[]): Buffer {
  const w = new BodyWriter();
  writeQueues(w, queues);
  return w.finish();
}

export function decodeQueueList(body: Buffer): QueueRef[] {
  const r = new BodyReader(body);
  const queues = readQueues(r);
  r.done('the queue list');
  return queues;
}
