import { realpathSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { InputError, LoopsmithError } from '../../ir/errors.js';
import { didYouMean } from '../../ir/schema.js';
import { DEFAULT_RECORDS_PATH, RecordStore, RecordsFileError, TuningRecord, recordsOfWorkload } from '../../tuner/records.js';
import { RECORDS_FILE, ioProblem } from '../../tuner/records-file.js';
import { readInputBytes } from '../../tuner/input-file.js';
import { checkOutputFile, sameFile, writeFile } from '../output-files.js';
import { table } from '../format.js';
import { deviceBests, devicesOf, measuredThreads } from '../../tuner/devices.js';

const ACTIONS = ['list', 'best', 'export', 'merge', 'prune'] as const;


/** A file to merge must exist: a mistyped name must not look like a file with no new records. */
function mustExist(path: string): void {
  try {
    statSync(path);
  } catch (e) {
    throw new InputError(`cannot merge ${path}: ${ioProblem(e)}`);
  }
}

/** The file `path` names, through any symbolic links; undefined when there is none yet. */
function realPathOrMissing(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** `records list --by-device`: the devices, then each device's best per workload and its runs elsewhere. */
function listByDevice(db: RecordStore, records: readonly TuningRecord[], json: boolean): void {
  const devices = devicesOf(records);
  const bests = deviceBests(db, records);
  for (const w of db.passedOverWarnings()) process.stderr.write(`warning: ${w}\n`);
  const short = new Map(devices.map((d) => [d.key, d.key.length > 20 ? d.key.slice(0, 20) : d.key]));
  if (json) {
    process.stdout.write(JSON.stringify({
      devices: devices.map((d) => ({
        ...d,
        best: bests.filter((b) => b.device === d.key).map((b) => ({ workload: b.workload, id: b.best.id, gflops: b.best.outcome.gflops ?? null, traceHash: b.best.traceHash, elsewhere: b.elsewhere })),
      })),
    }, null, 2) + '\n');
    return;
  }
  const out = [table(['device', 'kind', 'records', 'workloads', 'what'], devices.map((d) => [d.key, d.kind, String(d.records), String(d.workloads), d.label]))];
  for (const d of devices) {
    const mine = bests.filter((b) => b.device === d.key);
    out.push('', `${d.key}  ${d.label}`);
    out.push(mine.length ? table(['workload', 'GFLOP/s', 'record', 'strategy', 'same schedule elsewhere'], mine.map((b) => [
      b.workload, b.best.outcome.gflops ? b.best.outcome.gflops.toFixed(2) : '-', b.best.id, b.best.strategy,
      b.elsewhere.length ? b.elsewhere.map((e) => `${short.get(e.device) ?? e.device} ${e.gflops.toFixed(2)}`).join(', ') : '-',
    ])) : '  no successful record');
  }
  process.stdout.write(out.join('\n') + `\n${devices.length} device${devices.length === 1 ? '' : 's'}, ${records.length} records in ${db.path}\n`);
}

export function recordsCommand(y: Argv): Argv {
  return y.command(
    'records <action> [files..]',
    'Inspect and share tuning records: list, best, export, merge, prune',
    (a) => a
      .positional('action', { type: 'string', describe: `${ACTIONS.join(' | ')}` })
      .positional('files', { type: 'string', array: true, describe: 'merge: records files to merge into --records' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'the records file' })
      .option('out', { type: 'string', describe: 'export: file to write (default: stdout)' })
      .option('workload', { type: 'string', describe: 'only records of this workload key' })
      .option('by-device', { type: 'boolean', describe: 'list: one section per device (fingerprint) with its best per workload, and how that schedule ran on the other devices' })
      .option('json', { type: 'boolean', describe: 'machine-readable output' })
      .example('$0 records list', 'a table of every measured candidate')
      .example('$0 records list --by-device', 'the devices the file knows, and each one\'s best kernels')
      .example('$0 records best', 'the best kernel per workload and device (a CPU at each thread count is a device of its own)')
      .example('$0 records export --out best.jsonl', 'the best records only, to share with machines of the same kind')
      .example('$0 records merge other-machine.jsonl', 'add another file\'s records (duplicates are skipped)')
      .example('$0 records prune', 'drop failed candidates (a copy of the old file is kept as <file>.bak)'),
    (argv) => {
      const action = String(argv.action);
      if (!(ACTIONS as readonly string[]).includes(action)) throw new InputError(`unknown records action '${action}'; ${didYouMean(action, ACTIONS)}actions: ${ACTIONS.join(', ')}`);
      const extra = action === 'merge' ? [] : ((argv.files as string[] | undefined) ?? []);
      if (extra.length) throw new InputError(`records ${action} takes no file arguments (got '${extra.join("', '")}'); only merge does, and --records names the records file`);
      const db = new RecordStore(String(argv.records));
      const { records, warnings } = db.load();
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const { records: mine, warning } = recordsOfWorkload(records, argv.workload === undefined ? undefined : String(argv.workload), db.path);
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      const best = () => {
        const b = db.bestPerWorkload(mine);
        for (const w of db.passedOverWarnings()) process.stderr.write(`warning: ${w}\n`);
        return b;
      };
      const row = (r: TuningRecord) => [
        r.id, r.workload.key, r.target.fingerprint.key, String(measuredThreads(r.target.kind, r.target.fingerprint) ?? '-'), r.strategy, String(r.trial), r.outcome.status,
        r.outcome.gflops ? r.outcome.gflops.toFixed(2) : '-',
      ];
      const headers = ['id', 'workload', 'device', 'threads', 'strategy', 'trial', 'status', 'GFLOP/s'];
      if (argv['by-device'] && action !== 'list') throw new InputError(`--by-device goes with records list, not records ${action}`);
      switch (action) {
        case 'list':
          if (argv['by-device']) {
            listByDevice(db, mine, Boolean(argv.json));
            return;
          }
          if (argv.json) process.stdout.write(JSON.stringify(mine, null, 2) + '\n');
          else process.stdout.write(table(headers, mine.map(row)) + `\n${mine.length} records in ${db.path}\n`);
          return;
        case 'best': {
          const b = best();
          if (argv.json) process.stdout.write(JSON.stringify(b, null, 2) + '\n');
          else process.stdout.write(table(headers, b.map(row)) + '\n');
          return;
        }
        case 'export': {
          const out = argv.out === undefined ? undefined : String(argv.out);
          // The export holds the best records only: written over the records file, it would drop the rest.
          if (out !== undefined && sameFile(out, db.path)) throw new InputError(`cannot write the export ${out}: it is the records file ${db.path} itself (export keeps only the best records); export to another file`);
          if (out !== undefined) checkOutputFile(out);
          const text = best().map((r) => JSON.stringify(r)).join('\n') + '\n';
          if (out !== undefined) writeFile(out, text);
          else process.stdout.write(text);
          return;
        }
        case 'merge': {
          const files = (argv.files as string[] | undefined) ?? [];
          if (!files.length) throw new InputError('merge needs one or more records files: loopsmith records merge other.jsonl');
          files.forEach(mustExist);
          for (const f of files) if (sameFile(f, db.path)) throw new InputError(`cannot merge ${f}: it is the records file ${db.path} itself; merge other files into it`);
          const have = new Set(records.map((r) => r.id));
          let added = 0;
          for (const f of files) {
            const other = new RecordStore(f).load();
            for (const w of other.warnings) process.stderr.write(`warning: ${w}\n`);
            for (const r of other.records) {
              if (have.has(r.id)) continue;
              db.append(r);
              have.add(r.id);
              added++;
            }
          }
          process.stdout.write(`merged ${added} new records into ${db.path}\n`);
          return;
        }
        case 'prune': {
          // A device (/dev/null) holds no records, and a backup of it would be written into /dev.
          if (!db.persistent) throw new InputError(`cannot prune ${db.path}: it is not a regular file`);
          // Only failed records go; lines this version cannot read stay as they are (warned about above).
          const pruned = db.without((r) => r.outcome.status !== 'ok' && (!argv.workload || r.workload.key === argv.workload));
          const backup = `${db.path}.bak`;
          // Rewritten in place by design: the file a symbolic link names is the records file (appends
          // write through the link too), so that file is rewritten and the link stays.
          const file = realPathOrMissing(db.path);
          checkOutputFile(backup);
          checkOutputFile(file ?? db.path);
          // The backup is the file byte for byte, so lines this version could not read are not lost.
          try {
            writeFile(backup, file === undefined ? '' : readInputBytes(file, RECORDS_FILE));
          } catch (e) {
            throw new RecordsFileError(`${e instanceof LoopsmithError ? e.message : `cannot write the backup ${backup}: ${ioProblem(e)}`}; ${db.path} is unchanged`);
          }
          try {
            writeFile(file ?? db.path, pruned.text);
          } catch (e) {
            throw new RecordsFileError(`${e instanceof LoopsmithError ? e.message : `cannot write the records file ${db.path}: ${ioProblem(e)}`}; the previous file is saved as ${backup}`);
          }
          const unreadable = pruned.unreadable ? `; kept ${pruned.unreadable} line${pruned.unreadable === 1 ? '' : 's'} it cannot read as ${pruned.unreadable === 1 ? 'it is' : 'they are'}` : '';
          const torn = pruned.torn ? '; dropped the torn last line' : '';
          process.stdout.write(`kept ${pruned.kept} of ${records.length} records (dropped ${pruned.dropped} failed)${unreadable}${torn}; previous file saved as ${db.path}.bak\n`);
          return;
        }
      }
    },
  );
}
