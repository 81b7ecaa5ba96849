import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { InputError } from '../../ir/errors.js';
import { Workload, lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace, trace } from '../../scheduler/trace.js';
import { Artifacts, LANGUAGES, Language, artifacts } from '../../codegen/artifacts.js';
import { createTarget, targetForLanguage } from '../../targets/registry.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { traceHash } from '../../tuner/space.js';
import { loadSchedule } from '../schedule-file.js';
import { workloadFromArgv } from '../params.js';

export interface EmitRequest {
  readonly workload: Workload;
  readonly lang: Language;
  readonly name: string;
  readonly schedule?: string;
  readonly records: string;
  readonly fallback: boolean;
  readonly warn: (s: string) => void;
}

/** Chooses the schedule (file, best record for this device, or the default when allowed) and renders. */
export async function emitArtifacts(req: EmitRequest): Promise<{ files: Artifacts; origin: string }> {
  const w = req.workload;
  const base = lowerWorkload(w);
  const target = createTarget(targetForLanguage(req.lang).name);
  let t: Trace;
  let origin: string;
  if (req.schedule) {
    t = loadSchedule(req.schedule);
    origin = `schedule file ${req.schedule}`;
  } else {
    const db = new RecordStore(req.records);
    for (const warning of db.load().warnings) req.warn(warning);
    try {
      await target.open();
      const { key } = target.fingerprint;
      const hit = db.bestWithFallback(w.key, { kind: target.name, key }, (f) => target.compatible(f));
      for (const warning of db.replayWarnings()) req.warn(warning);
      if (hit) {
        t = hit.record.trace;
        origin = `record ${hit.record.id}, ${hit.record.outcome.gflops?.toFixed(2)} GFLOP/s${hit.match === 'compatible' ? ' on a compatible device' : ''}`;
        if (hit.match === 'compatible') req.warn(`no record for this device (${key}); using record ${hit.record.id} from a compatible ${target.name} device (${String(hit.record.target.fingerprint.key)})`);
      } else if (req.fallback) {
        t = target.defaultTrace?.(base, w.key) ?? trace([], w.key);
        origin = 'default schedule (no record)';
        req.warn(`no tuning record for ${w.key} on this device in ${db.path}; emitting the default schedule`);
      } else {
        throw new InputError(`no tuning record for ${w.key} on this device (${key}) in ${db.path}; run \`loopsmith tune\` first, pass --schedule, or --fallback for the default schedule`);
      }
    } finally {
      await target.close();
    }
  }
  const p = applyTrace(base, t, { workload: w.key });
  // C vector types are sized to the CPU's lanes; the other languages do not use them.
  const lanes = req.lang === 'c' ? target.spaceTarget.lanes : 1;
  return { files: artifacts(req.lang, p, { name: req.name, workload: w.key, traceHash: traceHash(t), origin, lanes }), origin };
}

export function emitCommand(y: Argv): Argv {
  return operatorCommand(y, 'emit', {
    describe: 'Write the kernel for this device as C (.c/.h), WGSL (.wgsl + manifest) or a typed TypeScript module',
    json: 'list the written files as JSON',
    options: (a) => a
      .option('lang', { type: 'string', default: 'c', describe: `output language: ${LANGUAGES.join(', ')} (c runs on the CPU, wgsl and ts on WebGPU)` })
      .option('out', { type: 'string', default: '.', describe: 'directory to write into' })
      .option('name', { type: 'string', describe: 'kernel and file name (default: the op name)' })
      .option('schedule', { type: 'string', describe: 'a schedule trace to use instead of the best record' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file to take the best schedule from' })
      .option('fallback', { type: 'boolean', default: false, describe: 'with no record for this device, emit the default schedule (with a warning)' })
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang c --out src/kernels', 'the tuned GEMM as gemm.c and gemm.h')
      .example('$0 emit gemm --m 512 --n 512 --k 512 --lang ts --fallback', 'a TypeScript module with the WGSL and a dispatch() helper'),
    handler: async (argv) => {
      const lang = String(argv.lang);
      if (!(LANGUAGES as readonly string[]).includes(lang)) throw new InputError(`unknown language '${lang}'; languages: ${LANGUAGES.join(', ')}`);
      const w = workloadFromArgv(argv, ['lang', 'out', 'name', 'schedule', 'records', 'fallback']);
      const { files, origin } = await emitArtifacts({
        workload: w, lang: lang as Language, name: String(argv.name ?? w.op.name), records: String(argv.records), fallback: Boolean(argv.fallback),
        ...(argv.schedule ? { schedule: String(argv.schedule) } : {}),
        warn: (s) => process.stderr.write(`warning: ${s}\n`),
      });
      const out = String(argv.out);
      mkdirSync(out, { recursive: true });
      const written = Object.entries(files).map(([f, text]) => {
        writeFileSync(join(out, f), text);
        return join(out, f);
      });
      if (argv.json) process.stdout.write(JSON.stringify({ workload: w.key, lang, origin, files: written }, null, 2) + '\n');
      else process.stdout.write(`${w.key} (${origin}):\n${written.map((f) => `  wrote ${f}`).join('\n')}\n`);
    },
  });
}
