import { basename } from 'node:path';
import { stopOnSigint } from '../interrupt.js';
import type { Argv } from 'yargs';
import { InputError, RunError } from '../../ir/errors.js';
import { ModelGraph, graphFlops, graphTasks } from '../../ir/graph/graph.js';
import { executeGraph } from '../../ir/graph/execute.js';
import { importOnnx } from '../../ir/onnx/import.js';
import { LAYOUTS, Layout } from '../../ir/ops/layout.js';
import { autoLayout } from '../../ir/onnx/auto-layout.js';
import { detectCpu } from '../../targets/cpu-info.js';
import { readInputBytes } from '../../tuner/input-file.js';
import { DEFAULT_RECORDS_PATH, RecordStore, loopsmithVersion } from '../../tuner/records.js';
import { ModelModule, ModelModuleTs, modelModule, modelModuleTs } from '../../tuner/graph/module.js';
import { TaskSchedule } from '../../tuner/graph/schedules.js';
import { createTarget, openTarget } from '../../targets/registry.js';
import { Target } from '../../targets/target.js';
import { runModelWebGpu } from '../../targets/webgpu/model-run.js';
import { TuneModelResult, tuneModel } from '../../tuner/graph/tune-model.js';
import { STRATEGIES, StrategyName } from '../../tuner/strategies.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { CTarget } from '../../targets/c/target.js';
import { ModelRun, runModel } from '../../targets/c/model-run.js';
import { onnxRuntimeAvailable, runOrt, timeOrt } from '../../targets/onnxruntime.js';
import { fillUniform } from '../../ir/random.js';
import { table } from '../format.js';
import { integerOption } from '../../targets/target.js';
import { checkOutputDirectory, writeFiles } from '../output-files.js';
import { KERNEL_NAME, KERNEL_NAME_LEGAL } from '../manifest.js';

const ONNX_FILE = { what: 'ONNX model', maxBytes: 1 << 30, legal: 'give an .onnx file of at most 1 GiB' };

const LAYOUT_CHOICES = ['auto', ...LAYOUTS] as const;

function layoutOption(v: unknown): Layout | 'auto' {
  const l = String(v ?? 'nchw').toLowerCase();
  if (!(LAYOUT_CHOICES as readonly string[]).includes(l)) throw new InputError(`--layout must be one of ${LAYOUT_CHOICES.join(', ')}, got '${String(v)}'`);
  return l as Layout | 'auto';
}

/**
 * The model's graph in the layout asked for; `auto` picks it for the vector unit the model will run
 * on (`lanes` f32 lanes: the CPU's for C, none for WebGPU), as ir/onnx/auto-layout.ts explains.
 */
function loadModel(path: string, argv: Record<string, unknown>, lanes: number, name?: string): { graph: ModelGraph; bytes: Uint8Array; layout: Layout } {
  const asked = layoutOption(argv.layout);
  const bytes = readInputBytes(path, ONNX_FILE);
  const stem = basename(path).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, 'm');
  const opts = { name: name ?? stem, source: path };
  if (asked === 'auto') return { ...autoLayout(bytes, opts, lanes), bytes };
  return { graph: importOnnx(bytes, { ...opts, layout: asked }), bytes, layout: asked };
}

/** f32 lanes of this machine's vector unit (the C target's). */
const cpuLanes = () => Math.max(1, detectCpu().f32Lanes);

/** `20m`, `90s`, `1.5h` or plain seconds. */
export function durationOption(name: string, v: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h)?$/.exec(String(v).trim());
  const seconds = m ? Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' || m[2] === 'min' ? 60 : 1) : NaN;
  if (!(seconds > 0)) throw new InputError(`--${name} must be a positive duration (90, 90s, 20m, 1.5h), got '${String(v)}'`);
  return seconds;
}

const threadsOf = (argv: Record<string, unknown>) => integerOption('threads', argv.threads ?? 1, 1);

function cTarget(threads: number): CTarget {
  return new CTarget({}, { threads });
}

function device(t: CTarget) {
  return { kind: t.name, key: t.fingerprint.key, spaceTarget: t.spaceTarget, compatible: (o: Record<string, unknown>) => t.compatible(o) };
}

const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

function describeGraph(g: ModelGraph, layout: Layout): string {
  const tasks = graphTasks(g);
  const rows = g.layers.map((l, i) => [String(i), l.name.length > 48 ? `${l.name.slice(0, 45)}...` : l.name, l.workload.key.replace(/:f32$/, ''), (l.workload.flops / 1e6).toFixed(1)]);
  return `${table(['#', 'layer (fused ONNX nodes)', 'workload', 'MFLOP'], rows)}\n${g.name}: ${g.layers.length} layers, ${tasks.length} tasks (distinct workloads), ${(graphFlops(g) / 1e9).toFixed(2)} GFLOP per inference, input [${g.input.shape.join(', ')}], output [${g.output.shape.join(', ')}], layout ${layout}\n`;
}

/** The module's output on `input` against ONNX Runtime's (or, without it, the reference executor's): 1e-3 of the output's scale at most. */
async function checkOutput(g: ModelGraph, bytes: Uint8Array, input: Float32Array, got: Float32Array, threads: number, say: (l: string) => void): Promise<{ checkedAgainst: string; maxError: number }> {
  let want: Float32Array;
  let checkedAgainst: string;
  if (await onnxRuntimeAvailable()) {
    want = (await runOrt(bytes, input, [...g.input.shape], { threads })).output;
    checkedAgainst = 'ONNX Runtime';
  } else {
    say('ONNX Runtime is not installed: checking against loopsmith\'s reference executor (slow on large models)');
    want = executeGraph(g, input);
    checkedAgainst = 'the reference executor';
  }
  const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
  let maxError = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / scale;
    maxError = Number.isNaN(e) ? Infinity : Math.max(maxError, e);
  }
  if (got.length !== want.length || !(maxError <= 1e-3)) {
    throw new RunError(`${g.name}: the compiled model's output differs from ${checkedAgainst}'s (largest error ${maxError.toExponential(1)} of the output's scale; at most 1e-3 passes); nothing written`);
  }
  return { checkedAgainst, maxError };
}

/** ONNX Runtime's median time on the input the module ran on (2 s of calls), or undefined without it. */
async function ortTime(g: ModelGraph, bytes: Uint8Array, input: Float32Array, threads: number): Promise<number | undefined> {
  if (!(await onnxRuntimeAvailable())) return undefined;
  return (await timeOrt(bytes, input, [...g.input.shape], { threads, minSeconds: 2 })).medianMs;
}

/** Builds the module, runs it on a seeded input and checks it against ONNX Runtime (or, without it, the reference executor). */
async function buildAndCheck(g: ModelGraph, bytes: Uint8Array, db: RecordStore, t: CTarget, minSeconds: number, say: (l: string) => void): Promise<{ mod: ModelModule; run: ModelRun; input: Float32Array; checkedAgainst: string; maxError: number }> {
  const mod = modelModule(g, db, device(t), { name: g.name, banner: [`generated by loopsmith ${loopsmithVersion()} from ${g.name}; do not edit, regenerate with \`loopsmith emit-model\``] });
  const input = fillUniform(g.input.shape.reduce((a, b) => a * b, 1), 7);
  say(`compiling ${g.name} (${mod.schedules.size} kernels) and running it on ${t.threads} thread${t.threads > 1 ? 's' : ''}...`);
  const run = await runModel(mod.c, mod.weights, input, { cc: t.compiler.command, cflags: t.cflags, threads: t.threads, minSeconds });
  const { checkedAgainst, maxError } = await checkOutput(g, bytes, input, run.output, t.threads, say);
  return { mod, run, input, checkedAgainst, maxError };
}

function layerTable(g: ModelGraph, mod: ModelModule, run: ModelRun): string {
  const rows = g.layers.map((l, i) => {
    const s = mod.schedules.get(l.workload.key)!;
    const est = s.gflops ? l.workload.flops / s.gflops / 1e6 : undefined;
    const measured = run.layerMs[i]!;
    return [String(i), l.name.length > 36 ? `${l.name.slice(0, 33)}...` : l.name, l.workload.op.name, est !== undefined ? ms(est) : '-', ms(measured), (l.workload.flops / measured / 1e6).toFixed(1), s.source];
  });
  const estTotal = g.layers.reduce((a, l) => {
    const s = mod.schedules.get(l.workload.key)!;
    return a + (s.gflops ? l.workload.flops / s.gflops / 1e6 : NaN);
  }, 0);
  const sum = run.layerMs.reduce((a, b) => a + b, 0);
  rows.push(['', 'total', '', Number.isNaN(estTotal) ? '-' : ms(estTotal), ms(sum), (graphFlops(g) / sum / 1e6).toFixed(1), '']);
  return table(['#', 'layer', 'op', 'est. ms', 'ms', 'GFLOP/s', 'schedule'], rows);
}

function taskTable(r: TuneModelResult): string {
  const rows = r.tasks.map((t) => [
    t.key.replace(/:f32$/, '').slice(0, 80), String(t.layers), t.before ? (t.flops / t.before / 1e9).toFixed(1) : '-', t.after ? (t.flops / t.after / 1e9).toFixed(1) : '-', t.spent.toFixed(0), String(t.slices),
  ]);
  return table(['task', 'layers', 'GFLOP/s before', 'after', 'tuned s', 'slices'], rows);
}

const withModelOptions = (a: Argv) => a
  .positional('file', { type: 'string', describe: 'an ONNX model (.onnx)' })
  .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file: each task\'s best schedule comes from it' })
  .option('threads', { type: 'string', default: '1', describe: 'OpenMP threads (a device of its own in the records)' })
  .option('layout', { type: 'string', default: 'nchw', describe: `activation layout of the layers: ${LAYOUT_CHOICES.join(', ')} (nhwc: channels innermost; nchw16c / nchw8c: channels in blocks stored innermost, a conv whose channels do not fill them falls back; auto: the block as wide as this CPU's vectors when the whole chain stays in it, else NCHW; NCHW for WebGPU); relayout layers join the chain where layouts change. Tune and emit with the same --layout` })
  .option('json', { type: 'boolean', describe: 'machine-readable output' });

function needFile(argv: { file?: unknown }, cmd: string): string {
  if (typeof argv.file !== 'string' || !argv.file) throw new InputError(`${cmd} needs an ONNX model file; run \`loopsmith ${cmd} --help\` for what it takes`);
  return argv.file;
}

interface EmittedModel {
  readonly files: Record<string, string>;
  readonly weights: Float32Array;
  readonly schedules: ReadonlyMap<string, TaskSchedule>;
  readonly medianMs: number;
  readonly device: string;
  readonly checkedAgainst: string;
  readonly maxError: number;
  /** The per-layer table (C only), with its line break. */
  readonly table: string;
}

async function emitC(g: ModelGraph, bytes: Uint8Array, db: RecordStore, threads: number, say: (l: string) => void): Promise<EmittedModel> {
  const target = cTarget(threads);
  const built = await buildAndCheck(g, bytes, db, target, 1, say);
  return {
    files: { [`${g.name}.c`]: built.mod.c.source, [`${g.name}.h`]: built.mod.c.header }, weights: built.mod.weights, schedules: built.mod.schedules,
    medianMs: built.run.medianMs, device: target.description, checkedAgainst: built.checkedAgainst, maxError: built.maxError, table: `${layerTable(g, built.mod, built.run)}\n`,
  };
}

/** The WebGPU module, run through its own load/run on this machine's adapter and checked before it is written. */
async function emitTs(g: ModelGraph, bytes: Uint8Array, db: RecordStore, say: (l: string) => void): Promise<EmittedModel> {
  const t = await openTarget('webgpu');
  let mod: ModelModuleTs;
  try {
    mod = modelModuleTs(g, db, { kind: t.name, key: t.fingerprint.key, spaceTarget: t.spaceTarget, compatible: (o) => t.compatible(o), ...(t.defaultTrace ? { defaultTrace: (p, k) => t.defaultTrace!(p, k) } : {}) }, {
      banner: [`generated by loopsmith ${loopsmithVersion()} from ${g.name}; do not edit, regenerate with \`loopsmith emit-model --lang ts\``],
    });
  } finally {
    await t.close();
  }
  const input = fillUniform(g.input.shape.reduce((a, b) => a * b, 1), 7);
  say(`running ${g.name} (${mod.schedules.size} kernels) on WebGPU (${t.description})...`);
  const run = await runModelWebGpu(mod.ts, mod.weights, input, { minSeconds: 1 });
  const { checkedAgainst, maxError } = await checkOutput(g, bytes, input, run.output, 1, say);
  return { files: { [`${g.name}.ts`]: mod.ts.source }, weights: mod.weights, schedules: mod.schedules, medianMs: run.medianMs, device: `WebGPU (${t.description})`, checkedAgainst, maxError, table: '' };
}

export function modelCommand(y: Argv): Argv {
  return y.command(
    'model <action> [file]',
    'Import an ONNX model: its layers as loopsmith operators (fused), and its tasks',
    (a) => withModelOptions(a.positional('action', { type: 'string', choices: ['import'], describe: 'import: list the layers and tasks' }))
      .example('$0 model import resnet18.onnx', 'ResNet-18 as 23 fused layers and 21 tasks')
      .epilogue('Imports Conv (dense, grouped, depthwise, strided, dilated), Gemm, MatMul, BatchNormalization (folded), Relu, Clip(0, 6), Add (fused into the Conv before it), MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Identity, Dropout; any other node is named in one line. `npm run models:generate -- --out DIR` writes ResNet-18 and MobileNetV2 to try.'),
    (argv) => {
      const { graph, layout } = loadModel(needFile(argv, 'model import'), argv, cpuLanes());
      if (argv.json) {
        process.stdout.write(JSON.stringify({
          name: graph.name, layout, input: graph.input, output: graph.output, gflop: graphFlops(graph) / 1e9,
          layers: graph.layers.map((l) => ({ name: l.name, workload: l.workload.key, inputs: l.inputs, output: l.output })),
          tasks: graphTasks(graph).map((t) => ({ workload: t.workload.key, layers: t.layers.length })),
        }, null, 2) + '\n');
        return;
      }
      process.stdout.write(describeGraph(graph, layout));
    },
  ).command(
    'tune-model [file]',
    'Tune every task of an ONNX model under one time budget, then build and measure the whole model',
    (a) => withModelOptions(a)
      .option('time-budget', { type: 'string', default: '20m', describe: 'for the whole model: 90, 90s, 20m, 1.5h' })
      .option('target', { type: 'string', default: 'c', describe: 'c (the CPU; --threads) or webgpu (then: emit-model --lang ts)' })
      .option('strategy', { type: 'string', default: 'flex', describe: `search strategy of each slice: ${STRATEGIES.join(', ')}` })
      .option('seed', { type: 'string', default: '1', describe: 'search seed (the same seed continues a task\'s search)' })
      .option('starting-points', { type: 'string', default: '8', describe: 'known-good schedules measured first in each task (0: none)' })
      .example('$0 tune-model resnet18.onnx --time-budget 20m --records rn18.jsonl', 'spend 20 minutes where they shorten the model most')
      .epilogue('The budget goes a slice at a time to the task (distinct layer shape) with the largest expected gain: its share of the model\'s time, how fast it still improves, how far it is below similar tasks. Every measurement is appended to --records; a journal beside it (RECORDS.tune-model.jsonl) counts the budget spent, so a killed run started again spends only what is left and measures nothing twice.'),
    async (argv) => {
      const file = needFile(argv, 'tune-model');
      const budget = durationOption('time-budget', argv['time-budget']);
      const strategy = String(argv.strategy);
      if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new InputError(`unknown strategy '${strategy}'; strategies: ${STRATEGIES.join(', ')}`);
      const targetName = String(argv.target ?? 'c');
      if (targetName !== 'c' && targetName !== 'webgpu') throw new InputError(`--target must be c or webgpu, got '${targetName}'`);
      const { graph, bytes, layout } = loadModel(file, argv, targetName === 'c' ? cpuLanes() : 0);
      const db = new RecordStore(String(argv.records));
      db.load();
      if (targetName === 'webgpu' && String(argv.threads) !== '1') throw new InputError('--threads is the C target\'s; WebGPU tunes take none');
      const target: Target = targetName === 'c' ? cTarget(threadsOf(argv)) : createTarget('webgpu');
      const evaluator = new TargetEvaluator(target);
      const { stop, release } = stopOnSigint('slice');
      let result: TuneModelResult;
      try {
        await target.open();
        process.stderr.write(`tuning ${graph.name} (${graph.layers.length} layers, ${graphTasks(graph).length} tasks, layout ${layout}) on ${target.description} for ${budget} s; records ${db.path}\n`);
        result = await tuneModel(graph, evaluator, {
          records: db, budgetSeconds: budget, strategy: strategy as StrategyName, seed: integerOption('seed', argv.seed, 0), version: loopsmithVersion(), stop,
          startingPoints: integerOption('starting-points', argv['starting-points'], 0), say: (l) => process.stderr.write(l + '\n'),
        });
      } finally {
        release();
        await evaluator.close();
      }
      const say = (l: string) => process.stderr.write(l + '\n');
      const tuned = new RecordStore(db.path);
      const next = `Next: loopsmith emit-model ${file} --records ${db.path}${targetName === 'webgpu' ? ' --lang ts' : ''}${layout === 'nchw' ? '' : ` --layout ${layout}`} --out DIR`;
      const tuneNote = `tuned ${result.seconds.toFixed(0)} s now${result.earlierSeconds ? ` + ${result.earlierSeconds.toFixed(0)} s earlier` : ''}`;
      if (target instanceof CTarget) {
        const built = await buildAndCheck(graph, bytes, tuned, target, 2, say);
        // A time alone says little on a shared host (the same module measured 21 and 29 ms minutes
        // apart): ONNX Runtime timed right after on the same input and threads makes it a ratio.
        const ortMs = await ortTime(graph, bytes, built.input, target.threads);
        const vsOrt = ortMs !== undefined ? `; ONNX Runtime ${ms(ortMs)} ms right after on the same input (loopsmith ${(ortMs / built.run.medianMs).toFixed(2)}x)` : '';
        if (argv.json) {
          process.stdout.write(JSON.stringify({ model: graph.name, device: target.fingerprint.key, ...result, medianMs: built.run.medianMs, ...(ortMs !== undefined ? { ortMs } : {}), layerMs: built.run.layerMs, checkedAgainst: built.checkedAgainst, maxError: built.maxError }, null, 2) + '\n');
        } else {
          process.stdout.write(`${taskTable(result)}\n\n${layerTable(graph, built.mod, built.run)}\n`
            + `${graph.name} on ${target.description}: ${ms(built.run.medianMs)} ms per inference (median of ${built.run.runs})${vsOrt}, output within ${built.maxError.toExponential(1)} of ${built.checkedAgainst}'s; ${tuneNote}. ${next}\n`);
        }
      } else {
        const e = await emitTs(graph, bytes, tuned, say);
        if (argv.json) {
          process.stdout.write(JSON.stringify({ model: graph.name, device: target.fingerprint.key, ...result, medianMs: e.medianMs, checkedAgainst: e.checkedAgainst, maxError: e.maxError }, null, 2) + '\n');
        } else {
          process.stdout.write(`${taskTable(result)}\n\n${graph.name} on ${e.device}: ${ms(e.medianMs)} ms per inference (upload, every layer, read back), output within ${e.maxError.toExponential(1)} of ${e.checkedAgainst}'s; ${tuneNote}. ${next}\n`);
        }
      }
      if (result.stoppedBy === 'interrupted') process.exitCode = 130;
    },
  ).command(
    'emit-model [file]',
    'Write one C file (or, with --lang ts, one TypeScript module for WebGPU) for a whole ONNX model, checked end to end first',
    (a) => withModelOptions(a)
      .option('out', { type: 'string', demandOption: true, describe: 'directory for NAME.c, NAME.h and NAME.weights' })
      .option('name', { type: 'string', describe: 'C identifier prefix and file stem (default: the file\'s stem)' })
      .option('lang', { type: 'string', default: 'c', describe: 'c: NAME.c + NAME.h for the CPU; ts: NAME.ts, a TypeScript module for WebGPU (load(device, weights), run(input)); both with NAME.weights' })
      .example('$0 emit-model resnet18.onnx --records rn18.jsonl --out build/', 'build/resnet18.{c,h,weights}')
      .example('$0 emit-model resnet18.onnx --lang ts --out web/', 'web/resnet18.{ts,weights}, checked on this machine\'s WebGPU adapter')
      .epilogue('Each task takes its best record on this device (a compatible device\'s, with a warning), else its expert schedule, else the plain loop nest. Before anything is written the module is compiled, run on a seeded input and compared with ONNX Runtime\'s output (loopsmith\'s reference executor where onnxruntime-node is not installed).'),
    async (argv) => {
      const file = needFile(argv, 'emit-model');
      const name = argv.name === undefined ? undefined : String(argv.name);
      if (name !== undefined && !KERNEL_NAME.safeParse(name).success) throw new InputError(`--name '${name}' is not legal: ${KERNEL_NAME_LEGAL}`);
      const out = String(argv.out);
      const lang = String(argv.lang);
      if (lang !== 'c' && lang !== 'ts') throw new InputError(`--lang must be c or ts, got '${lang}'`);
      const { graph, bytes } = loadModel(file, argv, lang === 'c' ? cpuLanes() : 0, name);
      const files = lang === 'c' ? [`${graph.name}.c`, `${graph.name}.h`, `${graph.name}.weights`] : [`${graph.name}.ts`, `${graph.name}.weights`];
      checkOutputDirectory(out, files);
      const db = new RecordStore(String(argv.records));
      for (const w of db.load().warnings) process.stderr.write(`warning: ${w}\n`);
      const say = (l: string) => process.stderr.write(l + '\n');
      const emitted = lang === 'c' ? await emitC(graph, bytes, db, threadsOf(argv), say) : await emitTs(graph, bytes, db, say);
      const w = emitted.weights;
      const written = writeFiles(out, { ...emitted.files, [`${graph.name}.weights`]: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) });
      const sources = [...emitted.schedules.values()].reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.source]: (acc[s.source] ?? 0) + 1 }), {});
      if (argv.json) {
        process.stdout.write(JSON.stringify({ model: graph.name, files: written, schedules: sources, medianMs: emitted.medianMs, checkedAgainst: emitted.checkedAgainst, maxError: emitted.maxError }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`${emitted.table}${graph.name}: ${ms(emitted.medianMs)} ms per inference on ${emitted.device}; output within ${emitted.maxError.toExponential(1)} of ${emitted.checkedAgainst}'s\n`
        + `schedules: ${Object.entries(sources).map(([k, n]) => `${n} ${k}`).join(', ')}\n${written.map((f) => `  wrote ${f}`).join('\n')}\n`);
      if (sources.expert || sources.default) process.stderr.write(`note: ${(sources.expert ?? 0) + (sources.default ?? 0)} of ${emitted.schedules.size} tasks have no record on this device; loopsmith tune-model ${file} --records ${db.path}${lang === 'ts' ? ' --target webgpu' : ''} tunes them\n`);
    },
  );
}

