/**
 * OpenBLAS as the CPU peer, at its best: a DYNAMIC_ARCH build picks a kernel by CPU model, not
 * always its fastest (an AVX-512 AMD EPYC may get the AVX2 Haswell kernel), and an environment may
 * preset one, so every core type the build has and the CPU can run is measured, verified, and the
 * fastest one kept.
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set per child process only, never in this one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerChoice } from '../cli/bench-results.js';
import { exec } from '../targets/exec.js';
import { Pipeline } from '../targets/pipeline.js';
import { Candidate, ReferenceSpec } from '../targets/target.js';
import { PeerRun, checkedPeerRun, runPeerProgram } from './peer-run.js';
import { PeerConfig, fastestVerified } from './peer-select.js';
import { writePeerTiming } from './peer-timing.js';

/** Core types worth trying on x86-64 and the CPU flags (targets/cpu-info.ts names) each kernel needs. */
export const OPENBLAS_CORE_TYPES: readonly { readonly name: string; readonly needs: readonly string[] }[] = [
  { name: 'Cooperlake', needs: ['avx512f', 'avx512vl', 'avx512bw', 'avx512dq', 'avx512cd', 'avx512_bf16'] },
  { name: 'SkylakeX', needs: ['avx512f', 'avx512vl', 'avx512bw', 'avx512dq', 'avx512cd'] },
  { name: 'Zen', needs: ['avx2', 'fma'] },
  { name: 'Haswell', needs: ['avx2', 'fma'] },
  { name: 'Sandybridge', needs: ['avx'] },
];

const PRESET_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;
const source = (f: string) => fileURLToPath(new URL(`../../bench/c/${f}`, import.meta.url));

/** The environment variables one configuration sets; the others of PRESET_VARS are unset. */
export type BlasConfig = Readonly<Record<string, string>>;

export type BlasRun = PeerRun;

/** What the im2col peer runs: the 2-d convolutions of the operator suite, batch 1. */
export interface ConvPeerShape {
  readonly c: number; readonly h: number; readonly w: number; readonly k: number; readonly kh: number; readonly kw: number;
  readonly stride: number; readonly pad: number; readonly dilation: number; readonly groups: number; readonly transposed: boolean;
}

const CONV_PEER_OPS: Readonly<Record<string, 'conv' | 'transposed' | 'depthwise'>> = {
  conv2d: 'conv', grouped_conv2d: 'conv', dilated_conv2d: 'conv', conv2d_transpose: 'transposed', depthwise_conv2d: 'depthwise',
};

/** The peer's shape of a workload's operator and parameters (with the operator's defaults filled in), or why the peer cannot run it. */
export function convPeerShape(op: string, p: Readonly<Record<string, number>>): ConvPeerShape | string {
  const kind = CONV_PEER_OPS[op];
  if (!kind) return `the im2col peer runs ${Object.keys(CONV_PEER_OPS).join(', ')}, not ${op}`;
  if ((p.n ?? 1) !== 1) return `the im2col peer runs batch 1, not n=${p.n}`;
  const base = { c: p.c!, h: p.h!, w: p.w!, kh: p.kh!, kw: p.kw!, stride: p.stride ?? 1, pad: p.pad ?? 0, dilation: p.dilation ?? 1 };
  if (kind === 'depthwise') return { ...base, k: p.c! * (p.multiplier ?? 1), groups: p.c!, transposed: false };
  return { ...base, k: p.k!, groups: p.groups ?? 1, transposed: kind === 'transposed' };
}

interface Parsed { core: string; config: string; times: number[] }

export class OpenBlas {
  private constructor(private readonly dir: string, private readonly bins: { sgemm: string; conv: string }, readonly version: string, readonly configs: readonly PeerConfig<BlasConfig>[]) {}

  /** Builds the peer binaries and finds which core types this build has and this CPU runs; a string says why there is no peer. */
  static async open(compiler: string, cpuFlags: readonly string[]): Promise<OpenBlas | string> {
    const dir = await mkdtemp(join(tmpdir(), 'loopsmith-blas-'));
    const bins = { sgemm: join(dir, 'sgemm'), conv: join(dir, 'conv') };
    await writePeerTiming(dir);
    for (const [bin, file] of [[bins.sgemm, 'openblas-sgemm.c'], [bins.conv, 'im2col-sgemm.c']] as const) {
      const cc = await exec(compiler, ['-O2', '-I', source(''), '-I', dir, '-o', bin, source(file), '-lopenblas'], { timeoutMs: 60_000 });
      if (cc.code !== 0) {
        await rm(dir, { recursive: true, force: true });
        return `could not build against OpenBLAS (apt-get install libopenblas-dev): ${cc.stderr.split('\n')[0]}`;
      }
    }
    // A tiny run per configuration: which kernel the library really loads (an unknown name falls back to the default), and whether it runs at all.
    const probe = (cfg: BlasConfig) => runPeer(bins.sgemm, ['16', '16', '16', '1', join(dir, 'probe.bin'), '0', '3', '0'], cfg, 1);
    const def = await probe({});
    if ('status' in def) {
      await rm(dir, { recursive: true, force: true });
      return `OpenBLAS does not run: ${def.note}`;
    }
    const version = def.config.split(' ').slice(0, 2).join(' ');
    const has = new Set(cpuFlags);
    const configs: PeerConfig<BlasConfig>[] = [{ label: `default (${def.core})`, config: {}, isDefault: true }];
    for (const t of OPENBLAS_CORE_TYPES) {
      const label = `core ${t.name}`;
      const missing = t.needs.filter((f) => !has.has(f));
      if (missing.length) { configs.push({ label, config: {}, skip: `the CPU lacks ${missing.join(', ')}` }); continue; }
      if (t.name.toLowerCase() === def.core.toLowerCase()) { configs.push({ label, config: {}, skip: 'the default kernel' }); continue; }
      const p = await probe({ OPENBLAS_CORETYPE: t.name });
      if ('status' in p) configs.push({ label, config: {}, skip: `crashed in a probe run: ${p.note}` });
      else if (p.core.toLowerCase() !== t.name.toLowerCase()) configs.push({ label, config: {}, skip: `not in this build (it loaded ${p.core})` });
      else configs.push({ label, config: { OPENBLAS_CORETYPE: t.name } });
    }
    const preset = Object.fromEntries(PRESET_VARS.filter((v) => process.env[v] !== undefined).map((v) => [v, process.env[v]!]));
    if (Object.keys(preset).length) configs.push({ label: `environment preset (${Object.entries(preset).map(([k, v]) => `${k}=${v}`).join(', ')})`, config: preset, isDefault: true });
    return new OpenBlas(dir, bins, version, configs);
  }

  /** cblas_sgemm, row-major, at its fastest verified configuration. */
  sgemm<C extends Candidate, B>(m: number, n: number, k: number, threads: number, cpu: Pipeline<C, B>, ref: ReferenceSpec) {
    return this.best(this.bins.sgemm, (s) => [m, n, k, s.seed, '@out', s.minSeconds, s.maxRepeats, s.warmup], threads, cpu, ref);
  }

  /** A 2-d convolution (batch 1) as im2col + cblas_sgemm per channel group, or sgemm + col2im when transposed, at the fastest verified configuration. */
  im2colConv<C extends Candidate, B>(p: ConvPeerShape, threads: number, cpu: Pipeline<C, B>, ref: ReferenceSpec) {
    const shape = [p.c, p.h, p.w, p.k, p.kh, p.kw, p.stride, p.pad, p.dilation, p.groups, p.transposed ? 1 : 0];
    return this.best(this.bins.conv, (s) => [...shape, s.seed, '@out', s.minSeconds, s.maxRepeats, s.warmup], threads, cpu, ref);
  }

  close(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }

  private async best<C extends Candidate, B>(bin: string, args: (s: Pipeline<C, B>['target']['settings']) => (string | number)[], threads: number, cpu: Pipeline<C, B>, ref: ReferenceSpec): Promise<{ run: BlasRun; choice: Omit<PeerChoice, 'peer' | 'section' | 'workload' | 'threads'> }> {
    const want = await cpu.reference(ref);
    const out = join(this.dir, 'out.bin');
    const sel = await fastestVerified(this.configs, async (cfg): Promise<BlasRun> => {
      const r = await runPeer(bin, args(cpu.target.settings).map((a) => (a === '@out' ? out : String(a))), cfg, threads);
      return 'status' in r ? r : checkedPeerRun(out, r.times, want, ref);
    });
    return { run: sel.best?.result ?? { status: 'unavailable', note: sel.choice.summary }, choice: sel.choice };
  }
}

/** One peer process with OPENBLAS_* preset variables replaced by the configuration's. */
function runPeer(bin: string, args: string[], cfg: BlasConfig, threads: number): Promise<Parsed | PeerRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  for (const v of PRESET_VARS) delete env[v];
  Object.assign(env, cfg);
  return runPeerProgram<Parsed>(bin, args, env);
}
