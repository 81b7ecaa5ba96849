/**
 * Compiled references kept on disk between runs: a large problem's naive loop nest can take
 * minutes, and its answer only depends on the workload, the seed and the loop nest itself.
 *
 * One file per (workload, seed, unscheduled program): a JSON header line, then the output buffers
 * as little-endian float32, one after another. A file is used only when every check passes
 * (header, buffer names and sizes, length, sha256 of the data); anything else is a miss, and the
 * reference is computed again and the file replaced. Writes go to a temporary name and are renamed,
 * so a reader never sees half a file. The cache only saves time: an unwritable directory is a miss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { Buffers } from '../ir/execute.js';
import { canonical, structuralHash } from '../ir/hash.js';
import type { Program } from '../ir/program.js';

/** Bumped when the file layout or what the reference computes changes: old files then never match. */
export const REFERENCE_CACHE_FORMAT = 1;

interface Header {
  readonly format: number;
  readonly workload: string;
  readonly seed: number;
  readonly program: string;
  readonly buffers: readonly { readonly name: string; readonly elements: number }[];
  readonly sha256: string;
}

/** Is `dir` a cache directory, or the setting that turns the cache off? */
export const referenceCacheOn = (dir: string) => dir !== '' && dir !== 'off';

const outputs = (p: Program) => p.buffers.filter((b) => b.role === 'output').map((b) => ({ name: b.name, elements: b.shape.reduce((a, x) => a * x, 1) }));
const littleEndian = endianness() === 'LE';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class ReferenceCache {
  constructor(readonly dir: string) {}

  /** The file of one (workload, seed, unscheduled program). */
  file(workload: string, seed: number, p: Program): string {
    const key = canonical({ format: REFERENCE_CACHE_FORMAT, workload, seed, program: structuralHash(p) });
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.f32`);
  }

  /** The stored outputs, or undefined when there is no file or it fails any check. */
  async read(workload: string, seed: number, p: Program): Promise<Buffers | undefined> {
    let raw: Buffer;
    try {
      raw = await readFile(this.file(workload, seed, p));
    } catch {
      return undefined;
    }
    const nl = raw.indexOf(0x0a);
    if (nl < 0) return undefined;
    let h: Header;
    try {
      h = JSON.parse(raw.subarray(0, nl).toString('utf8')) as Header;
    } catch {
      return undefined;
    }
    const want = outputs(p);
    const data = raw.subarray(nl + 1);
    if (h.format !== REFERENCE_CACHE_FORMAT || h.workload !== workload || h.seed !== seed || h.program !== structuralHash(p)) return undefined;
    if (!Array.isArray(h.buffers) || canonical(h.buffers) !== canonical(want)) return undefined;
    if (data.byteLength !== 4 * want.reduce((a, b) => a + b.elements, 0) || h.sha256 !== sha256(data)) return undefined;
    // A copy: aligned for Float32Array, and byte-swapped on a big-endian machine.
    const bytes = Buffer.from(data);
    if (!littleEndian) bytes.swap32();
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const out: Buffers = {};
    let at = 0;
    for (const b of want) {
      out[b.name] = all.slice(at, at + b.elements);
      at += b.elements;
    }
    return out;
  }

  /** Stores the outputs; a failure to write costs only the next run's time, so it is not an error. */
  async write(workload: string, seed: number, p: Program, bufs: Buffers): Promise<void> {
    const want = outputs(p);
    if (!want.every((b) => bufs[b.name]?.length === b.elements)) return;
    const data = Buffer.concat(want.map((b) => {
      const f = bufs[b.name]!;
      return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    }));
    if (!littleEndian) data.swap32();
    const header: Header = { format: REFERENCE_CACHE_FORMAT, workload, seed, program: structuralHash(p), buffers: want, sha256: sha256(data) };
    const file = this.file(workload, seed, p);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), data]));
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}
