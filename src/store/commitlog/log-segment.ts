// One fixed-size CommitLog segment file, named by the 20-digit global offset
// of its first byte. The file is created at full size up front so that the
// log's layout never depends on how far a write got.
import fs from 'node:fs';
import path from 'node:path';
import { offsetFileName } from '../../common/index.js';
import { readFully, writeFully } from '../file-io.js';

export class LogSegment {
  readonly baseOffset: number;
  readonly path: string;
  readonly size: number;
  readonly fd: number;

  private constructor(baseOffset: number, filePath: string, size: number, fd: number) {
    this.baseOffset = baseOffset;
    this.path = filePath;
    this.size = size;
    this.fd = fd;
  }

  get endOffset(): number {
    return this.baseOffset + this.size;
  }

  /** Opens the segment at `baseOffset`, creating and sizing it if it does not exist. */
  static open(dir: string, baseOffset: number, size: number): LogSegment {
    const filePath = path.join(dir, offsetFileName(baseOffset));
    const fd = fs.openSync(filePath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      // A segment shorter than its size (a crash while creating it) is extended;
      // the missing part reads as zeros, which recovery treats as end of log.
      if (fs.fstatSync(fd).size < size) fs.ftruncateSync(fd, size);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new LogSegment(baseOffset, filePath, size, fd);
  }

  write(buf: Buffer, offset: number, length: number, logOffset: number): void {
    writeFully(this.fd, buf, offset, length, logOffset - this.baseOffset);
  }

  read(buf: Buffer, offset: number, length: number, logOffset: number): number {
    return readFully(this.fd, buf, offset, length, logOffset - this.baseOffset);
  }

  mtimeMs(): number {
    return fs.fstatSync(this.fd).mtimeMs;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Closes and removes the file. */
  destroy(): void {
    this.close();
    fs.rmSync(this.path, { force: true });
  }
}
