/**
 * A peer at its best: every configuration it offers (OpenBLAS core types, TensorFlow.js program
 * flags) is measured under the same protocol, its output checked, and the fastest verified one is
 * the peer's row. A configuration with a wrong answer never wins, however fast.
 */
import type { PeerChoice } from '../cli/bench-results.js';

export interface PeerConfig<C> {
  readonly label: string;
  readonly config: C;
  /** Why it is not run on this machine (the CPU lacks its ISA, the build lacks it). */
  readonly skip?: string;
  /** What one gets without choosing (the library's own pick, an environment's preset): the summary gives the ratio against it. */
  readonly isDefault?: boolean;
}

export interface PeerOutcome {
  readonly status: string;
  readonly gflops?: number;
  readonly note?: string;
}

export interface Selection<R> {
  readonly best?: { readonly label: string; readonly result: R };
  readonly choice: Omit<PeerChoice, 'peer' | 'section' | 'workload' | 'threads'>;
}

export async function fastestVerified<C, R extends PeerOutcome>(configs: readonly PeerConfig<C>[], measure: (c: C, label: string) => Promise<R>): Promise<Selection<R>> {
  const tried: { label: string; status: string; gflops?: number; note?: string; isDefault?: boolean; result?: R }[] = [];
  for (const c of configs) {
    if (c.skip) {
      tried.push({ label: c.label, status: 'skipped', note: c.skip });
      continue;
    }
    const r = await measure(c.config, c.label);
    tried.push({ label: c.label, status: r.status, ...(r.gflops !== undefined ? { gflops: r.gflops } : {}), ...(r.note ? { note: r.note } : {}), ...(c.isDefault ? { isDefault: true } : {}), result: r });
  }
  const verified = tried.filter((t) => t.status === 'ok' && (t.gflops ?? 0) > 0);
  const best = verified.reduce<(typeof tried)[number] | undefined>((b, t) => (!b || t.gflops! > b.gflops! ? t : b), undefined);
  const ran = tried.filter((t) => t.status !== 'skipped');
  const failed = ran.filter((t) => t.status !== 'ok').map((t) => `${t.label} ${t.status.replace('_', ' ')}`);
  const parts = [`fastest verified of ${ran.length} tried`];
  for (const d of tried.filter((t) => t.isDefault && t !== best)) if (best) parts.push(d.status === 'ok' ? `${d.label} was ${(d.gflops! / best.gflops!).toFixed(2)}x` : `${d.label}: ${d.status}`);
  if (failed.length) parts.push(failed.join(', '));
  const summary = best ? `${best.label} (${parts.join('; ')})` : `no configuration verified (${ran.length} tried${failed.length ? `: ${failed.join(', ')}` : ''})`;
  return {
    ...(best ? { best: { label: best.label, result: best.result! } } : {}),
    choice: { ...(best ? { chosen: best.label } : {}), summary, tried: tried.map(({ label, status, gflops, note }) => ({ label, status, ...(gflops !== undefined ? { gflops } : {}), ...(note ? { note } : {}) })) },
  };
}
