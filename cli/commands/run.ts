import type { Argv } from 'yargs';
import { InputError } from '../../ir/errors.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { CpuTarget } from '../../targets/c/target.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';
import { Measurement } from '../../targets/measurement.js';
import { loadSchedule } from '../schedule-file.js';
import { workloadFromArgv } from '../params.js';
import { formatMeasurement } from '../format.js';

const TARGETS = ['c', 'webgpu'] as const;

export function runCommand(y: Argv): Argv {
  return y.command(
    'run <op>',
    'Compile an operator (optionally scheduled), check it against the reference and time it',
    (a) => a
      .positional('op', { type: 'string', describe: 'operator name (see `loopsmith ops`)' })
      .option('target', { type: 'string', default: 'c', describe: `where to run: ${TARGETS.join(', ')}` })
      .option('schedule', { type: 'string', describe: 'a schedule trace (JSON); without it the CPU runs the loop nest as lowered and the GPU one invocation per output' })
      .option('emit', { type: 'boolean', describe: 'print the generated kernel source (C or WGSL) instead of running it' })
      .option('cc', { type: 'string', default: 'cc', describe: 'C compiler (gcc, clang, ...)' })
      .option('cflags', { type: 'string', describe: 'compiler flags, space-separated (default: -O3 -march=native ... for this CPU)' })
      .option('threads', { type: 'string', default: '1', describe: 'OpenMP threads for parallel loops' })
      .option('seed', { type: 'string', default: '1', describe: 'seed for the input data' })
      .option('min-time', { type: 'string', default: '0.3', describe: 'seconds of timed runs, at least 3 runs' })
      .option('json', { type: 'boolean', describe: 'machine-readable output' })
      .option('dtype', { type: 'string', default: 'f32', describe: 'element type' })
      .example('$0 run gemm --m 512 --n 512 --k 512', 'the naive loop nest, checked and timed')
      .example('$0 run gemm --m 1024 --n 1024 --k 1024 --schedule scheduler/fixtures/gemm-cpu-1024.json --threads 2', 'the expert schedule on two threads')
      .example('$0 run conv2d --n 1 --c 8 --h 16 --w 16 --k 8 --kh 3 --kw 3 --pad 1 --emit', 'print the C source')
      .example('$0 run gemm --m 1024 --n 1024 --k 1024 --target webgpu --schedule scheduler/fixtures/gemm-gpu-registers-1024.json', 'on the WebGPU device')
      .epilogue('Exit codes: 0 when the kernel is correct, 1 when it is not (compile error, crash, timeout, wrong answer), 2 for bad input.'),
    async (argv) => {
      const target = String(argv.target);
      if (!(TARGETS as readonly string[]).includes(target)) throw new InputError(`unknown target '${target}'; targets: ${TARGETS.join(', ')}`);
      const w = workloadFromArgv(argv, ['target', 'emit', 'cc', 'cflags', 'threads', 'seed', 'min-time']);
      const int = (name: string, v: unknown, min: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new InputError(`--${name} must be an integer of at least ${min}, got '${String(v)}'`);
        return n;
      };
      const minTime = Number(argv['min-time']);
      if (!(minTime > 0)) throw new InputError(`--min-time must be a positive number of seconds, got '${String(argv['min-time'])}'`);
      const base = lowerWorkload(w);
      // Unscheduled, a GPU nest would run in one invocation: without a schedule the GPU gets the
      // default one (one invocation per output element), the CPU runs the nest as lowered.
      const t = argv.schedule ? loadSchedule(String(argv.schedule)) : target === 'webgpu' ? defaultGpuTrace(base, 64, w.key) : undefined;
      const p = t ? applyTrace(base, t, { workload: w.key }) : base;
      const seed = int('seed', argv.seed, 0);
      let m: Measurement;
      let device: Record<string, unknown>;
      if (target === 'webgpu') {
        const gpu = new WebGpuTarget({ seed, minSeconds: minTime });
        const cand = gpu.candidate(p);
        if (argv.emit) {
          process.stdout.write(cand.kernel.source);
          process.stdout.write(`// bindings: ${JSON.stringify(cand.kernel.bindings.map((b) => ({ binding: b.binding, name: b.name, role: b.role, elements: b.elements })))}\n`);
          process.stdout.write(`// entry points, in dispatch order: ${JSON.stringify(cand.kernel.entries)}\n`);
          return;
        }
        try {
          const caps = await gpu.open();
          if (!argv.json) process.stderr.write(`compiling and checking ${w.key} on ${caps.description}...\n`);
          m = await gpu.measure(cand, { key: w.key, unscheduled: base, flops: w.flops });
          device = { fingerprint: gpu.fingerprint };
        } finally {
          await gpu.close();
        }
      } else {
        const cpu = new CpuTarget({
          cc: String(argv.cc), threads: int('threads', argv.threads, 1), seed, minSeconds: minTime,
          ...(argv.cflags ? { cflags: String(argv.cflags).split(/\s+/).filter(Boolean) } : {}),
        });
        const cand = cpu.candidate(p);
        if (argv.emit) {
          process.stdout.write(cand.kernel.source);
          return;
        }
        if (!argv.json) process.stderr.write(`compiling and checking ${w.key} on ${cpu.cpu.model} (${cpu.compiler.command} ${cpu.compiler.version}, ${cpu.opts.threads} thread${cpu.opts.threads > 1 ? 's' : ''})...\n`);
        m = await cpu.measure(cand, { key: w.key, unscheduled: base, flops: w.flops });
        device = { fingerprint: cpu.fingerprint, threads: cpu.opts.threads };
      }
      if (argv.json) {
        process.stdout.write(JSON.stringify({ workload: w.key, target, ...device, schedule: t ?? null, ...m }, null, 2) + '\n');
      } else {
        process.stdout.write(formatMeasurement(w.key, m) + '\n');
      }
      if (m.status !== 'ok') process.exitCode = 1;
    },
  );
}
