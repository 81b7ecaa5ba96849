import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Dialect } from '../../codegen/cstyle/dialect.js';
import { execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { OPS } from '../../ir/ops/index.js';
import { compareOutputs, reductionLength } from '../../targets/verify.js';
import { Device, FuzzCase, Prepared, generateCase, isPrepared, opsByName, prepare } from './cases.js';
import { CBatchRunner } from './c-runner.js';
import { regressionTest } from './regression.js';
import { Check, Shrunk, shrink } from './shrink.js';
import { FailureStatus, KernelRunner, Verdict } from './verdict.js';
import { WebGpuPool } from './webgpu-runner.js';

/** Device processes for WebGPU: one per core, at most 4 (each holds a device and its memory). */
const webgpuProcesses = () => Math.min(4, Math.max(1, availableParallelism()));

export type FuzzTarget = 'c' | 'webgpu';

export interface FuzzOptions {
  readonly count: number;
  readonly target: FuzzTarget;
  readonly seed: number;
  /** Operator names; every operator when absent. */
  readonly ops?: readonly string[];
  /** Kernels per compiled unit (C) or per round trip to the device process (WebGPU). */
  readonly batch?: number;
  /** A C renderer variant: the planted-bug test renders with a broken one. */
  readonly dialect?: Dialect;
  /** Stop drawing new kernels once this many failed (the planted-bug test stops at the first). */
  readonly stopAfter?: number;
  /** At most this many failures are shrunk, one per (status, op). */
  readonly shrinkLimit?: number;
  readonly progress?: (line: string) => void;
}

export interface Failure {
  /** Which kernel of the run: `generateCase(caseSeed(seed, index), seed, ...)` draws it again. */
  readonly index: number;
  readonly status: FailureStatus;
  readonly message: string;
  readonly original: FuzzCase;
  readonly shrunk?: Shrunk & {
    /** For a wrong answer: whether the scheduled loop IR itself is wrong (a scheduler bug) or only the generated code. */
    readonly layer?: 'scheduler' | 'codegen or target';
    readonly regression: string;
  };
}

export interface FuzzSummary {
  readonly target: FuzzTarget;
  readonly device: string;
  readonly seed: number;
  readonly requested: number;
  /** Kernels generated and checked (fewer than requested when `stopAfter` stopped the run). */
  readonly checked: number;
  readonly ok: number;
  readonly skipped: number;
  /** Kernels the toolchain got wrong or could not build in time (verdict.ts): reported, not loopsmith's failures. */
  readonly toolchain: readonly { readonly index: number; readonly fuzzCase: FuzzCase; readonly status: 'miscompiled' | 'device_timeout'; readonly message: string }[];
  readonly failed: number;
  readonly seconds: number;
  readonly kernelsPerSecond: number;
  /** CPU seconds (this process and its compilers and harnesses) per kernel checked. */
  readonly cpuPerKernel: number;
  readonly shrinkSeconds: number;
  readonly failures: readonly Failure[];
}

/** The seed of case `index` of a run: distinct per index, and the same on every machine. */
export function caseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * CPU time of this process and of the children it waited for (compilers, harnesses): on a shared
 * machine, CPU seconds per kernel say more about the fuzzer's cost than the wall clock.
 */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    // /proc/self/stat after the command name: fields 14 and 15 are cutime and cstime, in clock ticks of 1/100 s.
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    children = 0;
  }
  return (own.user + own.system) / 1e6 + children;
}

/** Inputs of every kernel of a run: small enough that the harness's seed arithmetic stays exact in JavaScript. */
const inputSeedOf = (seed: number) => 1 + (seed % 100_000);

function makeRunner(o: FuzzOptions): KernelRunner {
  const inputSeed = inputSeedOf(o.seed);
  return o.target === 'c' ? new CBatchRunner({ inputSeed, ...(o.dialect ? { dialect: o.dialect } : {}) }) : new WebGpuPool(inputSeed, webgpuProcesses());
}

/** Verdicts for cases replayed from scratch: the shrinker's view (undefined for an illegal variant). */
function checker(runner: KernelRunner): Check {
  return async (cases) => {
    const ps = cases.map(prepare);
    const legal = ps.filter((p): p is Prepared => p !== undefined && isPrepared(p));
    const verdicts = await runner.check(legal);
    return ps.map((p): Verdict | undefined => (p === undefined ? undefined : isPrepared(p) ? verdicts[legal.indexOf(p)] : { status: 'schedule_bug', message: p.message }));
  };
}

/** A wrong answer the reference executor also gives on the scheduled program comes from the scheduler. */
function layerOf(c: FuzzCase, seed: number): 'scheduler' | 'codegen or target' {
  const p = prepare(c);
  if (!p || !isPrepared(p)) return 'scheduler';
  const inputs = randomInputs(p.base, inputSeedOf(seed));
  const want = outputsOf(p.base, execute(p.base, inputs));
  return compareOutputs(outputsOf(p.program, execute(p.program, inputs)), want, reductionLength(p.base)).ok ? 'codegen or target' : 'scheduler';
}

/**
 * Differential fuzzing: `count` random legal schedules of random operator instances, each
 * rendered, built and run on the target and compared with the reference executor; failures are
 * shrunk to a minimal case and printed as a regression test.
 */
export async function fuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const ops = o.ops?.length ? opsByName(o.ops) : [...OPS];
  const device: Device = o.target === 'c' ? 'cpu' : 'gpu';
  const batch = o.batch ?? (o.target === 'c' ? 100 : 10);
  const inFlight = o.target === 'c' ? Math.max(1, availableParallelism()) : webgpuProcesses();
  const runner = makeRunner(o);
  const progress = o.progress ?? (() => undefined);
  const t0 = performance.now(), cpu0 = cpuSeconds();
  const raw: { index: number; fuzzCase: FuzzCase; status: FailureStatus; message: string }[] = [];
  const toolchain: { index: number; fuzzCase: FuzzCase; status: 'miscompiled' | 'device_timeout'; message: string }[] = [];
  let ok = 0, skipped = 0, generated = 0, checked = 0, lastReport = t0;

  const record = (index: number, fuzzCase: FuzzCase, v: Verdict) => {
    checked++;
    if (v.status === 'ok') ok++;
    else if (v.status === 'skipped') skipped++;
    else if (v.status === 'miscompiled' || v.status === 'device_timeout') toolchain.push({ index, fuzzCase, status: v.status, message: v.message });
    else raw.push({ index, fuzzCase, status: v.status, message: v.message });
  };
  const stopped = () => o.stopAfter !== undefined && raw.length >= o.stopAfter;

  try {
    const running = new Set<Promise<void>>();
    while (generated < o.count && !stopped()) {
      const cases: { index: number; p: Prepared }[] = [];
      for (const end = Math.min(o.count, generated + batch); generated < end; generated++) {
        const fuzzCase = generateCase(caseSeed(o.seed, generated), o.seed, ops, device);
        const p = prepare(fuzzCase);
        if (!p) throw new Error(`generated case ${generated} does not replay: ${JSON.stringify(fuzzCase)}`);
        if (isPrepared(p)) cases.push({ index: generated, p });
        else record(generated, fuzzCase, { status: 'schedule_bug', message: p.message });
      }
      const job: Promise<void> = runner.check(cases.map((c) => c.p))
        .then((vs) => vs.forEach((v, i) => record(cases[i]!.index, cases[i]!.p.fuzzCase, v)))
        .finally(() => running.delete(job));
      running.add(job);
      if (running.size >= inFlight) await Promise.race(running);
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        progress(`${checked}/${o.count} kernels checked, ${raw.length} failing, ${(checked / ((lastReport - t0) / 1000)).toFixed(1)} kernels/s`);
      }
    }
    await Promise.all(running);
    const seconds = (performance.now() - t0) / 1000, cpu = cpuSeconds() - cpu0;
    raw.sort((a, b) => a.index - b.index);

    const t1 = performance.now();
    const failures: Failure[] = [];
    const shrunkKinds = new Set<string>();
    const check = checker(runner);
    for (const f of raw) {
      const kind = `${f.status} ${f.fuzzCase.op}`;
      if (shrunkKinds.has(kind) || shrunkKinds.size >= (o.shrinkLimit ?? 5)) {
        failures.push({ index: f.index, status: f.status, message: f.message, original: f.fuzzCase });
        continue;
      }
      shrunkKinds.add(kind);
      progress(`shrinking kernel ${f.index} (${f.status}, ${f.fuzzCase.op}, ${f.fuzzCase.steps.length} steps)`);
      const s = await shrink(f.fuzzCase, f.status, f.message, check);
      const layer = f.status === 'wrong_answer' ? { layer: layerOf(s.fuzzCase, o.seed) } : {};
      failures.push({ index: f.index, status: f.status, message: f.message, original: f.fuzzCase, shrunk: { ...s, ...layer, regression: regressionTest(s.fuzzCase, f.status, o.target, o.seed, s.message) } });
    }
    return {
      target: o.target, device: await runner.describe(), seed: o.seed, requested: o.count, checked, ok, skipped, toolchain: toolchain.sort((a, b) => a.index - b.index), failed: raw.length,
      seconds, kernelsPerSecond: checked / seconds, cpuPerKernel: cpu / checked, shrinkSeconds: (performance.now() - t1) / 1000, failures,
    };
  } finally {
    await runner.close();
  }
}
