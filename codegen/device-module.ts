/**
 * One TypeScript module for many WebGPU devices: a WGSL variant per schedule tuned on some device
 * (devices that chose the same code share one), a generic schedule, and a selector that picks a
 * variant for the adapter it runs on: exact device, else same vendor and architecture, else the
 * generic one, each only if the device's limits fit it.
 */
import { newTsFile, tsMorph } from './ts-file.js';
import { Program } from '../ir/program.js';
import { lowerForCodegen } from './lower.js';
import { renderWgsl } from './wgsl/render.js';
import { kernelRequirements } from './wgsl/requirements.js';
import { Names } from './cstyle/names.js';
import { C_RESERVED } from './c/dialect.js';
import type { Artifacts } from './artifacts.js';

/** A device a variant was tuned on: what its adapter reports, and where its schedule came from. */
export interface TunedDevice {
  readonly key: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** "record <id>, <n> GFLOP/s": for the module's comments and the selection's reason. */
  readonly origin: string;
}

export interface DeviceSchedule {
  readonly program: Program;
  readonly traceHash: string;
  readonly device: TunedDevice;
}

export interface DeviceModuleInfo {
  readonly name: string;
  readonly workload: string;
}

interface Variant {
  id: string;
  generic: boolean;
  traceHash: string;
  devices: TunedDevice[];
  wgsl: string;
  entryPoints: { name: string; workgroupSize: readonly number[]; dispatch: readonly number[] }[];
  requires: Record<string, number>;
}

function render(p: Program) {
  const k = renderWgsl(lowerForCodegen(p));
  return {
    k, wgsl: k.source, entryPoints: k.entries.map((e) => ({ name: e.name, workgroupSize: e.workgroupSize, dispatch: e.dispatch })),
    bindings: k.bindings.map((b) => ({ binding: b.binding, name: b.name, access: b.role === 'input' ? 'read' : 'read_write', shape: b.shape, bytes: b.elements * 4 })),
  };
}

/** The selector and dispatcher: the same text in every module (the data above it differs). */
const RUNTIME = `
/** What a GPUAdapterInfo (adapter.info, device.adapterInfo) reports; missing fields count as ''. */
export interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
}

/** Device limits: adapter.limits, device.limits, or any of them by name. */
export type Limits = GPUSupportedLimits | Partial<Record<string, number>>;

/** The variant chosen for an adapter, and why. */
export interface Selection {
  readonly variant: Variant;
  /** exact: tuned on this device; vendor-architecture: tuned on another device of its kind; generic: no tuning applies. */
  readonly match: 'exact' | 'vendor-architecture' | 'generic' | 'requested';
  /** Fingerprint key of the device whose tuning was chosen (none for the generic schedule). */
  readonly device?: string;
  readonly reason: string;
}

function shortfall(v: Variant, limits: Limits | undefined): string | undefined {
  if (!limits) return undefined;
  for (const [name, need] of Object.entries(v.requires)) {
    const have = (limits as unknown as Record<string, number | undefined>)[name];
    if (typeof have === 'number' && have < need) return \`needs \${name} \${need}, the device has \${have}\`;
  }
  return undefined;
}

const named = (d: TunedDevice) => \`\${d.description || d.device || d.key} (\${d.key})\`;

/**
 * Picks the variant for an adapter: the one tuned on this exact device (vendor, architecture,
 * device and description all equal), else one tuned on a device of the same vendor and
 * architecture, else the generic schedule; a variant the device's \`limits\` cannot run is passed
 * over (the reason says so). Throws only when not even the generic schedule fits.
 */
export function selectVariant(info: AdapterInfoLike, limits?: Limits): Selection {
  const vendor = info.vendor ?? '', architecture = info.architecture ?? '', device = info.device ?? '', description = info.description ?? '';
  const passed = new Set<string>();
  const find = (same: (d: TunedDevice) => boolean): [Variant, TunedDevice] | undefined => {
    for (const v of variants) {
      for (const d of v.devices) {
        if (!same(d)) continue;
        const short = shortfall(v, limits);
        if (short === undefined) return [v, d];
        passed.add(\`variant \${v.id} of \${named(d)} \${short}\`);
      }
    }
    return undefined;
  };
  const also = () => (passed.size ? \`; passed over: \${[...passed].join('; ')}\` : '');
  const exact = find((d) => d.vendor === vendor && d.architecture === architecture && d.device === device && d.description === description);
  if (exact) return { variant: exact[0], match: 'exact', device: exact[1].key, reason: \`tuned on this device, \${named(exact[1])}: \${exact[1].origin}\${also()}\` };
  const kin = vendor === '' ? undefined : find((d) => d.vendor === vendor && d.architecture === architecture);
  if (kin) return { variant: kin[0], match: 'vendor-architecture', device: kin[1].key, reason: \`no variant tuned on this device; tuned on \${named(kin[1])}, same vendor and architecture (\${vendor}/\${architecture}): \${kin[1].origin}\${also()}\` };
  const generic = variants.find((v) => v.generic)!;
  const short = shortfall(generic, limits);
  if (short !== undefined) throw new Error(\`\${metadata.name}: no variant fits this device: the generic schedule \${short}\${also()}\`);
  const what = vendor === '' ? 'the adapter reports no vendor' : \`no variant tuned on this device or on \${vendor}/\${architecture}\`;
  return { variant: generic, match: 'generic', reason: \`\${what}; generic schedule\${also()}\` };
}

export interface DispatchOptions {
  /** The adapter's info, when the device does not carry it (GPUDevice.adapterInfo). */
  readonly adapterInfo?: AdapterInfoLike;
  /** Run this variant (by id; 'generic' is always the default schedule) instead of selecting one: for tests and comparisons. */
  readonly variant?: string;
}

interface Prepared {
  readonly selection: Selection;
  readonly layout: GPUBindGroupLayout;
  readonly pipelines: GPUComputePipeline[];
}

const prepared = new WeakMap<GPUDevice, Map<string, Prepared>>();

/**
 * The variant with this id; 'generic' always names the default schedule, also when a tuned variant
 * shares its code (the variant then carries that device's id and \`generic: true\`).
 */
export function variantById(id: string): Variant {
  const v = id === 'generic' ? variants.find((x) => x.generic) : variants.find((x) => x.id === id);
  if (!v) throw new Error(\`\${metadata.name}: no variant '\${id}'; variants: \${[...new Set([...variants.map((x) => x.id), 'generic'])].join(', ')}\`);
  return v;
}

function selectionFor(device: GPUDevice, options: DispatchOptions): Selection {
  if (options.variant !== undefined) {
    const v = variantById(options.variant);
    return { variant: v, match: 'requested', reason: \`variant \${v.id} requested by the caller\` };
  }
  const info = options.adapterInfo ?? (device as GPUDevice & { adapterInfo?: AdapterInfoLike }).adapterInfo ?? {};
  return selectVariant(info, device.limits);
}

function prepare(device: GPUDevice, options: DispatchOptions): Prepared {
  const i = options.adapterInfo;
  // Adapter infos are platform objects (their fields are getters): keyed by the fields themselves.
  const key = options.variant !== undefined ? \`variant:\${options.variant}\` : i ? [i.vendor, i.architecture, i.device, i.description].join('\\u0000') : '';
  let byKey = prepared.get(device);
  if (!byKey) prepared.set(device, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;
  const selection = selectionFor(device, options);
  const module = device.createShaderModule({ code: selection.variant.wgsl });
  const layout = device.createBindGroupLayout({ entries: bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } })) });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipelines = selection.variant.entryPoints.map((e) => device.createComputePipeline({ layout: pipelineLayout, compute: { module, entryPoint: e.name } }));
  const made = { selection, layout, pipelines };
  byKey.set(key, made);
  return made;
}

/**
 * Runs the kernel on \`device\` with the variant selected for its adapter (chosen and compiled once
 * per device): every entry point in order in one compute pass, then waits for the queue. Returns
 * the selection, so a caller can log which variant ran and why.
 */
export async function dispatch(device: GPUDevice, buffers: Buffers, options: DispatchOptions = {}): Promise<Selection> {
  const { selection, layout, pipelines } = prepare(device, options);
  const bindGroup = device.createBindGroup({ layout, entries: bindings.map((b) => ({ binding: b.binding, resource: { buffer: buffers[b.name] } })) });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setBindGroup(0, bindGroup);
  selection.variant.entryPoints.forEach((e, i) => {
    pass.setPipeline(pipelines[i]!);
    pass.dispatchWorkgroups(e.dispatch[0]!, e.dispatch[1]!, e.dispatch[2]!);
  });
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return selection;
}
`;

/**
 * The module for `tuned` (one schedule per device, any order) and `generic` (the fallback). Its
 * text depends only on the inputs: devices are sorted by key, variants by their first device, and
 * the generic schedule comes last (or is marked on the tuned variant whose code it shares).
 */
export function deviceModuleArtifacts(tuned: readonly DeviceSchedule[], generic: { program: Program; traceHash: string }, info: DeviceModuleInfo): Artifacts {
  const name = new Names(C_RESERVED).own(info.name);
  const variants: Variant[] = [];
  const byCode = new Map<string, Variant>();
  let bindings: ReturnType<typeof render>['bindings'] | undefined;
  const add = (p: Program, traceHash: string, device: TunedDevice | undefined) => {
    const r = render(p);
    const sig = JSON.stringify(r.bindings);
    if (bindings && JSON.stringify(bindings) !== sig) throw new Error(`variants of ${info.workload} disagree on their bindings`);
    bindings ??= r.bindings;
    const code = JSON.stringify([r.wgsl, r.entryPoints]);
    let v = byCode.get(code);
    if (!v) {
      v = { id: '', generic: false, traceHash, devices: [], wgsl: r.wgsl, entryPoints: r.entryPoints, requires: kernelRequirements(r.k) };
      byCode.set(code, v);
      variants.push(v);
    }
    if (device) v.devices.push(device);
    else v.generic = true;
  };
  for (const t of [...tuned].sort((a, b) => a.device.key.localeCompare(b.device.key))) add(t.program, t.traceHash, t.device);
  add(generic.program, generic.traceHash, undefined);
  let n = 0;
  for (const v of variants) v.id = v.devices.length ? `v${++n}` : 'generic';

  const file = newTsFile(`${name}.ts`);
  const { VariableDeclarationKind } = tsMorph();
  const deviceLines = variants.flatMap((v) => v.devices.map((d) => `//   ${v.id}: ${d.description || d.device || '(no description)'} ${d.vendor}/${d.architecture} (${d.key}), ${d.origin}`));
  file.insertText(0, [
    `// generated by loopsmith from ${info.workload}`,
    `// one WGSL variant per device tuned, a generic fallback, and a selector; do not edit, regenerate with \`loopsmith emit --devices\` or \`loopsmith build\``,
    ...deviceLines,
    `//   generic: ${variants.find((v) => v.generic)!.id === 'generic' ? 'the default schedule' : `shares ${variants.find((v) => v.generic)!.id}`} (schedule ${generic.traceHash})`,
    '/// <reference types="@webgpu/types" />',
    '',
  ].join('\n') + '\n');
  file.addInterface({
    name: 'Buffers', isExported: true,
    docs: ['Storage buffers by name: inputs are read, outputs written. Sizes in bytes are in `bindings`.'],
    properties: bindings!.map((b) => ({ name: JSON.stringify(b.name), type: 'GPUBuffer' })),
  });
  file.addInterface({
    name: 'TunedDevice', isExported: true, docs: ['A device a variant was tuned on, as its adapter reported itself.'],
    properties: ['key', 'vendor', 'architecture', 'device', 'description', 'origin'].map((p) => ({ name: p, type: 'string', isReadonly: true })),
  });
  file.addInterface({
    name: 'Variant', isExported: true, docs: ['One WGSL kernel, the devices it was tuned on, and the least device limits it needs.'],
    properties: [
      { name: 'id', type: 'string' }, { name: 'generic', type: 'boolean' }, { name: 'traceHash', type: 'string' },
      { name: 'devices', type: 'readonly TunedDevice[]' }, { name: 'wgsl', type: 'string' },
      { name: 'entryPoints', type: 'readonly { readonly name: string; readonly workgroupSize: readonly number[]; readonly dispatch: readonly number[] }[]' },
      { name: 'requires', type: 'Readonly<Record<string, number>>' },
    ].map((p) => ({ ...p, isReadonly: true })),
  });
  file.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const, docs: ['The kernel: its workload and name.'],
    declarations: [{ name: 'metadata', initializer: `${JSON.stringify({ name, workload: info.workload })} as const` }],
  });
  file.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const, docs: ['Bindings of group 0, the same for every variant.'],
    declarations: [{ name: 'bindings', initializer: `${JSON.stringify(bindings, null, 2)} as const` }],
  });
  file.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const, docs: ['Every variant; the generic one last unless a tuned one shares its code.'],
    declarations: [{ name: 'variants', type: 'readonly Variant[]', initializer: JSON.stringify(variants, null, 2) }],
  });
  file.addStatements(RUNTIME);
  file.formatText({ indentSize: 2 });
  return { [`${name}.ts`]: file.getFullText() };
}
