// Thin wrappers over positional IO that finish the job (short writes and
// reads are retried) and run fdatasync on the libuv thread pool so that the
// event loop never waits on the disk.
import fs from 'node:fs';

export function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    done += fs.writeSync(fd, buf, offset + done, length - done, position + done);
  }
}

/** Reads up to `length` bytes; returns how many were read (fewer only at end of file). */
export function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

/** Makes a rename or a new file in `dir` durable. */
export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** syncDirectory on the thread pool. */
export async function syncDirectoryAsync(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a small file atomically: temp file, fdatasync, rename, directory sync. */
export function writeFileAtomic(path: string, data: Buffer | string, dir: string): void {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    writeFully(fd, buf, 0, buf.length, 0);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  syncDirectory(dir);
}

/** writeFileAtomic on the thread pool, for files rewritten while serving. */
export async function writeFileAtomicAsync(path: string, data: Buffer, dir: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await fs.promises.open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, path);
  const dirHandle = await fs.promises.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
