/** The model module: compiled, it computes what ONNX Runtime computes; its arena never lets a layer overwrite what is still to be read. */
import assert from 'node:assert/strict';
import { importOnnx } from '../../ir/onnx/import.js';
import { ModelGraph } from '../../ir/graph/graph.js';
import { planArena } from '../../codegen/model-c.js';
import { mobilenetV2, resnet18, tinyNet } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';
import { CTarget } from '../../targets/c/target.js';
import { runModel } from '../../targets/c/model-run.js';
import { RecordStore } from '../../tuner/records.js';
import { modelModule } from '../../tuner/graph/module.js';
import { fillUniform } from '../../ir/random.js';

/** For every layer: the tensors alive while it runs (read later, or read by it) and its output never share memory. */
function assertArenaSafe(g: ModelGraph): void {
  const { offset } = planArena(g);
  const lastRead = new Map<string, number>();
  g.layers.forEach((l, i) => Object.values(l.inputs).forEach((s) => 'tensor' in s && lastRead.set(s.tensor, i)));
  const span = (t: string) => [offset.get(t)!, offset.get(t)! + g.tensors.get(t)!] as const;
  g.layers.forEach((l, i) => {
    if (!offset.has(l.output)) return;
    const [a, b] = span(l.output);
    for (const [t, last] of lastRead) {
      const written = g.layers.findIndex((x) => x.output === t);
      if (t === l.output || !offset.has(t) || written > i || last < i) continue;
      const [c, d] = span(t);
      assert.ok(b <= c || d <= a, `layer ${i} (${l.name}) writes [${a}, ${b}) over ${t} [${c}, ${d}), still read by layer ${last}`);
    }
  });
}

describe('model module (C)', function () {
  this.timeout(180_000);

  it('plans an arena in which no layer overwrites a tensor still to be read (tiny, ResNet-18, MobileNetV2)', () => {
    for (const m of [tinyNet(), resnet18(), mobilenetV2()]) {
      const g = importOnnx(m.bytes, { name: m.name, source: m.name });
      assertArenaSafe(g);
      const { floats } = planArena(g);
      const total = [...g.tensors.values()].reduce((a, b) => a + b, 0);
      assert.ok(floats < total, `${m.name}: the arena (${floats} floats) reuses memory (all tensors: ${total})`);
    }
  });

  it('compiled, tinyNet computes what ONNX Runtime computes, on 1 and 2 threads', async () => {
    const m = tinyNet();
    const g = importOnnx(m.bytes, { name: 'tiny', source: 'tiny.onnx' });
    const x = fillUniform(3 * 20 * 20, 3);
    const want = (await runOrt(m.bytes, x, m.inputShape, { threads: 1 })).output;
    for (const threads of [1, 2]) {
      const t = new CTarget({}, { threads });
      const mod = modelModule(g, new RecordStore('/nonexistent/records.jsonl'), { kind: 'c', key: t.fingerprint.key, spaceTarget: t.spaceTarget, compatible: (o) => t.compatible(o) }, { name: 'tiny', banner: ['test'] });
      assert.ok([...mod.schedules.values()].some((s) => s.source === 'expert'), 'untuned tasks take their expert schedules');
      const r = await runModel(mod.c, mod.weights, x, { cc: t.compiler.command, cflags: t.cflags, threads, minSeconds: 0.05 });
      const scale = Math.max(...Array.from(want, Math.abs));
      want.forEach((v, i) => assert.ok(Math.abs(v - r.output[i]!) <= 1e-4 * scale, `output ${i}: ${r.output[i]} vs ORT ${v}`));
      assert.equal(r.layerMs.length, g.layers.length);
      assert.ok(r.layerMs.every((s) => s >= 0) && r.runs >= 3);
    }
  });
});
