import { writeSync } from 'node:fs';
import { appendIo } from '../tuner/records-file.js';

/**
 * Acts out a disk with `room` bytes left for records appends (tuner/records-file.ts `appendIo`):
 * a write takes what fits (a short write, as the kernel does), the next one fails with ENOSPC, or
 * with `stall` returns 0 instead. Returns the function that gives the real write back.
 */
export function diskFullAfter(room: number, stall = false): () => void {
  const real = appendIo.write;
  appendIo.write = (fd, buf, offset, length) => {
    if (room <= 0) {
      if (stall) return 0;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    const n = writeSync(fd, buf, offset, Math.min(length, room));
    room -= n;
    return n;
  };
  return () => {
    appendIo.write = real;
  };
}
