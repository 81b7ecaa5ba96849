import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { InputError } from '../../ir/errors.js';
import { Workload, lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace, trace } from '../../scheduler/trace.js';
import { Artifacts, LANGUAGES, Language, artifacts } from '../../codegen/artifacts.js';
import { targetDefinition, targetForLanguage, targetNames } from '../../targets/registry.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { traceHash } from '../../tuner/space.js';
import { loadSchedule } from '../schedule-file.js';
import { workloadFromArgv } from '../params.js';
import { checkOutputDirectory, refuseOverwritingInputs, writeFiles } from '../output-files.js';
import { join } from 'node:path';
import { TargetSet } from '../target-set.js';
import { refuseOtherTargetsOptions, targetArgNames, withEveryTargetsOptions } from '../target-args.js';
import { KernelToVerify, verifyKernel } from '../verify-kernel.js';
import { emitForDevices, parseDevices, verifyVariants } from '../device-variants.js';
import { KERNEL_NAME, KERNEL_NAME_LEGAL } from '../manifest.js';
import { argument } from '../../ir/schema.js';
import { deviceLabel } from '../../tuner/devices.js';

export interface EmitRequest {
  readonly workload: Workload;
  readonly lang: Language;
  /** The target whose records choose the schedule and that verifies the kernel. */
  readonly target: string;
  readonly name: string;
  readonly schedule?: string;
  readonly records: string;
  readonly fallback: boolean;
  readonly warn: (s: string) => void;
}

export interface Emitted extends KernelToVerify {
  readonly files: Artifacts;
  /** The record whose schedule was emitted (RecordStore's best for the device, or a compatible device's); absent for a schedule file or the default. */
  readonly recordId?: string;
}

/** The target that runs `lang`: the one named (which must run it), else the first that does. */
export function targetFor(lang: Language, named?: string): string {
  if (named === undefined) return targetForLanguage(lang).name;
  const runs = targetDefinition(named).languages;
  if (!runs.includes(lang)) throw new InputError(`target ${named} does not run ${lang}; targets that do: ${targetNames().filter((n) => targetDefinition(n).languages.includes(lang)).join(', ')}`);
  return named;
}

/** Chooses the schedule (file, best record for this device, or the default when allowed) and renders. */
export async function emitArtifacts(req: EmitRequest, targets: TargetSet): Promise<Emitted> {
  const w = req.workload;
  const base = lowerWorkload(w);
  let t: Trace;
  let origin: string;
  let recordId: string | undefined;
  if (req.schedule) {
    t = loadSchedule(req.schedule);
    origin = `schedule file ${req.schedule}`;
  } else {
    const db = new RecordStore(req.records);
    for (const warning of db.load().warnings) req.warn(warning);
    const target = await targets.opened(req.target);
    const { key } = target.fingerprint;
    const hit = db.bestWithFallback(w.key, { kind: target.name, key }, (f) => target.compatible(f));
    for (const warning of db.passedOverWarnings()) req.warn(warning);
    if (hit) {
      t = hit.record.trace;
      recordId = hit.record.id;
      origin = `record ${hit.record.id}, ${hit.record.outcome.gflops?.toFixed(2)} GFLOP/s${hit.match === 'compatible' ? ' on a compatible device' : ''}`;
      if (hit.match === 'compatible') {
        const { kind, fingerprint: fp } = hit.record.target;
        req.warn(`no record for this device (${key}, ${deviceLabel(target.name, target.fingerprint)}); using record ${hit.record.id} from a compatible ${target.name} device (${fp.key}, ${deviceLabel(kind, fp)})`);
      }
    } else if (req.fallback) {
      t = target.defaultTrace?.(base, w.key) ?? trace([], w.key);
      origin = 'default schedule (no record)';
      req.warn(`no tuning record for ${w.key} on this device in ${db.path}; emitting the default schedule`);
    } else {
      throw new InputError(`no tuning record for ${w.key} on this device (${key}) in ${db.path}; run \`loopsmith tune\` first, pass --schedule, or --fallback for the default schedule`);
    }
  }
  const p = applyTrace(base, t, { workload: w.key });
  // C vector types are sized to the CPU's lanes; the other languages do not use them.
  const lanes = req.lang === 'c' ? targets.target(req.target).spaceTarget.lanes : 1;
  const files = artifacts(req.lang, p, { name: req.name, workload: w.key, traceHash: traceHash(t), origin, lanes });
  return { files, origin, ...(recordId !== undefined ? { recordId } : {}), workload: w, unscheduled: base, program: p, trace: t };
}

export function emitCommand(y: Argv): Argv {
  return operatorCommand(y, 'emit', {
    describe: 'Write the kernel for this device as C (.c/.h), WGSL (.wgsl + manifest) or a typed TypeScript module, verified on this machine first',
    json: 'list the written files as JSON',
    options: (a) => withEveryTargetsOptions(a
      .option('lang', { type: 'string', default: 'c', describe: `output language: ${LANGUAGES.join(', ')} (c runs on the CPU, wgsl and ts on WebGPU)` })
      .option('target', { type: 'string', describe: 'the target that verifies the kernel and whose records choose it (default: the one that runs --lang)' })
      .option('out', { type: 'string', default: '.', describe: 'directory to write into' })
      .option('name', { type: 'string', describe: 'kernel and file name (default: the op name)' })
      .option('schedule', { type: 'string', describe: 'a schedule trace to use instead of the best record' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file to take the best schedule from' })
      .option('fallback', { type: 'boolean', default: false, describe: 'with no record for this device, emit the default schedule (with a warning)' })
      .option('devices', { type: 'string', describe: 'one module for many devices: "all" devices with records of this workload, or fingerprint keys (or unique prefixes) separated by commas; --lang ts: a WGSL variant per device and a selector, --lang c: a variant per ISA level and a load-time dispatcher' })
      .option('verify', { type: 'boolean', default: true, describe: 'run the kernel on this machine and compare it with the reference before writing it (--no-verify: write it unchecked)' }))
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang c --out src/kernels', 'the tuned GEMM as gemm.c and gemm.h')
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang ts --fallback', 'a TypeScript module with the WGSL and a dispatch() helper')
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang ts --devices all', 'one module with the variant tuned on each GPU in the records, picked at run time')
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang c --devices all', 'one .c with AVX-512, AVX2, ... variants and a scalar fallback, picked at load time')
      .epilogue('Exit codes: 0 written, 1 the kernel failed verification (nothing written), 2 bad input.'),
    handler: async (argv) => {
      const lang = String(argv.lang);
      if (!(LANGUAGES as readonly string[]).includes(lang)) throw new InputError(`unknown language '${lang}'; languages: ${LANGUAGES.join(', ')}`);
      const target = targetFor(lang as Language, argv.target === undefined ? undefined : String(argv.target));
      // --devices verifies on every target it has variants for; one target's options are then each target's own.
      if (argv.devices === undefined) refuseOtherTargetsOptions(argv, target);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'lang', 'out', 'name', 'schedule', 'records', 'fallback', 'verify', 'devices']);
      // Checked, not made into an identifier behind the user's back (`--name ../x` would write x.c).
      const name = argv.name === undefined ? w.op.name : argument('name', argv.name, KERNEL_NAME, KERNEL_NAME_LEGAL, (m) => {
        throw new InputError(m);
      });
      const out = String(argv.out);
      checkOutputDirectory(out);
      const targets = new TargetSet(argv);
      const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
      if (argv.devices !== undefined) {
        if (argv.schedule) throw new InputError('--devices takes each device\'s schedule from the records; --schedule names one schedule for one device');
        const devices = parseDevices(argv.devices);
        try {
          const emitted = await emitForDevices({ workload: w, lang: lang as Language, name, records: String(argv.records), devices, fallback: Boolean(argv.fallback), warn }, targets);
          if (argv.verify) await verifyVariants(targets, target, emitted, warn);
          const written = writeFiles(out, emitted.files);
          if (argv.json) process.stdout.write(JSON.stringify({ workload: w.key, lang, origin: emitted.origin, verified: Boolean(argv.verify), files: written }, null, 2) + '\n');
          else process.stdout.write(`${w.key} (variants: ${emitted.origin}${argv.verify ? '' : '; not verified'}):\n${written.map((f) => `  wrote ${f}`).join('\n')}\n`);
        } finally {
          await targets.close();
        }
        return;
      }
      try {
        const emitted = await emitArtifacts({
          workload: w, lang: lang as Language, target, name, records: String(argv.records), fallback: Boolean(argv.fallback),
          ...(argv.schedule ? { schedule: String(argv.schedule) } : {}),
          warn,
        }, targets);
        // `--lang wgsl --name gemm` writes gemm.json: never over the schedule it was made from.
        if (argv.schedule) for (const f of Object.keys(emitted.files)) refuseOverwritingInputs(join(out, f), [{ path: String(argv.schedule), what: 'the schedule file' }]);
        if (argv.verify) await verifyKernel(targets, target, emitted);
        const written = writeFiles(out, emitted.files);
        if (argv.json) process.stdout.write(JSON.stringify({ workload: w.key, lang, origin: emitted.origin, record: emitted.recordId ?? null, verified: Boolean(argv.verify), files: written }, null, 2) + '\n');
        else process.stdout.write(`${w.key} (${emitted.origin}${argv.verify ? '' : ', not verified'}):\n${written.map((f) => `  wrote ${f}`).join('\n')}\n`);
      } finally {
        await targets.close();
      }
    },
  });
}
