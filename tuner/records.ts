import { readFileSync } from 'node:fs';
import { structuralHash } from '../ir/hash.js';
import { gflopsCeiling } from '../targets/gflops-ceiling.js';
import { TuningRecord, parseRecord } from './record.js';
import { RecordReplays } from './record-replay.js';
import { RecordsFileError, appendLine, ioProblem, isNullDevicePath, readRecordsText } from './records-file.js';

export { type TuningRecord, recordId, validateRecord } from './record.js';
export { RecordsFileError } from './records-file.js';

/** The records of a file, and what was skipped on the way. */
export interface LoadedRecords {
  readonly records: TuningRecord[];
  /** One line per kind of problem (torn last line, invalid lines with their count). */
  readonly warnings: string[];
  /** Lines that were not valid records (the torn last line included). */
  readonly invalid: number;
}

/** Problems named in a warning; the rest are only counted. */
const NAMED_INVALID = 3;

/** One warning for many problems of one kind: the count, the first few, and how many more. */
function countedWarning(path: string, what: string, problems: readonly string[]): string {
  const more = problems.length > NAMED_INVALID ? `; and ${problems.length - NAMED_INVALID} more` : '';
  return `${path}: skipped ${problems.length} ${what}: ${problems.slice(0, NAMED_INVALID).join('; ')}${more}`;
}

/**
 * The records of workload `key` (all of them when `key` is undefined), and a warning when the file
 * has records but none of that workload: a misspelt key must not look like an empty history.
 */
export function recordsOfWorkload(records: readonly TuningRecord[], key: string | undefined, path: string): { records: TuningRecord[]; warning?: string } {
  if (key === undefined) return { records: [...records] };
  const mine = records.filter((r) => r.workload.key === key);
  if (mine.length || !records.length) return { records: mine };
  const keys = [...new Set(records.map((r) => r.workload.key))];
  const shown = keys.length > 5 ? `${keys.slice(0, 5).join(', ')} and ${keys.length - 5} more` : keys.join(', ');
  return { records: mine, warning: `${path} has no records of workload ${key}; its workloads: ${shown}` };
}

/**
 * A record claiming more than this many times its device's GFLOP/s ceiling
 * (targets/gflops-ceiling.ts) is implausible: edited, or timed by a broken clock. The ceiling is
 * already out of any kernel's reach; the margin covers workloads whose FLOP count includes work a
 * kernel may skip (the padding taps of a convolution).
 */
export const IMPLAUSIBLE_MARGIN = 1.5;

/** Relative to the current directory: tuning results belong to the project that uses them. */
export const DEFAULT_RECORDS_PATH = '.loopsmith/records.jsonl';

let version: string | undefined;
/** The version in loopsmith's package.json (this module lives at dist/tuner/records.js), or 'unknown'. */
export function loopsmithVersion(): string {
  if (version === undefined) {
    try {
      const v = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version;
      version = typeof v === 'string' ? v : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/**
 * The append-only JSON-lines records file. Each record is one write of a whole line followed by an
 * fsync, so a killed process leaves at most one torn last line; reading skips it with a warning,
 * and the next append starts on a fresh line, so no earlier record is ever lost. Records come out
 * parsed and checked (record.ts): a line that is not a valid record is skipped and counted, so it
 * can never become best. Whether a record's trace replays onto its workload is checked where the
 * record is used (`usable`; record-replay.ts says why): the queries for best only return records
 * that replay, so a faster record that does not gives way to the next one. Best has one definition,
 * `fastestFirst`, which every query for best (and the tuner's summary) goes through.
 */
export class RecordStore {
  private cache?: LoadedRecords;
  private readonly replays = new RecordReplays();
  /** Records found not to replay, by id, with the reason. */
  private readonly unusable = new Map<string, string>();
  /** Records passed over as faster than their device can be, by id, with their rate and the bound. */
  private readonly implausible = new Map<string, string>();
  private appended = 0;

  constructor(readonly path: string) {}

  /** False when the path is /dev/null: nothing else (Q-models) is kept next to it. */
  get persistent(): boolean {
    return !isNullDevicePath(this.path);
  }

  /** All valid records, in file order (read once, then cached; appends through this instance are added). */
  load(): LoadedRecords {
    if (!this.cache) this.cache = this.read();
    return this.cache;
  }

  /** The file's whole lines, each with its record or what is wrong with it, and the torn last line ('' when there is none). */
  private lines(): { lines: { text: string; record: TuningRecord | string }[]; torn: string } {
    const texts = readRecordsText(this.path).split('\n');
    // After a final '\n' split leaves an empty string; anything else is a line that was never finished.
    const torn = texts.pop()!;
    const lines = texts.map((text) => {
      if (text.trim() === '') return { text, record: '' };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { text, record: 'is not JSON' };
      }
      const r = parseRecord(parsed);
      return { text, record: typeof r === 'string' ? `is not a tuning record (${r})` : r };
    });
    return { lines, torn };
  }

  private read(): LoadedRecords {
    const records: TuningRecord[] = [];
    const warnings: string[] = [];
    const { lines, torn } = this.lines();
    const bad: string[] = [];
    lines.forEach(({ text, record }, i) => {
      if (text.trim() === '') return;
      if (typeof record === 'string') bad.push(`line ${i + 1} ${record}`);
      else records.push(record);
    });
    if (bad.length) warnings.push(countedWarning(this.path, `invalid line${bad.length > 1 ? 's' : ''}`, bad));
    const tornLine = torn.trim() !== '';
    if (tornLine) warnings.push(`${this.path}: the last line is torn (line ${lines.length + 1} has no line end: a run was killed while writing it); skipped`);
    return { records, warnings, invalid: bad.length + (tornLine ? 1 : 0) };
  }

  /**
   * The file without the records `drop` picks, for `records prune`: every other line is kept as it
   * is, lines this version cannot read too (a newer loopsmith's records, a hand edit to repair), so
   * that pruning never loses what it does not understand. Blank lines and a torn last line (never a
   * whole record) go.
   */
  without(drop: (r: TuningRecord) => boolean): { text: string; kept: number; dropped: number; unreadable: number; torn: boolean } {
    const { lines, torn } = this.lines();
    const keep = lines.filter(({ text, record }) => text.trim() !== '' && (typeof record === 'string' || !drop(record)));
    const unreadable = keep.filter(({ record }) => typeof record === 'string').length;
    const records = lines.filter(({ record }) => typeof record !== 'string').length;
    return {
      text: keep.map(({ text }) => `${text}\n`).join(''), kept: keep.length - unreadable, dropped: records - (keep.length - unreadable), unreadable, torn: torn.trim() !== '',
    };
  }

  /**
   * Appends one record durably: the whole line written, then fsync. A write that fails leaves the
   * file as it was (appendLine cuts a partial line off), and the error says what the file holds.
   */
  append(r: TuningRecord): void {
    try {
      appendLine(this.path, JSON.stringify(r) + '\n');
    } catch (e) {
      const n = this.appended;
      const kept = n === 0 ? '' : n === 1 ? '; the record appended before it is kept' : `; the ${n} records appended before it are kept`;
      throw new RecordsFileError(`cannot write the records file ${this.path}: ${ioProblem(e)}${kept}${this.holding()}`);
    }
    this.appended++;
    // Only extend a cache that exists: a later lazy load reads the record from the file.
    this.cache?.records.push(r);
  }

  /** `; the file holds 5 records`, read afresh (another process may append too), or '' if it cannot be read. */
  private holding(): string {
    try {
      const n = new RecordStore(this.path).read().records.length;
      return `; the file holds ${n} record${n === 1 ? '' : 's'}`;
    } catch {
      return '';
    }
  }

  /** Does the record's trace replay onto its workload? */
  usable(r: TuningRecord): boolean {
    return this.replayProblem(r) === undefined;
  }

  /** Why the record's trace does not replay onto its workload (remembered for `passedOverWarnings`), or undefined. */
  replayProblem(r: TuningRecord): string | undefined {
    const problem = this.replays.problem(r);
    if (problem !== undefined) this.unusable.set(r.id, problem);
    return problem;
  }

  /**
   * At most one warning per kind of record passed over so far when choosing a best: those whose
   * trace does not replay, and those faster than their device can be.
   */
  passedOverWarnings(): string[] {
    const out: string[] = [];
    const replays = [...this.unusable].map(([id, why]) => `record ${id} (${why})`);
    if (replays.length) out.push(countedWarning(this.path, replays.length > 1 ? 'records whose traces do not replay onto their workload' : 'record whose trace does not replay onto its workload', replays));
    const fast = [...this.implausible].map(([id, why]) => `record ${id} (${why})`);
    if (fast.length) out.push(countedWarning(this.path, `implausible record${fast.length > 1 ? 's' : ''}, faster than ${IMPLAUSIBLE_MARGIN}x the most its device can do`, fast));
    return out;
  }

  /**
   * Is the record's rate within IMPLAUSIBLE_MARGIN of its device's ceiling (or is no ceiling known)?
   * One that is not is remembered for `passedOverWarnings`.
   */
  plausible(r: TuningRecord): boolean {
    const g = r.outcome.gflops, ceiling = gflopsCeiling(r.target.kind, r.target.fingerprint);
    if (g === undefined || ceiling === undefined || g <= ceiling * IMPLAUSIBLE_MARGIN) return true;
    this.implausible.set(r.id, `${g.toPrecision(4)} GFLOP/s; its device's ceiling is ${ceiling.toPrecision(4)}`);
    return false;
  }

  /** Records for a workload on exactly this device (for the C target: CPU, compiler, flags and threads), in file order. */
  forWorkload(workloadKey: string, fingerprintKey: string): TuningRecord[] {
    return this.load().records.filter((r) => r.workload.key === workloadKey && r.target.fingerprint.key === fingerprintKey);
  }

  /**
   * The best record of a workload on exactly this device: the first of `fastestFirst` whose trace
   * replays. It is the one `records best`, `emit`, `compare ... best` and the tune summary name.
   */
  best(workloadKey: string, fingerprintKey: string): TuningRecord | undefined {
    return this.bestOf(this.forWorkload(workloadKey, fingerprintKey));
  }

  /** Exact device first; otherwise the best over devices of the same kind that `compatible` accepts. */
  bestWithFallback(
    workloadKey: string, fp: { kind: string; key: string }, compatible: (other: Record<string, unknown>) => boolean,
  ): { record: TuningRecord; match: 'exact' | 'compatible' } | undefined {
    const exact = this.best(workloadKey, fp.key);
    if (exact) return { record: exact, match: 'exact' };
    const other = this.bestOf(this.load().records.filter(
      (r) => r.workload.key === workloadKey && r.target.kind === fp.kind && r.target.fingerprint.key !== fp.key && compatible(r.target.fingerprint)));
    return other ? { record: other, match: 'compatible' } : undefined;
  }

  /** The best usable record of each (workload, device) among `rs`, by workload key. */
  bestPerWorkload(rs: readonly TuningRecord[]): TuningRecord[] {
    const groups = new Map<string, TuningRecord[]>();
    for (const r of rs) {
      const k = `${r.workload.key}|${r.target.fingerprint.key}`;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    return [...groups.values()].flatMap((g) => this.bestOf(g) ?? []).sort((a, b) => a.workload.key.localeCompare(b.workload.key));
  }

  /**
   * The one order of "best": ok records with a time, plausible, full measurements before those
   * stopped early (one cold run), then by their kernel's standing, then the newer measurement of a
   * kernel first, then earlier records first on a tie. A kernel (the code a schedule generates; its
   * trace where a record does not name its code, see kernelKey) measured in full more than once
   * (the tuner's final round re-measures its finalists, see tune.ts) stands at the median of its
   * distinct measurements: ranked by its single fastest run, a lucky draw on a noisy host would
   * stay best after measuring slower again (the winner's curse: a YOLO C8 tune recorded 200 GFLOP/s
   * for a kernel that ran 159 in the bench). A kernel with a wrong answer among its records is left
   * out. Whether they replay is not checked here (bestOf does, lazily).
   */
  fastestFirst(rs: readonly TuningRecord[]): TuningRecord[] {
    const kernelKey = kernelKeys(rs);
    // A kernel that ever computed a wrong answer (a race shows only in some runs) is never best.
    const wrong = new Set(rs.filter((r) => r.outcome.status === 'wrong_answer').map(kernelKey));
    const ok = rs.filter((r) => comparable(r) && this.plausible(r) && !wrong.has(kernelKey(r)));
    const standing = kernelStandings(ok, kernelKey, (r) => this.usable(r));
    // A total order: by standing, kernels tied on it in the order they first appear, a kernel's own
    // records newest first (the final round's measurement before the trial's).
    const order = new Map(ok.map((r, i) => [r, i] as const));
    const firstSeen = new Map<string, number>();
    ok.forEach((r, i) => { if (!firstSeen.has(kernelKey(r))) firstSeen.set(kernelKey(r), i); });
    return ok.sort((a, b) => {
      const early = Number(a.outcome.earlyAbort !== undefined) - Number(b.outcome.earlyAbort !== undefined);
      if (early) return early;
      const sa = standing.get(a) ?? a.outcome, sb = standing.get(b) ?? b.outcome;
      const by = faster(sa, sb) ? -1 : faster(sb, sa) ? 1 : 0;
      if (by) return by;
      const ka = kernelKey(a), kb = kernelKey(b);
      if (ka !== kb) return firstSeen.get(ka)! - firstSeen.get(kb)!;
      if (a.outcome.earlyAbort === undefined && a.timestamp !== b.timestamp) return a.timestamp > b.timestamp ? -1 : 1;
      return order.get(a)! - order.get(b)!;
    });
  }

  /** Fastest first, the first that replays: only as many records are replayed as are passed over. */
  private bestOf(rs: readonly TuningRecord[]): TuningRecord | undefined {
    return this.fastestFirst(rs).find((r) => this.usable(r));
  }
}

/** An ok record with a time or a rate: the only kind that can be best. */
function comparable(r: TuningRecord): boolean {
  const g = r.outcome.gflops, m = r.outcome.median;
  return r.outcome.status === 'ok' && ((g !== undefined && g > 0) || (m !== undefined && m > 0));
}

/**
 * A record's (workload, device, kernel): the code it measured where the record names it, else its
 * trace hashed from its steps. Schedules that generate the same code are one kernel (a search
 * meets dozens: a split that a later step undoes, an unroll of a loop of one), and must stand
 * together: a kernel the final round measured slower would otherwise keep standing through a
 * sibling trace's copy of its lucky figure. The stored `traceHash` is only what the writer said,
 * and a record edited to claim another's hash must not lend or borrow a standing. A record without
 * a code hash (written before records had one) stands with its trace only.
 */
function kernelKey(r: TuningRecord): string {
  let k = KERNEL_KEYS.get(r);
  if (k === undefined) KERNEL_KEYS.set(r, (k = `${r.workload.key}|${r.target.fingerprint.key}|${r.codeHash !== undefined ? `code:${r.codeHash}` : structuralHash(r.trace.steps)}`));
  return k;
}

const KERNEL_KEYS = new WeakMap<TuningRecord, string>();

/**
 * The kernel of each record among `rs`: kernelKey, with the kernels of records that hold one and
 * the same measurement joined. The tuner measures structurally identical programs once and
 * records that measurement for each of their traces, so records that share a full measurement's
 * times (two measurements never agree to the nanosecond) measured one kernel, whatever their
 * traces or code hashes say. That matters for records without a code hash (written before records
 * had one): a YOLO C1 2-thread tune recorded one lucky 284.8 GFLOP/s for eight sibling traces, its
 * final round measured six of them again at 102.7, and the other two stood on at 284.8, as best,
 * for a kernel that runs at 170.
 */
function kernelKeys(rs: readonly TuningRecord[]): (r: TuningRecord) => string {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    let x = k;
    while (x !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const byMeasurement = new Map<string, string>();
  for (const r of rs) {
    const times = r.outcome.times;
    if (r.outcome.status !== 'ok' || r.outcome.earlyAbort !== undefined || !times?.length) continue;
    const m = `${r.workload.key}|${r.target.fingerprint.key}|${times.join(',')}`;
    const k = find(kernelKey(r)), seen = byMeasurement.get(m);
    if (seen === undefined) byMeasurement.set(m, k);
    else if (find(seen) !== k) parent.set(k, find(seen));
  }
  return (r) => find(kernelKey(r));
}

/**
 * The rate and time a record's kernel stands at: the medians over its distinct full measurements
 * (early aborts aside). A code hash is the writer's claim: a record whose trace does not replay
 * lends no figure to the kernel it names (it ranks on its own, and `best` passes it over with a
 * warning). Replays are checked only for kernels measured more than once, which are few.
 */
function kernelStandings(rs: readonly TuningRecord[], kernelKey: (r: TuningRecord) => string, replays: (r: TuningRecord) => boolean): Map<TuningRecord, Standing> {
  const groups = new Map<string, TuningRecord[]>();
  for (const r of rs) {
    if (r.outcome.earlyAbort !== undefined) continue;
    const k = kernelKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const out = new Map<TuningRecord, Standing>();
  for (const g of groups.values()) {
    if (distinctOutcomes(g).length < 2) continue;
    const members = g.filter(replays), distinct = distinctOutcomes(members);
    if (distinct.length < 2) continue;
    const rates = distinct.flatMap((o) => (o.gflops !== undefined && o.gflops > 0 ? [o.gflops] : []));
    const times = distinct.flatMap((o) => (o.median !== undefined && o.median > 0 ? [o.median] : []));
    const s: Standing = { ...(rates.length ? { gflops: middle(rates) } : {}), ...(times.length ? { median: middle(times) } : {}) };
    for (const r of members) out.set(r, s);
  }
  return out;
}

/**
 * The measurements among records: one recorded for several traces of one kernel (the search
 * answers a repeat of known code from memory) is one, so copies do not outvote a re-measurement.
 * Records of one measurement hold the same times; two measurements never do, to the nanosecond.
 */
function distinctOutcomes(rs: readonly TuningRecord[]): TuningRecord['outcome'][] {
  return [...new Map(rs.map((r) => [r.outcome.times?.length ? r.outcome.times.join(',') : `median:${r.outcome.median}`, r.outcome] as const)).values()];
}

interface Standing {
  readonly gflops?: number;
  readonly median?: number;
}

function middle(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function faster(a: Standing, b: Standing): boolean {
  const ga = a.gflops, gb = b.gflops;
  if (ga !== undefined && ga > 0 && gb !== undefined && gb > 0) return ga > gb;
  const ma = a.median, mb = b.median;
  if (ma !== undefined && ma > 0 && mb !== undefined && mb > 0) return ma < mb;
  return ga !== undefined && ga > 0; // one has gflops, the other only a median: prefer the comparable kind
}
