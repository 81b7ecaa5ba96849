/** The text `npm run bench:search` prints: per workload, the command, machine and peers, and a table of the configurations; then the speed targets. */
import { shortKey } from '../../cli/bench-results.js';
import { table } from '../../cli/format.js';
import { ConfigSummary, marks, summarize } from './curves.js';
import type { SearchBenchResult, SpeedTarget, WorkloadResult } from './result.js';

const g = (x?: number) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));
const times = (x?: number) => (x === undefined ? '-' : `${x.toFixed(2)}x`);

function settingsLine(r: SearchBenchResult): string {
  const s = r.settings;
  const budget = s.timeBudgetSeconds !== undefined ? `${s.timeBudgetSeconds} s per tune` : 'no time budget';
  const trials = Number.isFinite(s.trials) ? `at most ${s.trials} trials` : 'trials unlimited';
  const horizon = Object.entries(s.horizon).map(([k, n]) => `${n} trials on ${k === 'c' ? 'C' : 'WebGPU'}`).join(', ');
  const starts = s.startingPoints > 0 ? `up to ${s.startingPoints} starting points (default, expert, nearest shapes)` : 'no starting points (--starting-points 0)';
  return `${s.seeds} seed${s.seeds > 1 ? 's' : ''}, ${budget}, ${trials} (strategies planned over ${horizon}), ${starts};\n  fresh records for each tune, min-time ${s.minSeconds} s, C threads ${s.threads}; ${s.remeasure === 1 ? 'final = the best record re-measured' : `final = the best of ${s.remeasure} kernels re-measured`}`;
}

function peerLine(w: WorkloadResult): string {
  return w.peers.map((p) => `${p.name}: ${p.status === 'ok' ? `${g(p.gflops)} GFLOP/s` : `${p.status}${p.note ? ` (${p.note.length > 100 ? `${p.note.slice(0, 97)}...` : p.note})` : ''}`}`).join('; ');
}

function row(s: ConfigSummary): string[] {
  const f = s.final;
  const reach = s.to90 ? `${s.to90.seconds !== undefined ? s.to90.seconds.toFixed(0) : 'never'} (${s.to90.reached}/${s.seeds})` : '-';
  return [
    s.config, ...s.atMarks.map(g), f ? `${g(f.median)} [${g(f.min)}-${g(f.max)}]${f.of > 1 && f.of !== s.seeds ? ` ${f.of}/${s.seeds}` : ''}` : '-',
    times(s.xPeer), times(s.xExpert), s.candidatesPerSecond.toFixed(2), s.trials.toFixed(0), s.earlyAborts.toFixed(0), reach,
  ];
}

function workloadTable(r: SearchBenchResult, w: WorkloadResult): string[] {
  const at = marks(r.settings);
  const rows = r.settings.configs.map((c) => summarize(w, c.label, at));
  const end = at.length - 1;
  const ablation = r.settings.configs.filter((c) => c.model === 'on').flatMap((c) => {
    const off = r.settings.configs.find((k) => k.strategy === c.strategy && k.model === 'off');
    const a = rows.find((x) => x.config === c.label), b = off && rows.find((x) => x.config === off.label);
    return a && b && b.atMarks[end]! > 0 ? [`${c.label} ${times(a.atMarks[end]! / b.atMarks[end]!)} ${b.config}`] : [];
  });
  return [
    `== ${w.id}: ${shortKey(w.key)} on ${w.target === 'c' ? 'the C target' : 'WebGPU'}`,
    `command: ${w.command}`,
    `machine: ${r.machine.cpu}; target: ${w.device}`,
    `peers (each verified, measured once in this run): ${peerLine(w)}`,
    '',
    table(['config', ...at.map((m) => `@${m} s`), 'final [min-max]', 'x peer', 'x expert', 'cand/s', 'trials', 'early aborts', 's to 90 % of best'], rows.map(row)),
    ...(ablation.length ? ['', `cost model ablation (best at ${at[end]} s, median of seeds): ${ablation.join('; ')}`] : []),
  ];
}

const targetLine = (t: SpeedTarget) => {
  const got = t.ratio === undefined ? 'not measured' : `${t.ratio.toFixed(2)}${t.unit} (want >= ${t.threshold}${t.unit}): ${t.met ? 'met' : 'not met'}`;
  return `  ${t.workload}: ${t.what}: ${got}${t.note ? `  [${t.note}]` : ''}`;
};

export function searchTables(r: SearchBenchResult): string {
  const load = r.load.underLoad
    ? `measured under load (--ignore-load; 1-minute load average ${r.load.seen.map((l) => l.load.toFixed(2)).join(', ')} at the gates, threshold ${r.load.threshold})`
    : `quiet machine (1-minute load average at most ${Math.max(0, ...r.load.seen.map((l) => l.load)).toFixed(2)} at the gates, threshold ${r.load.threshold})`;
  const out = [
    `loopsmith ${r.loopsmith.version}${r.loopsmith.commit ? ` (${r.loopsmith.commit})` : ''} search bench, ${r.date}`,
    `command: ${r.command}`,
    ...r.machine.summary.map((l) => `  ${l}`),
    `  ${load}`,
    `  ${settingsLine(r)}`,
  ];
  for (const w of r.workloads) out.push('', ...workloadTable(r, w));
  out.push(
    '',
    'GFLOP/s: best-so-far at each time (median of seeds); final: the best kernel of each run re-measured, median [min-max] of seeds; x peer / x expert: final median over the peer library / the fastest expert schedule;',
    'cand/s: candidates measured per second of search (median of seeds); s to 90 % of best: seconds until a run reached 90 % of the best any run of the workload found (median of the seeds that did).',
    '',
    'Speed targets (issue 11; computed from this run):',
    ...r.targets.filter((t) => r.workloads.some((w) => w.id === t.workload)).map(targetLine),
  );
  const notRun = [...new Set(r.targets.filter((t) => !r.workloads.some((w) => w.id === t.workload)).map((t) => t.workload))];
  if (notRun.length) out.push(`  not run here (their targets need them in --workloads): ${notRun.join(', ')}`);
  return out.join('\n') + '\n';
}
