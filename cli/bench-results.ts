/**
 * The file `npm run bench` writes: every row with its ratios, the peers' chosen configurations, the
 * measured peaks, the machine and the loopsmith version, so that runs from different machines and
 * days can be compared (`loopsmith report --bench file.json` plots one).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, LoopsmithError } from '../ir/errors.js';
import { InputKind, readInputFile } from '../tuner/input-file.js';
import type { TimingStats } from '../targets/stats.js';

export const BENCH_FORMAT = 1;

/** One measured kernel. Ratios compare rows of the same run only. */
export interface BenchRow {
  readonly section: string;
  readonly workload: string;
  /** The network layer the workload is ("YOLO C8"), in suites of named layers. */
  readonly layer?: string;
  readonly kernel: string;
  /** A peer row holds the fastest verified configuration of that peer (see `BenchResult.peers`). */
  readonly kind: 'loopsmith' | 'peer' | 'baseline';
  /** CPU rows: threads; device rows have none. */
  readonly threads?: number;
  readonly status: string;
  readonly stats?: TimingStats;
  readonly gflops?: number;
  /** GFLOP/s over the peer's on the same workload and threads. */
  readonly xPeer?: number;
  /** GFLOP/s over the measured peak of the same device at the same threads. */
  readonly ofPeak?: number;
  readonly note?: string;
}

/** The arithmetic limit of a device, measured in the same run. */
export interface PeakRow {
  readonly device: 'cpu' | 'webgpu';
  readonly threads?: number;
  readonly what: string;
  readonly status: string;
  readonly stats?: TimingStats;
  readonly gflops?: number;
  readonly note?: string;
}

/** Every configuration of a peer that was tried for one row, and which one the row holds. */
export interface PeerChoice {
  readonly peer: string;
  readonly section: string;
  readonly workload: string;
  readonly threads?: number;
  readonly chosen?: string;
  /** "core SkylakeX (fastest of 5 tried; default Cooperlake was 0.93x)" */
  readonly summary: string;
  readonly tried: readonly { readonly label: string; readonly status: string; readonly gflops?: number; readonly note?: string }[];
}

export interface BenchResult {
  readonly format: typeof BENCH_FORMAT;
  readonly date: string;
  readonly loopsmith: { readonly version: string; readonly commit?: string };
  readonly machine: {
    /** The C target's fingerprint key: CPU, compiler and flags. */
    readonly fingerprint: string;
    readonly cpu: Readonly<Record<string, unknown>>;
    readonly summary: readonly string[];
    readonly webgpu?: Readonly<Record<string, unknown>>;
  };
  readonly settings: {
    readonly quick: boolean;
    readonly only: readonly string[];
    readonly ignoreLoad: boolean;
    readonly loadThreshold: number;
    /** The 1-minute load average at each gate (start and before each section). */
    readonly loads: readonly { readonly at: string; readonly load: number }[];
    readonly measuredUnderLoad: boolean;
  };
  readonly peaks: readonly PeakRow[];
  readonly peers: readonly PeerChoice[];
  readonly rows: readonly BenchRow[];
  /** The speed targets the run was measured against (bench/conv-goals.ts), each with its figure. */
  readonly goals?: readonly SpeedGoal[];
}

/** "expert >= 1.0x im2col + OpenBLAS on YOLO C8, 1 thread": the figure, the goal, and whether it was met. */
export interface SpeedGoal {
  readonly what: string;
  readonly goal: number;
  /** Absent when a row it needs did not measure. */
  readonly value?: number;
  readonly met: boolean;
  readonly note?: string;
}

/** Workload keys without the parameters that are at their defaults, for tables and plots. */
export const shortKey = (k: string) => k.replace(/,transA=0,transB=0|,dilation=1|,groups=1|,stride=1|:f32$/g, '');

/** Fills in `xPeer` and `ofPeak` of every row from the peer rows and peaks of the same run. */
export function withRatios(rows: readonly BenchRow[], peaks: readonly PeakRow[]): BenchRow[] {
  const ok = (r: { status: string; gflops?: number }) => r.status === 'ok' && (r.gflops ?? 0) > 0;
  return rows.map((r) => {
    if (!ok(r)) return r;
    const peer = rows.find((p) => p.kind === 'peer' && ok(p) && p.section === r.section && p.workload === r.workload && p.threads === r.threads);
    const device = r.threads === undefined ? 'webgpu' : 'cpu';
    const peak = peaks.find((p) => ok(p) && p.device === device && p.threads === r.threads);
    return { ...r, ...(peer ? { xPeer: r.gflops! / peer.gflops! } : {}), ...(peak ? { ofPeak: r.gflops! / peak.gflops! } : {}) };
  });
}

/** `bench-results/<fingerprint>/<date>.json`; ':' is not portable in file names. */
export function benchResultPath(dir: string, r: BenchResult): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-');
  return join(dir, safe(r.machine.fingerprint), `${safe(r.date)}.json`);
}

export function writeBenchResult(dir: string, r: BenchResult): string {
  const path = benchResultPath(dir, r);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(r, null, 2) + '\n');
  return path;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const BENCH_FILE: InputKind = { what: 'bench results', maxBytes: 64 << 20, legal: 'bench results are a JSON file `npm run bench` wrote' };

/** Reads a bench file back; anything that is not one is a one-line InputError naming the file and the field. */
export function loadBenchResult(path: string): BenchResult {
  let v: unknown;
  try {
    v = JSON.parse(readInputFile(path, BENCH_FILE));
  } catch (e) {
    if (e instanceof LoopsmithError) throw e;
    throw new InputError(`cannot read bench results ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const bad = (what: string) => new InputError(`${path} is not a loopsmith bench result: ${what}`);
  if (!isObj(v)) throw bad('not a JSON object');
  if (v.format !== BENCH_FORMAT) throw bad(`format is ${JSON.stringify(v.format)}, this version reads ${BENCH_FORMAT}`);
  if (typeof v.date !== 'string' || !isObj(v.machine) || typeof v.machine.fingerprint !== 'string') throw bad('date or machine.fingerprint missing');
  if (!isObj(v.settings) || !isObj(v.loopsmith)) throw bad('settings or loopsmith version missing');
  for (const list of ['rows', 'peaks', 'peers'] as const) if (!Array.isArray(v[list])) throw bad(`${list} is not a list`);
  (v.rows as unknown[]).forEach((r, i) => {
    if (!isObj(r) || typeof r.section !== 'string' || typeof r.workload !== 'string' || typeof r.kernel !== 'string' || typeof r.status !== 'string') throw bad(`rows[${i}] needs section, workload, kernel and status`);
    for (const f of ['gflops', 'xPeer', 'ofPeak', 'threads'] as const) if (r[f] !== undefined && typeof r[f] !== 'number') throw bad(`rows[${i}].${f} is not a number`);
  });
  return v as unknown as BenchResult;
}
