import { BENCH_FORMAT, BenchResult, withRatios } from '../cli/bench-results.js';
import { timingStats } from '../targets/stats.js';

const stats = (s: number) => timingStats([s * 0.98, s, s * 1.03]);
const gemm = 'gemm(k=1024,m=1024,n=1024,transA=0,transB=0):f32';
const conv = 'conv2d(c=64,dilation=1,groups=1,h=56,k=64,kh=3,kw=3,n=1,pad=1,stride=1,w=56):f32';

/** A small bench result as `npm run bench` writes it: made-up figures, for the file format only. */
export function benchFixture(): BenchResult {
  const peaks = [
    { device: 'cpu' as const, threads: 1, what: 'FMA peak', status: 'ok', stats: stats(0.1), gflops: 200 },
    { device: 'cpu' as const, threads: 2, what: 'FMA peak', status: 'ok', stats: stats(0.1), gflops: 400 },
    { device: 'webgpu' as const, what: 'ALU peak', status: 'ok', stats: stats(0.04), gflops: 50 },
  ];
  const rows = [
    { section: 'gemm-cpu', workload: gemm, kernel: 'loopsmith expert schedule', kind: 'loopsmith' as const, threads: 1, status: 'ok', stats: stats(0.02), gflops: 100 },
    { section: 'gemm-cpu', workload: gemm, kernel: 'OpenBLAS cblas_sgemm, core SkylakeX', kind: 'peer' as const, threads: 1, status: 'ok', stats: stats(0.01), gflops: 160 },
    { section: 'gemm-cpu', workload: gemm, kernel: 'loopsmith expert schedule', kind: 'loopsmith' as const, threads: 2, status: 'wrong_answer', note: 'wrong answer: C[0]' },
    { section: 'conv-cpu', workload: conv, kernel: 'naive loop nest (as lowered)', kind: 'baseline' as const, threads: 1, status: 'ok', stats: stats(0.1), gflops: 2 },
    { section: 'webgpu', workload: gemm, kernel: 'TensorFlow.js WebGPU, MatMulPackedProgram', kind: 'peer' as const, status: 'ok', stats: stats(0.4), gflops: 5 },
    { section: 'webgpu', workload: gemm, kernel: 'loopsmith expert: register tiles', kind: 'loopsmith' as const, status: 'ok', stats: stats(0.1), gflops: 15 },
  ];
  return {
    format: BENCH_FORMAT, date: '2026-11-24T20:00:00.000Z', loopsmith: { version: '0.1.0', commit: 'abc1234' },
    machine: { fingerprint: 'cpu:0123456789abcdef', cpu: { model: 'test CPU', isa: 'avx512' }, summary: ['test CPU: 2 cores, avx512'] },
    settings: { quick: true, only: ['gemm', 'conv', 'webgpu'], ignoreLoad: true, loadThreshold: 0.5, loads: [{ at: 'the bench', load: 3.2 }], measuredUnderLoad: true },
    peaks,
    peers: [{ peer: 'OpenBLAS 0.3.21', section: 'gemm-cpu', workload: gemm, threads: 1, chosen: 'core SkylakeX', summary: 'core SkylakeX (fastest verified of 2 tried; default (Haswell) was 0.55x)', tried: [{ label: 'default (Haswell)', status: 'ok', gflops: 88 }, { label: 'core SkylakeX', status: 'ok', gflops: 160 }] }],
    rows: withRatios(rows, peaks),
  };
}
