import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../targets/exec.js';
import { Pipeline } from '../targets/pipeline.js';
import { Candidate, ReferenceSpec } from '../targets/target.js';
import { compareOutputs } from '../targets/verify.js';
import { TimingStats, timingStats } from '../targets/stats.js';

export interface BlasRow { kernel: string; threads: number; status: string; stats?: TimingStats; gflops?: number; note?: string }

const BLAS_SOURCE = fileURLToPath(new URL('../../bench/c/openblas-sgemm.c', import.meta.url));

/** OpenBLAS cblas_sgemm on the same seeded inputs, checked against the same reference, same timing protocol. */
export async function openblas<C extends Candidate, B>(size: number, threads: number, cpu: Pipeline<C, B>, ref: ReferenceSpec, minSeconds: number): Promise<BlasRow> {
  const { referenceCompiler: compiler, seed } = cpu.target.settings;
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-blas-'));
  try {
    const bin = join(dir, 'sgemm');
    const cc = await exec(compiler, ['-O2', '-o', bin, BLAS_SOURCE, '-lopenblas'], { timeoutMs: 60_000 });
    if (cc.code !== 0) return { kernel: 'OpenBLAS cblas_sgemm', threads, status: 'unavailable', note: `could not build against OpenBLAS (apt-get install libopenblas-dev): ${cc.stderr.split('\n')[0]}` };
    const out = join(dir, 'out.bin');
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
    const r = await exec(bin, [size, size, size, seed, out, minSeconds, 100000, 3].map(String), { timeoutMs: 600_000, env });
    if (r.code !== 0) return { kernel: 'OpenBLAS cblas_sgemm', threads, status: 'crash', note: r.stderr };
    const raw = await readFile(out);
    const got = { C: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) };
    const cmp = compareOutputs(got, await cpu.reference(ref), size);
    const j = JSON.parse(r.stdout) as { core: string; times: number[] };
    const stats = timingStats(j.times);
    const core = process.env.OPENBLAS_CORETYPE ? `${j.core}, OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE}` : j.core;
    return { kernel: `OpenBLAS cblas_sgemm (${core} kernel)`, threads, status: cmp.ok ? 'ok' : 'wrong_answer', stats, gflops: ref.flops / stats.median / 1e9, ...(cmp.ok ? {} : { note: cmp.message }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

