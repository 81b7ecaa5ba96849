import { LoopsmithError } from '../../ir/errors.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace } from '../../scheduler/trace.js';
import { TuningRecord } from '../record.js';
import { traceHash } from '../space.js';
import { programFeatures } from './features.js';
import { TrainingRow } from './cost-model.js';

/** The group of a workload on a device: the rows whose times may be compared. */
export const rowGroup = (workloadKey: string, fingerprintKey: string) => `${workloadKey}@${fingerprintKey}`;
export const rowKey = (group: string, trace: Trace) => `${group}#${traceHash(trace)}`;

/** A measured kernel as a training row: its label is -ln(median seconds), none when it did not run correctly. */
export function trainingRow(group: string, trace: Trace, features: readonly number[], outcome: { status: string; median?: number | undefined }): TrainingRow {
  const ok = outcome.status === 'ok' && outcome.median !== undefined && outcome.median > 0;
  return { key: rowKey(group, trace), group, features, ...(ok ? { label: -Math.log(outcome.median!) } : {}) };
}

/**
 * Rows from records, newest first, at most `cap`, skipping those `known` already has: each trace
 * is replayed onto its own workload and featurized (a trace that no longer replays is passed over).
 */
export function rowsFromRecords(records: readonly TuningRecord[], known: (key: string) => boolean, cap: number): TrainingRow[] {
  const bases = new Map<string, Program>();
  const out: TrainingRow[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < cap; i--) {
    const r = records[i]!;
    const group = rowGroup(r.workload.key, r.target.fingerprint.key);
    if (known(rowKey(group, r.trace))) continue;
    try {
      let base = bases.get(r.workload.key);
      if (!base) bases.set(r.workload.key, (base = lowerWorkload(workload(r.workload.op, r.workload.params, r.workload.dtype))));
      out.push(trainingRow(group, r.trace, programFeatures(applyTrace(base, r.trace, { workload: r.workload.key })), r.outcome));
    } catch (e) {
      if (!(e instanceof LoopsmithError)) throw e;
    }
  }
  // Oldest first, as a model takes rows (it drops from the front).
  return out.reverse();
}
