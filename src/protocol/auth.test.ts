import { describe, expect, it } from 'vitest';
import { MalformedFrameError } from '../common/index.js';
import { decodeAuthChallenge, decodeAuthHello, decodeAuthProof, decodeAuthProofReply, encodeAuthHello, encodeAuthProofReply } from './auth.js';

describe('authentication codecs', () => {
  it('round-trips AUTH_HELLO and the AUTH_PROOF reply', () => {
    const clientNonce = Buffer.alloc(32, 7);
    expect(decodeAuthHello(encodeAuthHello({ version: 1, name: 'shop', clientNonce }))).toEqual({ version: 1, name: 'shop', clientNonce });
    const serverProof = Buffer.alloc(32, 9);
    expect(decodeAuthProofReply(encodeAuthProofReply({ role: 'replica', serverProof }))).toEqual({ role: 'replica', serverProof });
  });

  it('refuses short nonces and proofs, trailing bytes and unknown roles as malformed', () => {
    expect(() => decodeAuthHello(encodeAuthHello({ version: 1, name: 'a', clientNonce: Buffer.alloc(31) }))).toThrow(MalformedFrameError);
    expect(() => decodeAuthChallenge(Buffer.alloc(33))).toThrow(MalformedFrameError);
    expect(() => decodeAuthProof(Buffer.alloc(16))).toThrow(MalformedFrameError);
    const reply = encodeAuthProofReply({ role: 'admin', serverProof: Buffer.alloc(32) });
    reply[0] = 9;
    expect(() => decodeAuthProofReply(reply)).toThrow(MalformedFrameError);
  });
});
