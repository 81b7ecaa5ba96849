import { traceToJSON, trace } from '../../scheduler/trace.js';
import { Failure, FuzzSummary } from './fuzz.js';
import { literal } from './regression.js';

/** One failure: what went wrong on which kernel, and, when shrunk, the minimal case and its test. */
export function describeFailure(f: Failure, seed: number): string {
  const lines = [`kernel ${f.index} of seed ${seed}: ${f.status} on ${f.original.op} ${literal(f.original.params)} (${f.original.steps.length} steps): ${f.message}`];
  if (f.shrunk) {
    const s = f.shrunk;
    lines.push(
      `  shrunk in ${s.rounds} rounds (${s.tried} variants tried) to ${s.fuzzCase.op} ${literal(s.fuzzCase.params)}, ${s.fuzzCase.steps.length} steps${s.layer ? `; layer: ${s.layer}` : ''}: ${s.message}`,
      traceToJSON(trace(s.fuzzCase.steps)),
      s.regression,
    );
  }
  return lines.join('\n');
}

export function describeSummary(s: FuzzSummary): string {
  const head = [
    `fuzz ${s.target} (${s.device}), seed ${s.seed}: ${s.checked} kernels checked in ${s.seconds.toFixed(1)} s = ${s.kernelsPerSecond.toFixed(1)} kernels/s (${(1000 * s.cpuPerKernel).toFixed(0)} ms of CPU per kernel)`,
    `  ${s.ok} ok, ${s.skipped} skipped (too large or over the device's limits), ${s.toolchain.length ? `${s.toolchain.length} left to the toolchain (${['miscompiled', 'device_timeout'].map((k) => `${s.toolchain.filter((t) => t.status === k).length} ${k}`).join(', ')}), ` : ''}${s.failed} failed${s.failed ? `; shrinking took ${s.shrinkSeconds.toFixed(1)} s` : ''}`,
  ];
  const compiler = s.toolchain.map((m) => `  ${m.status} (the toolchain's, not counted as failed): kernel ${m.index}, ${m.fuzzCase.op} ${literal(m.fuzzCase.params)}: ${m.message}\n    steps ${JSON.stringify(m.fuzzCase.steps)}`);
  return [...head, ...compiler, ...s.failures.map((f) => describeFailure(f, s.seed))].join('\n');
}
