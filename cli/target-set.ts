import { Pipeline } from '../targets/pipeline.js';
import { createTarget } from '../targets/registry.js';
import { Candidate, MeasureSettings, Target } from '../targets/target.js';

interface Entry {
  readonly target: Target;
  readonly pipeline: Pipeline<Candidate, unknown>;
  opened?: Promise<void>;
}

/**
 * The targets one command uses, each made once and its device started only when first needed, so
 * a build that emits several kernels for one device starts it once and computes each reference once.
 */
export class TargetSet {
  private readonly made = new Map<string, Entry>();

  constructor(private readonly options: Readonly<Record<string, unknown>> = {}, private readonly settings: Partial<MeasureSettings> = {}) {}

  private entry(name: string): Entry {
    let e = this.made.get(name);
    if (!e) {
      const target = createTarget(name, { settings: this.settings, options: this.options });
      e = { target, pipeline: new Pipeline(target) };
      this.made.set(name, e);
    }
    return e;
  }

  /** Made, not opened: enough to render. */
  target(name: string): Target {
    return this.entry(name).target;
  }

  async opened(name: string): Promise<Target> {
    const e = this.entry(name);
    e.opened ??= e.target.open();
    await e.opened;
    return e.target;
  }

  async pipeline(name: string): Promise<Pipeline<Candidate, unknown>> {
    await this.opened(name);
    return this.entry(name).pipeline;
  }

  async close(): Promise<void> {
    await Promise.all([...this.made.values()].map((e) => e.target.close()));
  }
}
