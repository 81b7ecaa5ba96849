// Runs the multi-device module on this browser's WebGPU adapter: the module picks the variant tuned
// for this GPU (or one of its vendor and architecture, or its generic schedule) and says why.
import { bindings, dispatch, selectVariant } from '../kernels/gemm128_gpus.js';

const N = 128;
const out = document.getElementById('out')!;

interface Result { ok: boolean; line: string; adapter?: GPUAdapterInfo; variant?: string; match?: string; reason?: string; maxError?: number }

function inputs() {
  const A = new Float32Array(N * N), B = new Float32Array(N * N);
  for (let i = 0; i < N * N; i++) {
    A[i] = ((i * 7) % 13) / 13 - 0.5;
    B[i] = ((i * 5) % 11) / 11 - 0.5;
  }
  return { A, B };
}

async function run(): Promise<Result> {
  if (!navigator.gpu) return { ok: false, line: 'this browser has no WebGPU (navigator.gpu is missing)' };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { ok: false, line: 'this browser found no WebGPU adapter' };
  // Ask for the limits the chosen variant needs: tuned kernels may need more than the defaults.
  const planned = selectVariant(adapter.info, adapter.limits);
  const device = await adapter.requestDevice({ requiredLimits: { ...planned.variant.requires } });
  const { A, B } = inputs();
  const made: Record<string, GPUBuffer> = {};
  for (const b of bindings) {
    made[b.name] = device.createBuffer({ size: b.bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }
  device.queue.writeBuffer(made.A!, 0, A);
  device.queue.writeBuffer(made.B!, 0, B);
  const chosen = await dispatch(device, { A: made.A!, B: made.B!, C: made.C! }, { adapterInfo: adapter.info });
  const read = device.createBuffer({ size: N * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(made.C!, 0, read, 0, N * N * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const C = new Float32Array(read.getMappedRange().slice(0));
  let worst = 0;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += A[i * N + k]! * B[k * N + j]!;
      worst = Math.max(worst, Math.abs(s - C[i * N + j]!));
    }
  }
  const ok = worst < 1e-3;
  return {
    ok, adapter: adapter.info, variant: chosen.variant.id, match: chosen.match, reason: chosen.reason, maxError: worst,
    line: `gemm128 on ${adapter.info.vendor}/${adapter.info.architecture}: variant ${chosen.variant.id} (${chosen.match}: ${chosen.reason}); max abs error ${worst.toExponential(2)} ${ok ? 'ok' : 'WRONG'}`,
  };
}

const result = await run().catch((e: unknown): Result => ({ ok: false, line: `failed: ${String(e)}` }));
out.textContent = result.line;
const info = result.adapter;
const body = { ...result, adapter: info && { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description } };
// serve.mjs collects the result (and with --once exits with it); a plain static server just ignores this.
await fetch('/result', { method: 'POST', body: JSON.stringify(body) }).catch(() => undefined);
