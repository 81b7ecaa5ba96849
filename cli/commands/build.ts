import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { LoopsmithError, RunError } from '../../ir/errors.js';
import { openTarget } from '../../targets/registry.js';
import { integerOption } from '../../targets/target.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { RecordStore, loopsmithVersion } from '../../tuner/records.js';
import { tune } from '../../tuner/tune.js';
import { InputKind, readInputFile } from '../../tuner/input-file.js';
import { checkOutputDirectory, refuseOverwritingInputs, writeFiles } from '../output-files.js';
import { TargetSet } from '../target-set.js';
import { withEveryTargetsOptions } from '../target-args.js';
import { verifyKernel } from '../verify-kernel.js';
import { emitArtifacts } from './emit.js';
import { emitForDevices, verifyVariants } from '../device-variants.js';
import { readManifest } from '../manifest.js';

/** A generated file as it is now, to compare: C of a big unrolled kernel is still far below this. */
const GENERATED_FILE: InputKind = { what: 'generated file', maxBytes: 64 << 20, legal: 'it is rewritten whole' };

/** The file as it is now; anything unreadable (missing, a directory, a FIFO: never opened) counts as stale. */
function currentText(path: string): string | undefined {
  try {
    return readInputFile(path, GENERATED_FILE);
  } catch {
    return undefined;
  }
}

export function buildCommand(y: Argv): Argv {
  return y.command(
    'build <manifest>',
    'Generate every kernel a project lists in its manifest (a codegen step for build pipelines), verified on this machine first',
    (a) => withEveryTargetsOptions(a
      .positional('manifest', { type: 'string', describe: 'kernels.json: {"records": "...", "kernels": [{"name", "op", "params", "target", "language", "out", "schedule"?, "fallback"?, "devices"?, "verify"?}]}; "devices": "all" or a list of fingerprint keys makes one module with a variant per device' })
      .option('check', { type: 'boolean', describe: 'write nothing; exit 1 when a generated file is missing or out of date (for CI)' })
      .option('tune-missing', { type: 'boolean', describe: 'tune the kernels that have no record for this device' })
      .option('trials', { type: 'string', default: '60', describe: 'trials per kernel with --tune-missing' })
      .option('fallback', { type: 'boolean', describe: 'use the default schedule for kernels with no record (with a warning)' })
      .option('verify', { type: 'boolean', default: true, describe: 'run each kernel to be written on this machine and compare it with the reference first (--no-verify, or "verify": false on a kernel, skips it)' })
      .option('allow-outside', { type: 'boolean', describe: 'allow "out" folders outside the manifest\'s folder' })
      .option('json', { type: 'boolean', describe: 'machine-readable output' }))
      .example('$0 build kernels.json', 'write every kernel')
      .example('$0 build kernels.json --check', 'in CI: fail when the generated files are stale')
      .example('$0 build kernels.json --tune-missing --trials 100', 'tune what this device has no record for, then write')
      .epilogue('Files are rewritten only when their content changes, so make and other incremental tools see real changes only; only those kernels are verified.\nWhen a kernel fails verification nothing is written.\nExit codes: 0 ok (or up to date), 1 stale files with --check or a kernel that failed verification, 2 bad input.'),
    async (argv) => {
      const manifest = readManifest(String(argv.manifest), Boolean(argv['allow-outside']));
      const trials = integerOption('trials', argv.trials, 1);
      if (!argv.check) for (const k of manifest.kernels) checkOutputDirectory(k.out);
      const db = new RecordStore(manifest.records);
      const targets = new TargetSet(argv);
      const report: { name: string; files: string[]; stale: string[]; origin: string; out: string; texts: Record<string, string> }[] = [];
      const failures: string[] = [];
      try {
        for (const k of manifest.kernels) {
          const w = k.workload;
          if (!k.schedule && argv['tune-missing']) {
            const evaluator = new TargetEvaluator(await openTarget(k.target, { settings: { minSeconds: 0.1 }, options: argv }));
            try {
              if (!db.best(w.key, evaluator.fingerprint.key)) {
                process.stderr.write(`tuning ${k.name} (${w.key}) on ${k.target}, ${trials} trials...\n`);
                await tune(w, evaluator, { strategy: 'flex', trials, seed: 1, records: db, version: loopsmithVersion() });
              }
            } finally {
              await evaluator.close();
            }
          }
          const warn = (s: string) => process.stderr.write(`warning: ${k.name}: ${s}\n`);
          let many: Awaited<ReturnType<typeof emitForDevices>> | undefined, one: Awaited<ReturnType<typeof emitArtifacts>> | undefined;
          try {
            many = k.devices ? await emitForDevices({ workload: w, lang: k.language, name: k.name, records: manifest.records, devices: k.devices, fallback: Boolean(k.fallback || argv.fallback), warn }, targets) : undefined;
            one = many ? undefined : await emitArtifacts({
              workload: w, lang: k.language, target: k.target, name: k.name, records: manifest.records, fallback: Boolean(k.fallback || argv.fallback),
              ...(k.schedule ? { schedule: k.schedule } : {}), warn,
            }, targets);
          } catch (e) {
            // Bad input of one kernel (its schedule, its records) says which kernel; its class (exit code) stays.
            if (e instanceof LoopsmithError && !(e instanceof RunError)) e.message = `${String(argv.manifest)}: kernel ${k.name}: ${e.message}`;
            throw e;
          }
          const emitted = many ? { files: many.files, origin: `variants: ${many.origin}` } : one!;
          const files = Object.keys(emitted.files).map((f) => resolve(k.out, f));
          // A generated file must not land on what the build reads (a kernel "kernels" in WGSL writes kernels.json).
          const inputs = [
            { path: String(argv.manifest), what: 'the manifest' }, { path: manifest.records, what: 'the records file' },
            ...manifest.kernels.flatMap((x) => (x.schedule ? [{ path: x.schedule, what: `the schedule of kernel ${x.name}` }] : [])),
          ];
          for (const f of files) refuseOverwritingInputs(f, inputs);
          const staleNames = Object.keys(emitted.files).filter((f) => currentText(resolve(k.out, f)) !== emitted.files[f]);
          report.push({
            name: k.name, files, stale: staleNames.map((f) => resolve(k.out, f)), origin: emitted.origin, out: k.out,
            texts: Object.fromEntries(staleNames.map((f) => [f, emitted.files[f]!])),
          });
          if (argv.check || !staleNames.length || !k.verify || !argv.verify) continue;
          try {
            if (many) await verifyVariants(targets, k.target, many, warn, `${k.name}: `);
            else await verifyKernel(targets, k.target, one!, `${k.name}: `);
          } catch (e) {
            if (!(e instanceof RunError)) throw e;
            failures.push(e.message);
          }
        }
      } finally {
        await targets.close();
      }
      if (failures.length) {
        for (const f of failures) process.stderr.write(`loopsmith: ${f}\n`);
        if (argv.json) process.stdout.write(JSON.stringify({ check: false, kernels: [], failures }, null, 2) + '\n');
        process.exitCode = 1;
        return;
      }
      if (!argv.check) for (const r of report) if (r.stale.length) writeFiles(r.out, r.texts);
      const stale = report.flatMap((r) => r.stale);
      if (argv.json) process.stdout.write(JSON.stringify({ check: Boolean(argv.check), kernels: report.map(({ name, files, stale: s, origin }) => ({ name, files, stale: s, origin })) }, null, 2) + '\n');
      else if (argv.check) process.stdout.write(stale.length ? `out of date:\n${stale.map((s) => `  ${s}`).join('\n')}\nrun \`loopsmith build ${String(argv.manifest)}\` to regenerate\n` : `all ${report.reduce((n, r) => n + r.files.length, 0)} generated files are up to date\n`);
      else process.stdout.write(report.map((r) => `${r.name} (${r.origin}): ${r.stale.length ? `wrote ${r.stale.join(', ')}` : 'up to date'}`).join('\n') + '\n');
      if (argv.check && stale.length) process.exitCode = 1;
    },
  );
}
