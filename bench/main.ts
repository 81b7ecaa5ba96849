/**
 * `npm run bench`: the GEMM and conv benches on the CPU and the WebGPU bench, each against its
 * peer at its best and the device's measured peak, in one run on a quiet machine. Prints the
 * tables and writes bench-results/<fingerprint>/<date>.json (cli/bench-results.ts).
 *
 *   npm run bench -- [--quick] [--only gemm,conv,webgpu] [--ignore-load] [--max-wait 600] [--out bench-results] [--json]
 *   npm run bench:conv   (= --only conv --suite: every layer of bench/conv-layers.ts, CPU and WebGPU)
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BENCH_FORMAT, BenchResult, BenchRow, PeakRow, PeerChoice, SpeedGoal, withRatios, writeBenchResult } from '../cli/bench-results.js';
import { LoopsmithError } from '../ir/errors.js';
import { workload } from '../ir/ops/index.js';
import { CTarget } from '../targets/c/target.js';
import { openTarget } from '../targets/registry.js';
import { RecordStore } from '../tuner/records.js';
import { convCpu } from './conv-cpu.js';
import { convGoals } from './conv-goals.js';
import { CONV_SUITE } from './conv-layers.js';
import { convWebgpu } from './conv-webgpu.js';
import { gemmCpu } from './gemm-cpu.js';
import { LoadGate, loadThresholdFor } from './load-gate.js';
import { OpenBlas } from './openblas.js';
import { OneDnn } from './onednn.js';
import { cpuCopyBandwidth, cpuPeaks } from './peak.js';
import { SectionContext, runSettings } from './section.js';
import { benchTables } from './tables.js';
import { version } from './version.js';
import { webgpu } from './webgpu.js';

const SECTIONS = ['gemm', 'conv', 'webgpu'] as const;
type Section = (typeof SECTIONS)[number];

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('quick', { type: 'boolean', default: false, describe: 'a few short repeats per kernel, no naive baselines: a smoke run, not for comparison' })
    .option('only', { type: 'string', default: SECTIONS.join(','), describe: `sections, comma-separated: ${SECTIONS.join(', ')}` })
    .option('ignore-load', { type: 'boolean', default: false, describe: 'measure even when the machine is busy (the results say "measured under load")' })
    .option('max-wait', { type: 'number', default: 600, describe: 'seconds to wait for a quiet machine before refusing' })
    .option('out', { type: 'string', default: 'bench-results', describe: 'directory of result files' })
    .option('suite', { type: 'boolean', default: false, describe: 'the conv section measures every layer of the conv suite (ResNet, YOLO, MobileNetV2, grouped, transposed) on the CPU, and its WebGPU layers against TensorFlow.js, with the speed targets' })
    .option('layers', { type: 'string', describe: 'conv section: only the suite layers whose label contains one of these comma-separated texts (e.g. "conv5_x,YOLO C15")' })
    .option('records', { type: 'string', describe: 'a records file: each layer also gets a row for its tuned best on this device (loopsmith tune ... --records FILE)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result file to stdout (tables go to stderr)' })
    .strict().help().parseAsync();
  const only = argv.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length || !only.length) throw new LoopsmithError(`--only takes ${SECTIONS.join(', ')}; got '${argv.only}'`);
  const wanted = argv.layers?.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const convLayers = (argv.suite || wanted ? CONV_SUITE : CONV_SUITE.filter((l) => l.short)).filter((l) => !wanted || wanted.some((x) => l.label.toLowerCase().includes(x)));
  if (!convLayers.length) throw new LoopsmithError(`--layers '${argv.layers}' names none of: ${CONV_SUITE.map((l) => l.label).join(', ')}`);
  const log = (s: string) => process.stderr.write(s + '\n');
  const cpu = await openTarget('c');
  if (!(cpu instanceof CTarget)) throw new Error('the registry\'s c target is not the C target');
  const threads = [...new Set([1, cpu.cpu.cores])];
  const gate = new LoadGate({ threshold: loadThresholdFor(cpu.cpu.cores), maxWaitSeconds: argv['max-wait'], pollSeconds: 10, ignore: argv['ignore-load'], log });
  await gate.check('the bench');

  const quick = argv.quick;
  const rows: BenchRow[] = [], peers: PeerChoice[] = [], peaks: PeakRow[] = [], goals: SpeedGoal[] = [];
  let webgpuDevice: Readonly<Record<string, unknown>> | undefined;
  const summary = [...cpu.summary];
  const wants = (s: Section) => only.includes(s);
  const blas = wants('gemm') || wants('conv') ? await OpenBlas.open(cpu.compiler.command, cpu.cpu.flags) : 'not needed';
  const dnnl = wants('conv') ? await OneDnn.open() : 'not needed';
  try {
    if (typeof blas !== 'string') summary.push(`peer ${blas.version}: core types ${blas.configs.map((c) => `${c.label}${c.skip ? ` (skipped: ${c.skip})` : ''}`).join(', ')}`);
    summary.push(typeof dnnl === 'string' ? `peer oneDNN: ${dnnl}` : `peer ${dnnl.version}: at its best (blocked layouts, inputs reordered outside the time) and NC(D)HW in and out (reorders timed)`);
    const records = argv.records !== undefined ? new RecordStore(argv.records) : undefined;
    const ctx: SectionContext = { quick, threads, settings: runSettings(quick), blas, dnnl, log, ...(records ? { records } : {}) };
    if (wants('gemm') || wants('conv')) {
      await gate.check('the CPU peak');
      log(`cpu: FMA peak on ${threads.join(' and ')} threads...`);
      peaks.push(...await cpuPeaks(cpu, threads, quick));
    }
    for (const s of SECTIONS.filter(wants)) {
      await gate.check(`the ${s} section`);
      if (s === 'webgpu') {
        const g = await webgpu(ctx);
        peaks.push(g.peak);
        webgpuDevice = g.device;
        summary.push(...g.summary);
        rows.push(...g.rows);
        peers.push(...g.peers);
      } else if (s === 'gemm') {
        const o = await gemmCpu(ctx);
        rows.push(...o.rows);
        peers.push(...o.peers);
      } else {
        const layers = convLayers;
        const o = await convCpu(ctx, layers);
        rows.push(...o.rows);
        peers.push(...o.peers);
        summary.push(...o.summary ?? []);
        if (argv.suite) {
          await gate.check('the conv suite on WebGPU');
          const g = await convWebgpu(ctx, layers.filter((l) => l.webgpu), !wants('webgpu'));
          rows.push(...g.rows);
          peers.push(...g.peers);
          if (g.peak) peaks.push(g.peak);
        }
        if (argv.suite || argv.layers) goals.push(...convGoals({ rows: withRatios(rows, peaks), layers, threads, ...await depthwiseRoofline(cpu, layers) }));
      }
    }
  } finally {
    if (typeof blas !== 'string') await blas.close();
    if (typeof dnnl !== 'string') await dnnl.close();
  }
  const result: BenchResult = {
    format: BENCH_FORMAT, date: new Date().toISOString(), loopsmith: await version(),
    machine: { fingerprint: cpu.fingerprint.key, cpu: cpu.fingerprint, summary, ...(webgpuDevice ? { webgpu: webgpuDevice } : {}) },
    settings: { quick, only, ignoreLoad: argv['ignore-load'], loadThreshold: gate.options.threshold, loads: gate.seen, measuredUnderLoad: gate.underLoad },
    peaks, peers, rows: withRatios(rows, peaks), ...(goals.length ? { goals } : {}),
  };
  const path = writeBenchResult(argv.out, result);
  (argv.json ? process.stderr : process.stdout).write(`\n${benchTables(result)}\nwrote ${path}\n`);
  if (argv.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/**
 * The depthwise layer's roofline at 1 thread: its compulsory traffic (input and weights read once,
 * output written once) at the read + write bandwidth measured with the same working set.
 */
async function depthwiseRoofline(cpu: CTarget, layers: typeof CONV_SUITE): Promise<{ depthwiseRoofline?: { gflops: number; gbps: number; label: string } }> {
  const dw = layers.find((l) => l.op === 'depthwise_conv2d' && l.params.c === 144);
  if (!dw) return {};
  const p = dw.params, io = p.c! * p.h! * p.w!;
  const bw = await cpuCopyBandwidth(cpu, io, 1);
  if (typeof bw === 'string') return {};
  const w = workload(dw.op, p);
  const bytes = 4 * (2 * io + p.c! * p.kh! * p.kw!);
  return { depthwiseRoofline: { gflops: w.flops / (bytes / (bw.gbps * 1e9)) / 1e9, gbps: bw.gbps, label: `with a ${(8 * io / 2 ** 20).toFixed(1)} MiB working set, 1 thread` } };
}

main().then(
  // TF.js's device and dawn.node's polling would keep the process alive.
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
