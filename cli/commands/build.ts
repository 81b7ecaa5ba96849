import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { InputError } from '../../ir/errors.js';
import { workload } from '../../ir/ops/index.js';
import { LANGUAGES, Language } from '../../codegen/artifacts.js';
import { openTarget, targetDefinition, targetNames } from '../../targets/registry.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { tune } from '../../tuner/tune.js';
import { emitArtifacts } from './emit.js';
import { packageVersion } from './tune.js';

interface KernelSpec {
  name: string;
  op: string;
  params: Record<string, number>;
  target: string;
  language: Language;
  out: string;
  schedule?: string;
  fallback?: boolean;
}

interface Manifest {
  records: string;
  kernels: KernelSpec[];
}

/** Reads and checks a kernels manifest; paths inside it are relative to the manifest's folder. */
function readManifest(path: string): { manifest: Manifest; dir: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read kernels manifest ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const dir = dirname(resolve(path));
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.kernels)) throw new InputError(`${path}: expected {"kernels": [...]} with one entry per kernel`);
  const kernels = o.kernels.map((k: Record<string, unknown>, i: number): KernelSpec => {
    const where = `${path}: kernels[${i}]`;
    for (const f of ['name', 'op', 'out']) if (typeof k[f] !== 'string' || !k[f]) throw new InputError(`${where}: "${f}" must be a non-empty string`);
    if (typeof k.params !== 'object' || k.params === null) throw new InputError(`${where}: "params" must be an object of operator parameters`);
    const target = k.target ?? 'c';
    if (typeof target !== 'string' || !targetNames().includes(target)) throw new InputError(`${where}: "target" must be one of ${targetNames().join(', ')}`);
    const writes = targetDefinition(target).languages;
    if (!writes.length) throw new InputError(`${where}: target ${target} has no kernel language to write; targets that do: ${targetNames().filter((n) => targetDefinition(n).languages.length).join(', ')}`);
    const language = k.language ?? writes[0];
    if (!(LANGUAGES as readonly unknown[]).includes(language)) throw new InputError(`${where}: "language" must be one of ${LANGUAGES.join(', ')}`);
    if (!writes.includes(language as Language)) throw new InputError(`${where}: language ${String(language)} does not run on target ${target} (${target} writes ${writes.join(', ')})`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k.name as string)) throw new InputError(`${where}: "name" must be an identifier (letters, digits, _)`);
    return {
      name: k.name as string, op: k.op as string, params: k.params as Record<string, number>, target, language: language as Language,
      out: join(dir, k.out as string), ...(k.schedule ? { schedule: join(dir, String(k.schedule)) } : {}), ...(k.fallback ? { fallback: true } : {}),
    };
  });
  return { manifest: { records: join(dir, typeof o.records === 'string' ? o.records : DEFAULT_RECORDS_PATH), kernels }, dir };
}

export function buildCommand(y: Argv): Argv {
  return y.command(
    'build <manifest>',
    'Generate every kernel a project lists in its manifest (a codegen step for build pipelines)',
    (a) => a
      .positional('manifest', { type: 'string', describe: 'kernels.json: {"records": "...", "kernels": [{"name", "op", "params", "target", "language", "out", "schedule"?, "fallback"?}]}' })
      .option('check', { type: 'boolean', describe: 'write nothing; exit 1 when a generated file is missing or out of date (for CI)' })
      .option('tune-missing', { type: 'boolean', describe: 'tune the kernels that have no record for this device' })
      .option('trials', { type: 'string', default: '60', describe: 'trials per kernel with --tune-missing' })
      .option('fallback', { type: 'boolean', describe: 'use the default schedule for kernels with no record (with a warning)' })
      .option('json', { type: 'boolean', describe: 'machine-readable output' })
      .example('$0 build kernels.json', 'write every kernel')
      .example('$0 build kernels.json --check', 'in CI: fail when the generated files are stale')
      .example('$0 build kernels.json --tune-missing --trials 100', 'tune what this device has no record for, then write')
      .epilogue('Files are rewritten only when their content changes, so make and other incremental tools see real changes only.\nExit codes: 0 ok (or up to date), 1 stale files with --check, 2 bad input.'),
    async (argv) => {
      const { manifest } = readManifest(String(argv.manifest));
      const trials = Number(argv.trials);
      if (!Number.isInteger(trials) || trials < 1) throw new InputError(`--trials must be an integer of at least 1, got '${String(argv.trials)}'`);
      const db = new RecordStore(manifest.records);
      const report: { name: string; files: string[]; stale: string[]; origin: string }[] = [];
      for (const k of manifest.kernels) {
        const w = workload(k.op, k.params);
        if (!k.schedule && argv['tune-missing']) {
          const evaluator = new TargetEvaluator(await openTarget(k.target, { settings: { minSeconds: 0.1 } }));
          try {
            if (!db.best(w.key, evaluator.fingerprint.key)) {
              process.stderr.write(`tuning ${k.name} (${w.key}) on ${k.target}, ${trials} trials...\n`);
              await tune(w, evaluator, { strategy: 'flex', trials, seed: 1, records: db, version: packageVersion() });
            }
          } finally {
            await evaluator.close();
          }
        }
        const { files, origin } = await emitArtifacts({
          workload: w, lang: k.language, name: k.name, records: manifest.records, fallback: Boolean(k.fallback || argv.fallback),
          ...(k.schedule ? { schedule: k.schedule } : {}), warn: (s) => process.stderr.write(`warning: ${k.name}: ${s}\n`),
        });
        const entry = { name: k.name, files: [] as string[], stale: [] as string[], origin };
        for (const [f, text] of Object.entries(files)) {
          const path = join(k.out, f);
          entry.files.push(path);
          const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
          if (current === text) continue;
          entry.stale.push(path);
          if (!argv.check) {
            mkdirSync(k.out, { recursive: true });
            writeFileSync(path, text);
          }
        }
        report.push(entry);
      }
      const stale = report.flatMap((r) => r.stale);
      if (argv.json) process.stdout.write(JSON.stringify({ check: Boolean(argv.check), kernels: report }, null, 2) + '\n');
      else if (argv.check) process.stdout.write(stale.length ? `out of date:\n${stale.map((s) => `  ${s}`).join('\n')}\nrun \`loopsmith build ${String(argv.manifest)}\` to regenerate\n` : `all ${report.reduce((n, r) => n + r.files.length, 0)} generated files are up to date\n`);
      else process.stdout.write(report.map((r) => `${r.name} (${r.origin}): ${r.stale.length ? `wrote ${r.stale.join(', ')}` : 'up to date'}`).join('\n') + '\n');
      if (argv.check && stale.length) process.exitCode = 1;
    },
  );
}
