/**
 * Writes the generated models as .onnx files, e.g. for another runtime or a viewer:
 *
 *   npm run models:generate -- --out DIR [--models resnet18,mobilenetv2]
 *
 * One line per file (size, node count); a bad flag or model name is one line on stderr and exit 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { onnx } from './onnx-builder.js';
import { ZOO } from './zoo.js';

function fail(message: string): never {
  process.stderr.write(`models:generate: ${message}\n`);
  process.exit(1);
}

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

function main(): void {
  let values: { out?: string; models?: string };
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, models: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    // parseArgs explains at length how to pass positionals; its first sentence is the point.
    fail(`${(e as Error).message.split('. ')[0]} (usage: --out DIR [--models ${Object.keys(ZOO).join(',')}])`);
  }
  if (!values.out) fail(`--out DIR is required (usage: --out DIR [--models ${Object.keys(ZOO).join(',')}])`);
  const names = values.models === undefined ? Object.keys(ZOO) : values.models.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) fail('--models names no model');
  const unknown = names.filter((n) => !(n in ZOO));
  if (unknown.length) fail(`unknown model ${unknown.join(', ')}; known: ${Object.keys(ZOO).join(', ')}`);

  mkdirSync(values.out, { recursive: true });
  for (const name of names) {
    const m = ZOO[name]();
    const file = join(values.out, `${name}.onnx`);
    writeFileSync(file, m.bytes);
    // Count from the written bytes, which also checks that they decode.
    const nodes = onnx.ModelProto.decode(m.bytes).graph?.node?.length ?? 0;
    process.stdout.write(`${file}: ${size(m.bytes.length)}, ${nodes} nodes, input [${m.inputShape}] -> output [${m.outputShape}]\n`);
  }
}

try {
  main();
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
