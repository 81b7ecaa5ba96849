/**
 * What the cost model costs the tuner: features per scheduled program (GEMM 512 on CPU and GPU
 * spaces, the expert schedules) and a full fit and an 8-tree continuation at 1,000 and 4,000 rows
 * (features of random CPU schedules of four GEMM shapes, labelled by a fixed rule). Medians of
 * repeated runs; nothing here is a test.
 *
 *   npm run bench:cost-model
 */
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { LoopsmithError } from '../ir/errors.js';
import { Program } from '../ir/program.js';
import { rng } from '../ir/random.js';
import { applyTrace } from '../scheduler/apply.js';
import { expertCpuGemm, expertGpuGemm } from '../scheduler/expert.js';
import { median } from 'simple-statistics';
import { FEATURE_COUNT, FEATURE_NAMES, programFeatures } from '../tuner/model/features.js';
import { RankingGbt } from '../tuner/model/gbt.js';
import { ScheduleSpace, SpaceTarget } from '../tuner/space.js';
import { table } from '../cli/format.js';

const CPU: SpaceTarget = { kind: 'c', style: 'cpu', lanes: 8, threads: 2, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 };
const GPU: SpaceTarget = { kind: 'webgpu', style: 'gpu', lanes: 1, threads: 1, maxInvocations: 256, maxWorkgroupDim: [256, 256, 64], maxWorkgroupBytes: 16384 };

function programs(base: Program, target: SpaceTarget, n: number, seed: number): Program[] {
  const space = new ScheduleSpace(base, target), r = rng(seed), out: Program[] = [];
  while (out.length < n) {
    try {
      out.push(applyTrace(base, space.toTrace(space.sample(r))));
    } catch (e) {
      if (!(e instanceof LoopsmithError)) throw e;
    }
  }
  return out;
}

/** Median milliseconds of `f` over `rounds` runs. */
function ms(f: () => void, rounds: number): number {
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const base = lowerWorkload(workload('gemm', { m: 512, n: 512, k: 512 }));
const sets: [string, Program[]][] = [
  ['expert CPU', [applyTrace(base, expertCpuGemm(512, 512, 512))]], ['expert GPU', [applyTrace(base, expertGpuGemm(512, 512, 512))]],
  ['CPU space', programs(base, CPU, 200, 1)], ['GPU space', programs(base, GPU, 200, 2)],
];
const featureRows = sets.map(([what, ps]) => [what, (ms(() => ps.forEach(programFeatures), 50) / ps.length).toFixed(4)]);
process.stdout.write(`features of a GEMM 512 program (${FEATURE_COUNT} values)\n\n${table(['programs', 'ms per program'], featureRows)}\n\n`);

const vector = FEATURE_NAMES.indexOf('vector'), unroll = FEATURE_NAMES.indexOf('unroll'), stride = FEATURE_NAMES.indexOf('access2.stride.inner');
const shapes = [[64, 64, 64], [128, 64, 256], [256, 256, 256], [96, 192, 48]] as const;
const rows = shapes.flatMap(([m, n, k], g) => programs(lowerWorkload(workload('gemm', { m, n, k })), CPU, 1000, 10 + g).map((p) => {
  const x = programFeatures(p);
  return { x, g, y: x[vector]! + 0.5 * Math.min(3, x[unroll]!) - 0.3 * x[stride]! };
}));
const fitRows = [1000, 4000].map((n) => {
  const pick = rows.filter((_, i) => i % (rows.length / n) === 0);
  const data = { features: pick.map((r) => r.x), labels: pick.map((r) => r.y), groups: pick.map((r) => r.g) };
  const full = RankingGbt.fit(data);
  return [String(n), ms(() => RankingGbt.fit(data), 3).toFixed(0), ms(() => RankingGbt.fit(data, { trees: 8 }, full), 5).toFixed(0)];
});
process.stdout.write(`ranking GBT (defaults: 60 trees of depth 5)\n\n${table(['rows', 'full fit ms', '8 more trees ms'], fitRows)}\n`);
