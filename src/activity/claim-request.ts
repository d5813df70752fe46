// One claim request as the service takes it: POST /claims with a JSON body
// {"userId", "activityId"?, "seq"?, "intendedUs"?} or the same names in the
// query string (a body, when present, wins over the query). Anything else is
// an InvalidRequestError, answered 400 with its message.
import { InvalidRequestError } from '../common/index.js';

export interface ClaimRequest {
  /** The claiming user: a non-negative safe integer (the claim record carries it as a number). */
  userId: number;
  /** The activity claimed in; undefined: the service's default activity. */
  activityId?: string;
  /** The caller's own sequence number for the claim (the harness's message index); undefined: the service numbers it. */
  seq?: number;
  /** When the claim was meant to be made, µs on the machine's monotonic clock (process.hrtime); undefined: its arrival. */
  intendedUs?: number;
}

const KEYS = new Set(['userId', 'activityId', 'seq', 'intendedUs']);
const ACTIVITY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const DECIMAL = /^\d{1,16}$/;
const MAX_SEQ = 0xffff_ffff;

/** The claim a request asks for: its JSON body (if non-empty) or else its query string. */
export function parseClaimRequest(body: Buffer, query: URLSearchParams): ClaimRequest {
  if (body.length > 0) return fromJson(body);
  const fields: Record<string, unknown> = {};
  for (const [k, v] of query) {
    if (k in fields) throw new InvalidRequestError(`query parameter ${k} is given twice`);
    fields[k] = v;
  }
  return fromFields(fields, true);
}

function fromJson(body: Buffer): ClaimRequest {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidRequestError('the body is not valid JSON (send {"userId": <integer>, "activityId": "<id>"})');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidRequestError('the body must be a JSON object like {"userId": 42}');
  return fromFields(v as Record<string, unknown>, false);
}

function fromFields(f: Record<string, unknown>, fromQuery: boolean): ClaimRequest {
  for (const k of Object.keys(f)) if (!KEYS.has(k)) throw new InvalidRequestError(`unknown field ${JSON.stringify(k)} (known: ${[...KEYS].join(', ')})`);
  if (f.userId === undefined) throw new InvalidRequestError('userId is required (a non-negative integer), in the JSON body or the query');
  const out: ClaimRequest = { userId: integer('userId', f.userId, fromQuery, Number.MAX_SAFE_INTEGER) };
  if (f.activityId !== undefined) {
    if (typeof f.activityId !== 'string' || !ACTIVITY_ID.test(f.activityId)) throw new InvalidRequestError(`activityId must be 1 to 64 of [A-Za-z0-9_.-], got ${JSON.stringify(f.activityId)}`);
    out.activityId = f.activityId;
  }
  if (f.seq !== undefined) out.seq = integer('seq', f.seq, fromQuery, MAX_SEQ);
  if (f.intendedUs !== undefined) out.intendedUs = integer('intendedUs', f.intendedUs, fromQuery, Number.MAX_SAFE_INTEGER);
  return out;
}

function integer(name: string, v: unknown, fromQuery: boolean, max: number): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && (fromQuery || name === 'userId') && DECIMAL.test(v)) n = Number(v);
  else throw new InvalidRequestError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new InvalidRequestError(`${name} must be an integer in 0..${max}, got ${JSON.stringify(v)}`);
  return n;
}
