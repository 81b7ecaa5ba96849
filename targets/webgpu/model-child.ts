/**
 * Runs a WebGPU model module in a process of its own (a hung driver is then killed, not waited
 * for): `node model-child.js DIR MIN_SECONDS`. DIR holds model.mjs (the module, transpiled),
 * weights and input (f32); it writes output and prints {"median":..,"min":..,"runs":..} in ms.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDevice } from './device.js';

interface ModelModule {
  load(device: GPUDevice, weights: Float32Array): Promise<{ run(x: Float32Array): Promise<Float32Array>; destroy(): void }>;
}

const floats = async (path: string) => {
  const b = await readFile(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

async function main(): Promise<void> {
  const [dir, minSecondsArg] = process.argv.slice(2);
  const minSeconds = Number(minSecondsArg ?? 0);
  const { device } = await openDevice();
  const mod = (await import(pathToFileURL(join(dir!, 'model.mjs')).href)) as ModelModule;
  const model = await mod.load(device, await floats(join(dir!, 'weights')));
  const input = await floats(join(dir!, 'input'));
  const y = await model.run(input);
  await writeFile(join(dir!, 'output'), new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  const times: number[] = [];
  const start = performance.now();
  while (minSeconds > 0 && (times.length < 3 || performance.now() - start < minSeconds * 1000)) {
    const t0 = performance.now();
    await model.run(input);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  model.destroy();
  process.stdout.write(JSON.stringify({ median: times[times.length >> 1] ?? 0, min: times[0] ?? 0, runs: times.length }) + '\n');
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
