import type { Argv } from 'yargs';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { reportHtml } from '../report-html.js';
import { checkOutputFile, writeFile } from '../output-files.js';

export function reportCommand(y: Argv): Argv {
  return y.command(
    'report',
    'Write a self-contained HTML report of a records file: best-so-far curves, every candidate, best schedules',
    (a) => a
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file' })
      .option('out', { type: 'string', default: 'loopsmith-report.html', describe: 'HTML file to write' })
      .option('workload', { type: 'string', describe: 'only this workload key' })
      .example('$0 report --out report.html', 'open report.html in a browser'),
    async (argv) => {
      const out = String(argv.out);
      checkOutputFile(out);
      const db = new RecordStore(String(argv.records));
      const { records, warnings } = db.load();
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const mine = argv.workload ? records.filter((r) => r.workload.key === argv.workload) : records;
      writeFile(out, await reportHtml(mine, `loopsmith tuning report: ${db.path}`));
      process.stdout.write(`wrote ${out} (${mine.length} records)\n`);
    },
  );
}
