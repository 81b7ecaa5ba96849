import type { Argv } from 'yargs';
import { DEFAULT_RECORDS_PATH, RecordStore, recordsOfWorkload } from '../../tuner/records.js';
import { loadBenchResult } from '../bench-results.js';
import { reportBench } from '../report-bench.js';
import { reportHtml } from '../report-html.js';
import { checkOutputFile, refuseOverwritingInputs, writeFile } from '../output-files.js';

export function reportCommand(y: Argv): Argv {
  return y.command(
    'report',
    'Write a self-contained HTML report of a records file: best-so-far curves, every candidate, best schedules',
    (a) => a
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file' })
      .option('out', { type: 'string', default: 'loopsmith-report.html', describe: 'HTML file to write' })
      .option('workload', { type: 'string', describe: 'only this workload key' })
      .option('bench', { type: 'string', describe: 'plot a result file of `npm run bench` (bench-results/<fingerprint>/<date>.json) instead of a records file' })
      .example('$0 report --out report.html', 'open report.html in a browser')
      .example('$0 report --bench bench-results/cpu-.../2026-11-24T20-00-00.000Z.json --out bench.html', 'fraction of peak per bench row'),
    async (argv) => {
      const out = String(argv.out);
      // The file the report is made from must survive it: --out onto it would replace it with HTML.
      refuseOverwritingInputs(out, argv.bench !== undefined ? [{ path: String(argv.bench), what: 'the bench result' }] : [{ path: String(argv.records), what: 'the records file' }]);
      checkOutputFile(out);
      if (argv.bench !== undefined) {
        const result = loadBenchResult(String(argv.bench));
        writeFile(out, await reportBench(result, `loopsmith bench: ${String(argv.bench)}`));
        process.stdout.write(`wrote ${out} (${result.rows.length} bench rows)\n`);
        return;
      }
      const db = new RecordStore(String(argv.records));
      const { records, warnings } = db.load();
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const { records: mine, warning } = recordsOfWorkload(records, argv.workload === undefined ? undefined : String(argv.workload), db.path);
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      writeFile(out, await reportHtml(mine, `loopsmith tuning report: ${db.path}`, db));
      for (const w of db.passedOverWarnings()) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`wrote ${out} (${mine.length} records)\n`);
    },
  );
}
