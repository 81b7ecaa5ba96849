/**
 * Child process for the multi-device module tests: imports an emitted module (compiled to JS),
 * opens this machine's WebGPU adapter through Dawn, and for each case selects a variant (by the
 * real adapter's info, a synthetic one, or an id) and runs it on the real device against the
 * reference. A child, so Dawn's threads never outlive a test.
 *
 * usage: node run-device-module.js <module.js> <workload json {op, params}> <cases json>
 * cases: [{ "info"?: AdapterInfoLike | "real", "variant"?: string }]; prints one JSON line.
 */
import { pathToFileURL } from 'node:url';
import { workload, lowerWorkload } from '../../ir/ops/index.js';
import { execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { compareOutputs, reductionLength } from '../../targets/verify.js';
import { openDevice } from '../../targets/webgpu/device.js';

interface Case { info?: 'real' | Record<string, string>; variant?: string }
interface Selection { variant: { id: string }; match: string; device?: string; reason: string }
interface DeviceModule {
  bindings: readonly { name: string; access: string; bytes: number }[];
  dispatch(device: GPUDevice, buffers: Record<string, GPUBuffer>, options?: { adapterInfo?: unknown; variant?: string }): Promise<Selection>;
}

const [modulePath, workloadJson, casesJson] = process.argv.slice(2) as [string, string, string];
const m = (await import(pathToFileURL(modulePath).href)) as DeviceModule;
const { op, params } = JSON.parse(workloadJson) as { op: string; params: Record<string, number> };
const w = workload(op, params);
const p = lowerWorkload(w);
const inputs = randomInputs(p, 1);
const want = outputsOf(p, execute(p, inputs));
const { device, caps } = await openDevice();

async function run(c: Case) {
  const buffers: Record<string, GPUBuffer> = {};
  for (const b of m.bindings) {
    const buf = device.createBuffer({ size: b.bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const data = new Float32Array(inputs[b.name] ?? new Float32Array(b.bytes / 4).fill(NaN));
    device.queue.writeBuffer(buf, 0, data);
    buffers[b.name] = buf;
  }
  const adapterInfo = c.info === 'real' ? { vendor: caps.vendor, architecture: caps.architecture, device: caps.device, description: caps.description } : c.info;
  const selection = await m.dispatch(device, buffers, { ...(adapterInfo ? { adapterInfo } : {}), ...(c.variant ? { variant: c.variant } : {}) });
  const got: Record<string, Float32Array> = {};
  for (const b of m.bindings.filter((x) => x.access !== 'read')) {
    const rb = device.createBuffer({ size: b.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(buffers[b.name]!, 0, rb, 0, b.bytes);
    device.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    got[b.name] = new Float32Array(rb.getMappedRange().slice(0));
    rb.unmap();
  }
  const cmp = compareOutputs(got, want, reductionLength(p));
  return { variant: selection.variant.id, match: selection.match, device: selection.device ?? null, reason: selection.reason, ok: cmp.ok, maxError: cmp.maxError, message: cmp.message };
}

const results = [];
for (const c of JSON.parse(casesJson) as Case[]) results.push(await run(c));
process.stdout.write(JSON.stringify({ adapter: { vendor: caps.vendor, architecture: caps.architecture, device: caps.device, description: caps.description }, results }) + '\n');
device.destroy();
process.exit(0);
