import { ModelGraph, graphTasks } from '../ir/graph/graph.js';
import { Program } from '../ir/program.js';
import { lowerForCodegen } from './lower.js';
import { renderWgsl } from './wgsl/render.js';
import { weightsLayout } from './model-weights.js';

/**
 * One TypeScript module for a whole model on WebGPU: each task's WGSL once, the layers in order
 * with where each of their bindings comes from, and
 *
 *   const model = await load(device, weights);   // buffers, pipelines and bind groups, made once
 *   const y = await model.run(x);                // every layer in one command buffer; y read back
 *   model.destroy();
 *
 * The weights are the same block as the C module's (`NAME.weights`): the constants back to back
 * in `constants` order. Each constant and each activation has a storage buffer of its own (WebGPU
 * binds whole buffers here; an arena would need 256-byte aligned offsets per binding). Dispatches
 * in one compute pass are ordered and see each other's writes (each is its own usage scope).
 */
export interface ModelTs {
  readonly source: string;
  readonly constants: readonly { name: string; offset: number; floats: number }[];
  readonly weightFloats: number;
}

export function renderModelTs(g: ModelGraph, programs: ReadonlyMap<string, Program>, opts: { banner: string[] }): ModelTs {
  const taskIndex = new Map<string, number>();
  const kernels: unknown[] = [];
  for (const { workload } of graphTasks(g)) {
    const p = programs.get(workload.key);
    if (!p) throw new Error(`no kernel for ${workload.key}`);
    const k = renderWgsl(lowerForCodegen(p));
    taskIndex.set(workload.key, kernels.length);
    kernels.push({
      workload: workload.key, wgsl: k.source,
      bindings: k.bindings.map((b) => ({ binding: b.binding, name: b.name, access: b.role === 'input' ? 'read' : 'read_write' })),
      entryPoints: k.entries.map((e) => ({ name: e.name, dispatch: e.dispatch })),
    });
  }
  const { constants, floats: weightFloats } = weightsLayout(g);
  const layers = g.layers.map((l) => ({
    name: l.name, kernel: taskIndex.get(l.workload.key)!,
    buffers: {
      ...Object.fromEntries(Object.entries(l.inputs).map(([b, src]) => [b, 'tensor' in src ? { tensor: src.tensor } : { constant: constants.findIndex((c) => c.name === src.constant) }])),
      [outputName(programs.get(l.workload.key)!)]: { tensor: l.output },
    },
  }));
  const tensors = Object.fromEntries([[g.input.name, count(g.input.shape)], ...g.layers.map((l) => [l.output, g.tensors.get(l.output)!])]);
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const source = `${opts.banner.map((b) => `// ${b}`).join('\n')}
/// <reference types="@webgpu/types" />

export interface Kernel {
  readonly workload: string;
  readonly wgsl: string;
  readonly bindings: readonly { readonly binding: number; readonly name: string; readonly access: 'read' | 'read_write' }[];
  readonly entryPoints: readonly { readonly name: string; readonly dispatch: readonly number[] }[];
}

/** One kernel per task (distinct layer shape). */
export const kernels: readonly Kernel[] = ${json(kernels)};

/** The constants in the weights block: offset and length in floats. */
export const constants: readonly { readonly name: string; readonly offset: number; readonly floats: number }[] = ${json(constants)};

/** The layers in order: their kernel and, for each binding, an activation tensor or a constant. */
export const layers: readonly { readonly name: string; readonly kernel: number; readonly buffers: Readonly<Record<string, { readonly tensor: string } | { readonly constant: number }>> }[] = ${json(layers)};

/** Every activation tensor (the input, each layer's output) and its length in floats. */
export const tensors: Readonly<Record<string, number>> = ${json(tensors)};

export const INPUT = ${JSON.stringify(g.input.name)};
export const OUTPUT = ${JSON.stringify(g.output.name)};
export const inputShape = ${JSON.stringify(g.input.shape)};
export const outputShape = ${JSON.stringify(g.output.shape)};
export const WEIGHT_FLOATS = ${weightFloats};

export interface Model {
  /** The model on one input (NCHW, ${count(g.input.shape)} floats): every layer in one submission, the output read back. */
  run(input: Float32Array): Promise<Float32Array>;
  destroy(): void;
}

/** Uploads the weights and makes every buffer, pipeline and bind group once. */
export async function load(device: GPUDevice, weights: Float32Array): Promise<Model> {
  if (weights.length !== WEIGHT_FLOATS) throw new Error(\`load: the weights block has \${weights.length} floats, this model takes \${WEIGHT_FLOATS}\`);
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const made: GPUBuffer[] = [];
  const buffer = (floats: number) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(floats / 4) * 16), usage: storage });
    made.push(b);
    return b;
  };
  const acts = new Map(Object.entries(tensors).map(([name, floats]) => [name, buffer(floats)]));
  const consts = constants.map((c) => {
    const b = buffer(c.floats);
    device.queue.writeBuffer(b, 0, weights.buffer as ArrayBuffer, weights.byteOffset + 4 * c.offset, 4 * c.floats);
    return b;
  });
  const compiled = kernels.map((k) => {
    const module = device.createShaderModule({ code: k.wgsl });
    const layout = device.createBindGroupLayout({
      entries: k.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.access === 'read' ? 'read-only-storage' as const : 'storage' as const } })),
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    return { layout, pipelines: k.entryPoints.map((e) => device.createComputePipeline({ layout: pipelineLayout, compute: { module, entryPoint: e.name } })) };
  });
  const groups = layers.map((l) => device.createBindGroup({
    layout: compiled[l.kernel]!.layout,
    entries: kernels[l.kernel]!.bindings.map((b) => {
      const src = l.buffers[b.name]!;
      return { binding: b.binding, resource: { buffer: 'tensor' in src ? acts.get(src.tensor)! : consts[src.constant]! } };
    }),
  }));
  const outFloats = tensors[OUTPUT]!;
  const readback = device.createBuffer({ size: outFloats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  made.push(readback);
  await device.queue.onSubmittedWorkDone();
  return {
    async run(input: Float32Array): Promise<Float32Array> {
      if (input.length !== tensors[INPUT]) throw new Error(\`run: the input has \${input.length} floats, this model takes \${tensors[INPUT]}\`);
      device.queue.writeBuffer(acts.get(INPUT)!, 0, input.buffer as ArrayBuffer, input.byteOffset, input.byteLength);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      layers.forEach((l, i) => {
        pass.setBindGroup(0, groups[i]!);
        kernels[l.kernel]!.entryPoints.forEach((e, j) => {
          pass.setPipeline(compiled[l.kernel]!.pipelines[j]!);
          pass.dispatchWorkgroups(e.dispatch[0]!, e.dispatch[1]!, e.dispatch[2]!);
        });
      });
      pass.end();
      encoder.copyBufferToBuffer(acts.get(OUTPUT)!, 0, readback, 0, outFloats * 4);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      return out;
    },
    destroy() {
      for (const b of made) b.destroy();
    },
  };
}
`;
  return { source, constants, weightFloats };
}

function outputName(p: Program): string {
  return p.buffers.find((b) => b.role === 'output')!.name;
}

const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
