/**
 * Whole models against ONNX Runtime, and their conv layers against oneDNN at its best (issue 27):
 *
 *   npm run bench:models -- --records FILE [--models resnet18,mobilenetv2] [--threads 1,2] [--seconds 3]
 *
 * Each model is generated in memory (bench/models/zoo.ts), imported, built as one C module with the
 * records' best schedules for the device (tune first: loopsmith tune-model MODEL.onnx --records FILE
 * --threads T), checked against ONNX Runtime's output on the same input, then timed against ONNX
 * Runtime (CPU provider, intra-op threads = T, sequential) in alternating rounds so both see the
 * same host. Each conv layer's time inside the model is set against oneDNN's plain convolution of
 * the same shape at its best (blocked layouts, weights and input reordered outside the time), which
 * does less work than the fused layer (no bias, residual or activation). The FMA peak is measured
 * in the same run. Ratios are what this prints; absolute times move with the host.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ModelGraph, graphFlops } from '../ir/graph/graph.js';
import { importOnnx } from '../ir/onnx/import.js';
import { LAYOUTS, Layout } from '../ir/ops/layout.js';
import { autoLayout } from '../ir/onnx/auto-layout.js';
import { detectCpu } from '../targets/cpu-info.js';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { fillUniform } from '../ir/random.js';
import { CTarget } from '../targets/c/target.js';
import { ModelRun, compileModel } from '../targets/c/model-run.js';
import { runOrt, timeOrt } from '../targets/onnxruntime.js';
import { Pipeline } from '../targets/pipeline.js';
import { RecordStore } from '../tuner/records.js';
import { modelModule } from '../tuner/graph/module.js';
import { OneDnn, oneDnnShape } from './onednn.js';
import { cpuPeaks } from './peak.js';
import { ZOO, ZooModel } from './models/zoo.js';

const require = createRequire(import.meta.url);

interface LayerRow { layer: string; workload: string; ms: number; gflops: number; source: string; onednnMs?: number; onednnImpl?: string; ratio?: number }
interface ModelRow {
  model: string; threads: number; gflop: number; ortMs: number; loopsmithMs: number; ratio: number; maxError: number;
  schedules: Record<string, number>; layers: LayerRow[]; convGeomean?: number; rounds: { ort: number[]; loopsmith: number[] };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const f = (x: number, d = 2) => x.toFixed(d);

async function benchModel(m: ZooModel, g: ModelGraph, threads: number, db: RecordStore, seconds: number, rounds: number, dnnl: OneDnn | string): Promise<ModelRow> {
  const t = new CTarget({ minSeconds: 0.3 }, { threads });
  const mod = modelModule(g, db, { kind: 'c', key: t.fingerprint.key, spaceTarget: t.spaceTarget, compatible: (o) => t.compatible(o) }, { name: g.name, banner: ['bench:models'] });
  const input = fillUniform(g.input.shape.reduce((a, b) => a * b, 1), 11);
  const want = (await runOrt(m.bytes, input, m.inputShape, { threads })).output;
  const ort: number[] = [], ours: number[] = [];
  let last: ModelRun | undefined;
  // Compiled once: every round runs the same binary.
  const compiled = await compileModel(mod.c, { cc: t.compiler.command, cflags: t.cflags });
  try {
    for (let r = 0; r < rounds; r++) {
      ort.push((await timeOrt(m.bytes, input, m.inputShape, { threads, minSeconds: seconds })).medianMs);
      last = await compiled.run(mod.weights, input, { threads, minSeconds: seconds });
      ours.push(last.medianMs);
    }
  } finally {
    await compiled.dispose();
  }
  const run = last!;
  const scale = Math.max(...Array.from(want, Math.abs));
  const maxError = Math.max(...Array.from(want, (v, i) => Math.abs(v - run.output[i]!) / scale));
  const layers: LayerRow[] = [];
  const cpu = new Pipeline(t);
  for (const [i, l] of g.layers.entries()) {
    const s = mod.schedules.get(l.workload.key)!;
    const row: LayerRow = { layer: l.name, workload: l.workload.key, ms: run.layerMs[i]!, gflops: l.workload.flops / run.layerMs[i]! / 1e6, source: s.source };
    if (l.workload.op.name === 'conv2d_fused' && typeof dnnl !== 'string') {
      // oneDNN's plain convolution of the same shape, checked against loopsmith's reference of it.
      const p = l.workload.params;
      const plain = workload('conv2d', Object.fromEntries(['n', 'c', 'h', 'w', 'k', 'kh', 'kw', 'stride', 'pad', 'dilation', 'groups'].map((k) => [k, p[k]!])));
      const shape = oneDnnShape('conv2d', plain.params);
      if (typeof shape !== 'string') {
        const r = await dnnl.conv(shape, 'best', threads, cpu, { key: plain.key, unscheduled: lowerWorkload(plain), flops: plain.flops });
        if (r.status === 'ok' && r.stats) {
          row.onednnMs = r.stats.median * 1e3;
          row.ratio = row.onednnMs / row.ms;
          if (r.note) row.onednnImpl = r.note;
        }
      }
    }
    layers.push(row);
  }
  const convRatios = layers.flatMap((l) => (l.ratio !== undefined ? [l.ratio] : []));
  const schedules = [...mod.schedules.values()].reduce<Record<string, number>>((a, s) => ({ ...a, [s.source]: (a[s.source] ?? 0) + 1 }), {});
  const ortMs = median(ort), loopsmithMs = median(ours);
  return {
    model: g.name, threads, gflop: graphFlops(g) / 1e9, ortMs, loopsmithMs, ratio: ortMs / loopsmithMs, maxError, schedules, layers,
    ...(convRatios.length ? { convGeomean: geomean(convRatios) } : {}), rounds: { ort, loopsmith: ours },
  };
}

function print(r: ModelRow, peak: number | undefined): string {
  const lines = [
    `\n== ${r.model}, ${r.threads} thread${r.threads > 1 ? 's' : ''} (${f(r.gflop)} GFLOP per inference${peak ? `; FMA peak ${f(peak, 1)} GFLOP/s` : ''})`,
    `ONNX Runtime ${f(r.ortMs)} ms, loopsmith ${f(r.loopsmithMs)} ms (medians of ${r.rounds.ort.length} alternating rounds: ORT ${r.rounds.ort.map((x) => f(x)).join(' ')}, loopsmith ${r.rounds.loopsmith.map((x) => f(x)).join(' ')})`,
    `end to end: ${f(r.ratio)}x ONNX Runtime (target >= 1.0: ${r.ratio >= 1 ? 'met' : 'not met'}); output within ${r.maxError.toExponential(1)} of ORT's; schedules: ${Object.entries(r.schedules).map(([k, n]) => `${n} ${k}`).join(', ')}`,
    '',
    `${'#'.padStart(3)}  ${'layer'.padEnd(34)} ${'ms'.padStart(7)} ${'GFLOP/s'.padStart(8)}  ${'oneDNN best ms'.padStart(14)} ${'ratio'.padStart(6)}  schedule`,
  ];
  r.layers.forEach((l, i) => lines.push(`${String(i).padStart(3)}  ${(l.layer.length > 34 ? l.layer.slice(0, 31) + '...' : l.layer).padEnd(34)} ${f(l.ms, 3).padStart(7)} ${f(l.gflops, 1).padStart(8)}  ${(l.onednnMs !== undefined ? f(l.onednnMs, 3) : '-').padStart(14)} ${(l.ratio !== undefined ? f(l.ratio) : '-').padStart(6)}  ${l.source}`));
  if (r.convGeomean !== undefined) lines.push(`conv layers in the model vs oneDNN at its best (plain conv, same shape): geomean ${f(r.convGeomean)}x (target >= 1.0: ${r.convGeomean >= 1 ? 'met' : 'not met'})`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .usage('$0 --records FILE [options]\n\nResNet-18 and MobileNetV2 end to end against ONNX Runtime; their conv layers against oneDNN at its best.')
    .option('records', { type: 'string', demandOption: true, describe: 'records with the models\' tuned tasks (loopsmith tune-model)' })
    .option('models', { type: 'string', default: 'resnet18,mobilenetv2', describe: `comma-separated: ${Object.keys(ZOO).join(', ')}` })
    .option('threads', { type: 'string', default: '1,2', describe: 'thread counts, comma-separated' })
    .option('seconds', { type: 'number', default: 3, describe: 'timing per round and side' })
    .option('rounds', { type: 'number', default: 3, describe: 'alternating rounds of ORT and loopsmith' })
    .option('layout', { type: 'string', default: 'nchw', choices: ['auto', ...LAYOUTS], describe: 'activation layout of the layers, as tuned (tune-model --layout); auto picks per model for this CPU\'s vector width' })
    .option('json', { type: 'string', describe: 'also write the rows to this file' })
    .strict().help().parseAsync();
  const names = argv.models.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(n in ZOO)) throw new Error(`--models: unknown model '${n}'; models: ${Object.keys(ZOO).join(', ')}`);
  const threads = argv.threads.split(',').map((s) => Number(s.trim()));
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads must be positive integers separated by commas, got '${argv.threads}'`);
  const db = new RecordStore(argv.records);
  db.load();
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  const dnnl = await OneDnn.open();
  const peaks = await cpuPeaks(new CTarget(), threads, true);
  console.log(`bench:models: ONNX Runtime ${ortVersion} (CPU), ${typeof dnnl === 'string' ? `no oneDNN: ${dnnl}` : dnnl.version}; records ${argv.records}`);
  console.log(`command: npm run bench:models -- --records ${argv.records} --models ${names.join(',')} --threads ${threads.join(',')} --seconds ${argv.seconds} --rounds ${argv.rounds} --layout ${argv.layout}`);
  const rows: ModelRow[] = [];
  try {
    for (const n of names) {
      const m = ZOO[n as keyof typeof ZOO]();
      const opts = { name: n, source: `${n}.onnx` };
      const { graph: g, layout } = argv.layout === 'auto' ? autoLayout(m.bytes, opts, detectCpu().f32Lanes)
        : { graph: importOnnx(m.bytes, { ...opts, layout: argv.layout as Layout }), layout: argv.layout };
      console.log(`${n}: layout ${layout}`);
      for (const t of threads) {
        const r = await benchModel(m, g, t, db, argv.seconds, argv.rounds, dnnl);
        rows.push(r);
        console.log(print(r, peaks.find((p) => p.threads === t)?.gflops));
      }
    }
  } finally {
    if (typeof dnnl !== 'string') await dnnl.close();
  }
  console.log(`\nsummary (ratios from one run; > 1 is loopsmith faster)\n${'model'.padEnd(14)} threads  ORT ms  loopsmith ms  vs ORT  conv layers vs oneDNN best`);
  for (const r of rows) console.log(`${r.model.padEnd(14)} ${String(r.threads).padStart(7)} ${f(r.ortMs).padStart(7)} ${f(r.loopsmithMs).padStart(13)} ${f(r.ratio).padStart(7)}  ${r.convGeomean !== undefined ? f(r.convGeomean) : '-'}`);
  if (argv.json) writeFileSync(argv.json, JSON.stringify({ ortVersion, onednn: typeof dnnl === 'string' ? null : dnnl.version, peaks, rows }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(`bench:models: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
