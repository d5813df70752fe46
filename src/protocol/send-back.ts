// SEND_BACK: a consumer could not process a message; the broker schedules a
// re-delivery through the group's retry topic, or moves it to the dead-letter
// topic once it has been re-delivered maxReconsumeTimes times.
//
// Request: group str8 | physicalOffset u64 | maxReconsumeTimes u16 | toDeadLetter u8
// Response: empty
import { BodyReader, BodyWriter } from './body.js';

export interface SendBackRequest {
  group: string;
  /** Where the failed message is in this broker's CommitLog. */
  physicalOffset: number;
  maxReconsumeTimes: number;
  /** Skip the retries (an ordered consumer that gave up locally). */
  toDeadLetter: boolean;
}

export function encodeSendBack(req: SendBackRequest): Buffer {
  return new BodyWriter().str8(req.group, 'group').u64(req.physicalOffset).u16(req.maxReconsumeTimes).u8(req.toDeadLetter ? 1 : 0).finish();
}

export function decodeSendBack(body: Buffer): SendBackRequest {
  const r = new BodyReader(body);
  const req = { group: r.str8('group'), physicalOffset: r.u64('physicalOffset'), maxReconsumeTimes: r.u16('maxReconsumeTimes'), toDeadLetter: r.u8('toDeadLetter') !== 0 };
  r.done('the send-back request');
  return req;
}
