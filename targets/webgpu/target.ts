import { createHash } from 'node:crypto';
import { structuralHash } from '../../ir/hash.js';
import { Program } from '../../ir/program.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { WgslKernel, renderWgsl } from '../../codegen/wgsl/render.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { Trace } from '../../scheduler/trace.js';
import { SpaceTarget } from '../../tuner/space.js';
import { Built, Candidate, MeasureSettings, RunOptions, RunResult, Target, TargetDefinition, measureSettings } from '../target.js';
import { GpuCapabilities } from './device.js';
import { limitViolations } from './limits.js';
import { DeviceProcess } from './process.js';

export interface WgslCandidate extends Candidate {
  readonly kernel: WgslKernel;
  /** Position of each binding among the program's buffers: the input seeds depend on it. */
  readonly positions: readonly number[];
}

/** A type alias, not an interface: only a type literal is assignable to a `Fingerprint` record. */
export type GpuFingerprint = {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly dawnVersion: string;
  readonly key: string;
};

/** The source as `run --emit` prints it: the bindings and dispatch sizes are part of the kernel. */
function listing(k: WgslKernel): string {
  return k.source
    + `// bindings: ${JSON.stringify(k.bindings.map((b) => ({ binding: b.binding, name: b.name, role: b.role, elements: b.elements })))}\n`
    + `// entry points, in dispatch order: ${JSON.stringify(k.entries)}\n`;
}

export function wgslCandidate(p: Program): WgslCandidate {
  const kernel = renderWgsl(lowerForCodegen(p));
  const source = listing(kernel);
  return {
    kernel, program: p, source, codeHash: createHash('sha256').update(source).digest('hex').slice(0, 16),
    positions: kernel.bindings.map((b) => p.buffers.findIndex((x) => x.name === b.name)),
  };
}

/** Threads per workgroup of the default schedule (one invocation per output element). */
const DEFAULT_THREADS = 64;

/**
 * WebGPU through Dawn. The device lives in a child process; a candidate over the device's limits
 * is rejected before it is compiled, and shader compilation happens on the device at run time.
 */
export class WebGpuTarget implements Target<WgslCandidate, WgslCandidate> {
  readonly name = 'webgpu';
  readonly settings: MeasureSettings;
  private readonly device = new DeviceProcess();
  private caps_?: GpuCapabilities;

  /**
   * `adapterInfo` replaces the identity the adapter reports (vendor, architecture, device,
   * description) in the fingerprint: the kernels still run on this machine's adapter, so this serves
   * tests of records from other devices, not measurements of them.
   */
  constructor(settings: Partial<MeasureSettings> = {}, private readonly adapterInfo?: Partial<Pick<GpuFingerprint, 'vendor' | 'architecture' | 'device' | 'description'>>) {
    // Short kernels are batched per submit; more repeats keep the dispatch overhead out of the median.
    this.settings = measureSettings(settings, { maxRepeats: 2000 });
  }

  async open(): Promise<void> {
    this.caps_ = await this.device.open();
  }

  get caps(): GpuCapabilities {
    if (!this.caps_) throw new Error('WebGPU target not opened');
    return this.caps_;
  }

  get fingerprint(): GpuFingerprint {
    const c = this.caps;
    const f = { vendor: c.vendor, architecture: c.architecture, device: c.device, description: c.description, ...this.adapterInfo, dawnVersion: c.dawnVersion };
    return { ...f, key: `webgpu:${structuralHash(f)}` };
  }

  get description(): string {
    return this.caps.description;
  }

  get capabilities() {
    return { capabilities: this.caps };
  }

  get summary(): string[] {
    const g = this.caps, l = g.limits;
    return [
      `${g.description} (${g.vendor}/${g.architecture}), Dawn via npm webgpu ${g.dawnVersion}`,
      `workgroup ≤ ${l.maxComputeWorkgroupSizeX}x${l.maxComputeWorkgroupSizeY}x${l.maxComputeWorkgroupSizeZ}, ${l.maxComputeInvocationsPerWorkgroup} invocations, ${l.maxComputeWorkgroupStorageSize} B workgroup memory; timestamps ${g.hasTimestamps ? 'yes' : 'no'}${g.subgroupSizes ? `; subgroups ${g.subgroupSizes.min}-${g.subgroupSizes.max}` : ''}`,
    ];
  }

  get spaceTarget(): SpaceTarget {
    const l = this.caps.limits;
    return {
      kind: this.name, style: 'gpu', lanes: 1, threads: 1, maxInvocations: l.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupDim: [l.maxComputeWorkgroupSizeX, l.maxComputeWorkgroupSizeY, l.maxComputeWorkgroupSizeZ], maxWorkgroupBytes: l.maxComputeWorkgroupStorageSize,
    };
  }

  /** Records from the same GPU vendor and architecture tune well here too. */
  compatible(other: Readonly<Record<string, unknown>>): boolean {
    const f = this.fingerprint;
    return other.vendor === f.vendor && other.architecture === f.architecture;
  }

  defaultTrace(unscheduled: Program, workload: string): Trace {
    return defaultGpuTrace(unscheduled, DEFAULT_THREADS, workload);
  }

  candidate(p: Program): WgslCandidate {
    return wgslCandidate(p);
  }

  /** Nothing to compile ahead: the device compiles at run time. Only the limits are checked here. */
  async build(cs: readonly WgslCandidate[]): Promise<Built<WgslCandidate>[]> {
    if (cs.length) await this.open();
    return cs.map((c) => {
      const over = limitViolations(c.kernel, this.caps);
      return over.length ? { status: 'rejected', message: `exceeds device limits: ${over.join('; ')}` } : { status: 'ok', artifact: c };
    });
  }

  /** The shader compiles at run time: the compile gets the absolute cap, the run the pipeline's limit. */
  run(c: WgslCandidate, _: WgslCandidate, time: boolean, opts: RunOptions): Promise<RunResult> {
    const s = this.settings;
    const req = { kernel: c.kernel, positions: c.positions, seed: s.seed, time, minSeconds: s.minSeconds, maxRepeats: s.maxRepeats, warmup: s.warmup };
    return this.device.run(req, { timeoutMs: opts.timeoutMs, compileTimeoutMs: s.runTimeoutMs });
  }

  async release(): Promise<void> {}

  close(): Promise<void> {
    return this.device.close();
  }
}

export const webgpuTarget: TargetDefinition = {
  name: 'webgpu',
  languages: ['wgsl', 'ts'],
  options: [],
  create: (settings) => new WebGpuTarget(settings),
};
