// Capturing errors for assertions on their class and stable `code`.
import { expect } from 'vitest';
import { MalformedFrameError } from '../../src/common/index.js';

/** The error `fn` throws; fails if it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, it returned normally');
}

/** The reason `promise` rejects with; fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, it resolved');
}

/** Asserts that `fn` throws the wire layer's MalformedFrameError (never a RangeError). */
export function expectMalformed(fn: () => unknown): void {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(MalformedFrameError);
  expect((err as MalformedFrameError).code).toBe('METAQ_MALFORMED_FRAME');
}
