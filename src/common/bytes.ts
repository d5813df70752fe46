// Byte helpers shared by the store and the wire codec. Offsets and timestamps
// are JS numbers (exact up to 2^53, i.e. 8 PiB of log), stored as big-endian u64.

export const TWO_POW_32 = 0x1_0000_0000;

export function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** writeU64 through a DataView: hot encoders keep one per buffer (V8 inlines DataView stores). */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / TWO_POW_32));
  view.setUint32(at + 4, value >>> 0);
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

/** The 20-digit zero-padded decimal name used for segment and index files. */
export function offsetFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function isAllZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
