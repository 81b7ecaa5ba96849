import { createHash } from 'node:crypto';
import { Program } from '../ir/program.js';
import { CpuTarget, ReferenceSpec } from '../targets/c/target.js';
import { dispose } from '../targets/c/build.js';
import { Measurement } from '../targets/measurement.js';
import { WebGpuTarget } from '../targets/webgpu/target.js';
import { SpaceTarget, TargetKind } from './space.js';

/** A target as the tuner sees it: measure a batch of scheduled programs, remember identical code. */
export interface Evaluator {
  readonly kind: TargetKind;
  readonly fingerprint: Record<string, unknown> & { key: string };
  readonly spaceTarget: SpaceTarget;
  /** Is `other` (a stored fingerprint) a device whose records may stand in for this one's? */
  compatible(other: Record<string, unknown>): boolean;
  /** Measures each program (verified before timed); identical generated code is measured once. */
  measure(programs: readonly Program[], ref: ReferenceSpec): Promise<{ measurement: Measurement; codeHash: string; cached: boolean }[]>;
  close(): Promise<void>;
}

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

function renderSafely<T>(f: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    return { ok: false, message: `internal code generation error (please report): ${(e as Error).message.split('\n')[0]}` };
  }
}

/** The C target: candidates compile in parallel, one compiler per core, then run one at a time. */
export class CpuEvaluator implements Evaluator {
  readonly kind = 'c' as const;
  private readonly seen = new Map<string, Measurement>();
  constructor(readonly target: CpuTarget) {}

  get fingerprint() {
    return { ...this.target.fingerprint };
  }

  get spaceTarget(): SpaceTarget {
    return { kind: 'c', style: 'cpu', lanes: Math.max(1, this.target.cpu.f32Lanes), threads: this.target.opts.threads, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 };
  }

  compatible(other: Record<string, unknown>): boolean {
    return other.isa === this.target.fingerprint.isa && other.compiler === this.target.fingerprint.compiler;
  }

  async measure(programs: readonly Program[], ref: ReferenceSpec) {
    // A code generator that fails on one candidate costs that candidate, not the tuning run.
    const rendered = programs.map((p) => renderSafely(() => this.target.candidate(p)));
    const broken = rendered.map((r, i) => (r.ok ? undefined : { measurement: { status: 'compile_error' as const, message: r.message }, codeHash: `error-${i}`, cached: false }));
    if (broken.every((b) => b)) return broken.map((b) => b!);
    const okIdx = rendered.map((r, i) => (r.ok ? i : -1)).filter((i) => i >= 0);
    const measured = await this.measureRendered(okIdx.map((i) => (rendered[i] as { ok: true; value: ReturnType<CpuTarget['candidate']> }).value), ref);
    return rendered.map((_, i) => broken[i] ?? measured[okIdx.indexOf(i)]!);
  }

  private async measureRendered(cands: ReturnType<CpuTarget['candidate']>[], ref: ReferenceSpec) {
    const hashes = cands.map((c) => hashOf(c.source + this.target.opts.threads));
    const fresh = [...new Set(hashes.filter((h) => !this.seen.has(h)))];
    const firstIndex = fresh.map((h) => hashes.indexOf(h));
    const bins = await this.target.compileAll(firstIndex.map((i) => cands[i]!));
    try {
      for (let k = 0; k < fresh.length; k++) {
        this.seen.set(fresh[k]!, await this.target.measure(cands[firstIndex[k]!]!, ref, bins[k]));
      }
    } finally {
      await Promise.all(bins.map(dispose));
    }
    return hashes.map((h, i) => ({ measurement: this.seen.get(h)!, codeHash: h, cached: !firstIndex.includes(i) || !fresh.includes(h) }));
  }

  async close(): Promise<void> {}
}

/** The WebGPU target: one kernel at a time on the device process. */
export class GpuEvaluator implements Evaluator {
  readonly kind = 'webgpu' as const;
  private readonly seen = new Map<string, Measurement>();
  constructor(readonly target: WebGpuTarget) {}

  get fingerprint() {
    return { ...this.target.fingerprint };
  }

  get spaceTarget(): SpaceTarget {
    const l = this.target.caps.limits;
    return {
      kind: 'webgpu', style: 'gpu', lanes: 1, threads: 1, maxInvocations: l.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupDim: [l.maxComputeWorkgroupSizeX, l.maxComputeWorkgroupSizeY, l.maxComputeWorkgroupSizeZ], maxWorkgroupBytes: l.maxComputeWorkgroupStorageSize,
    };
  }

  compatible(other: Record<string, unknown>): boolean {
    const f = this.target.fingerprint;
    return other.vendor === f.vendor && other.architecture === f.architecture;
  }

  async measure(programs: readonly Program[], ref: ReferenceSpec) {
    const out: { measurement: Measurement; codeHash: string; cached: boolean }[] = [];
    for (const p of programs) {
      const r = renderSafely(() => this.target.candidate(p));
      if (!r.ok) {
        out.push({ measurement: { status: 'compile_error', message: r.message }, codeHash: 'error', cached: false });
        continue;
      }
      const c = r.value;
      const h = hashOf(c.kernel.source + JSON.stringify(c.kernel.entries));
      const cached = this.seen.has(h);
      if (!cached) this.seen.set(h, await this.target.measure(c, ref));
      out.push({ measurement: this.seen.get(h)!, codeHash: h, cached });
    }
    return out;
  }

  close(): Promise<void> {
    return this.target.close();
  }
}
