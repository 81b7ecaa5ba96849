/**
 * Test-only targets (load with LOOPSMITH_PLUGINS) that write C like the C target but misbehave at
 * one seam, so that verification can be shown to catch a bad kernel without a real renderer bug:
 * `wrong-c` returns outputs with one element off, `crash-c` crashes every kernel.
 */
import { cTarget } from '../../targets/c/target.js';
import { registerTarget } from '../../targets/registry.js';
import { RunResult, Target, TargetDefinition } from '../../targets/target.js';

function faulty(name: string, run: (inner: Target, ...args: Parameters<Target['run']>) => Promise<RunResult>): TargetDefinition {
  return {
    ...cTarget,
    name,
    create(settings, options) {
      const inner = cTarget.create(settings, options);
      const t: Target = {
        name,
        settings: inner.settings,
        open: () => inner.open(),
        get fingerprint() {
          return { ...inner.fingerprint, key: `${name}:${inner.fingerprint.key}` };
        },
        description: `${inner.description}, ${name}`,
        capabilities: inner.capabilities,
        summary: inner.summary,
        spaceTarget: { ...inner.spaceTarget, kind: name },
        compatible: () => false,
        candidate: (p) => inner.candidate(p),
        build: (cs) => inner.build(cs),
        run: (c, artifact, time) => run(inner, c, artifact, time),
        release: (artifact) => inner.release(artifact),
        close: () => inner.close(),
      };
      return t;
    },
  };
}

registerTarget(faulty('wrong-c', async (inner, c, artifact, time) => {
  const r = await inner.run(c, artifact, time);
  if (r.status !== 'ok') return r;
  const outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.map((x, i) => (i === 0 ? x + 1 : x))]));
  return { ...r, outputs };
}));

registerTarget(faulty('crash-c', async () => ({ status: 'crash', message: 'kernel killed by SIGSEGV' })));
