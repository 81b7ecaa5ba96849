/**
 * A kernels manifest (`loopsmith build kernels.json`): read as a regular file under 1 MiB, parsed
 * by MANIFEST_SCHEMA (an unknown field names the nearest known one), then what the schema cannot
 * know: the operator and its parameters (and that their buffers fit this machine, as for every
 * kernel that gets compiled, verified or not), the registered targets and their languages, unique
 * names, and where `out` really goes.
 */
import { dirname, resolve } from 'node:path';
import { InputError } from '../ir/errors.js';
import { Workload, workload } from '../ir/ops/index.js';
import { fields, nonEmpty, parseJsonText, parseWith, safeInt, z } from '../ir/schema.js';
import { LANGUAGES, Language } from '../codegen/artifacts.js';
import { targetDefinition, targetNames } from '../targets/registry.js';
import { checkBuffersFit } from '../targets/workload-fits.js';
import { DEFAULT_RECORDS_PATH } from '../tuner/records.js';
import { InputKind, readInputFile } from '../tuner/input-file.js';
import { DeviceChoice, parseDevices } from './device-variants.js';
import { isOutside, realPathAhead } from './output-files.js';

export interface KernelSpec {
  readonly name: string;
  readonly workload: Workload;
  readonly target: string;
  readonly language: Language;
  readonly out: string;
  readonly schedule?: string;
  readonly fallback?: boolean;
  /** One module for these devices' records (a variant each) instead of this machine's best. */
  readonly devices?: DeviceChoice;
  readonly verify: boolean;
}

export interface Manifest {
  readonly records: string;
  readonly kernels: readonly KernelSpec[];
}

const MANIFEST_FILE: InputKind = { what: 'kernels manifest', maxBytes: 1 << 20, legal: 'a kernels manifest is a JSON file of at most 1 MiB' };

/** What a kernel name is: it names the generated files and functions (a manifest's `name`, `emit --name`). */
export const KERNEL_NAME_LEGAL = 'an identifier (letters, digits, _): it names the generated files and functions';
export const KERNEL_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: `must be ${KERNEL_NAME_LEGAL}` });

const KERNEL_SCHEMA = fields({
  name: KERNEL_NAME,
  op: nonEmpty,
  params: z.record(z.string(), safeInt),
  target: nonEmpty.optional(),
  language: z.enum(LANGUAGES as unknown as [Language, ...Language[]]).optional(),
  out: nonEmpty,
  schedule: nonEmpty.optional(),
  fallback: z.boolean().optional(),
  devices: z.union([nonEmpty, z.array(nonEmpty).min(1)], { error: '"all", or a list of fingerprint keys' }).optional(),
  verify: z.boolean().optional(),
});

/** The manifest as JSON: `{"records"?: path, "kernels": [...]}`. */
export const MANIFEST_SCHEMA = fields({
  $schema: z.string().optional(),
  records: nonEmpty.optional(),
  kernels: z.array(KERNEL_SCHEMA).min(1, { error: 'must list at least one kernel' }),
});

/**
 * Reads and checks a kernels manifest. Relative paths are relative to the manifest's folder,
 * absolute ones stay as they are; an `out` outside that folder (by `..`, an absolute path or a
 * symbolic link on the way) needs `allowOutside`.
 */
export function readManifest(path: string, allowOutside: boolean): Manifest {
  const json = parseJsonText(readInputFile(path, MANIFEST_FILE));
  if (!json.ok) throw new InputError(`${path}: the manifest ${json.problem}`);
  const m = parseWith(MANIFEST_SCHEMA, json.value, '', (problem) => {
    throw new InputError(`${path}: ${problem}; a manifest is {"records"?: path, "kernels": [{"name", "op", "params", "out", "target"?, "language"?, "schedule"?, "fallback"?, "devices"?, "verify"?}]}`);
  });
  const dir = dirname(resolve(path));
  const realDir = realPathAhead(dir);
  const firstNamed = new Map<string, number>();
  const kernels = m.kernels.map((k, i): KernelSpec => {
    const where = `${path}: kernels[${i}]`;
    const bad = (field: string, problem: string): never => {
      throw new InputError(`${where}.${field}: ${problem}`);
    };
    let w: Workload;
    try {
      w = workload(k.op, k.params);
      checkBuffersFit(w);
    } catch (e) {
      if (e instanceof InputError) return bad('params', e.message);
      throw e;
    }
    const target = k.target ?? 'c';
    if (!targetNames().includes(target)) bad('target', `must be one of ${targetNames().join(', ')}, got "${target}"`);
    const writes = targetDefinition(target).languages;
    if (!writes.length) bad('target', `${target} has no kernel language to write; targets that do: ${targetNames().filter((n) => targetDefinition(n).languages.length).join(', ')}`);
    const language = k.language ?? writes[0]!;
    if (!writes.includes(language)) bad('language', `${language} does not run on target ${target} (${target} writes ${writes.join(', ')})`);
    const twin = firstNamed.get(k.name);
    if (twin !== undefined) throw new InputError(`${path}: kernels[${twin}] and kernels[${i}] are both named "${k.name}"; kernel names must be unique (they name the generated files)`);
    firstNamed.set(k.name, i);
    const devices = k.devices === undefined ? undefined : parseDevices(k.devices, `${where}.devices`);
    if (devices && k.schedule) bad('devices', 'takes each device\'s schedule from the records; drop "schedule" (it names one schedule for one device)');
    if (devices && language !== 'ts' && language !== 'c') bad('devices', `writes a module for many devices in language ts or c, not ${language}`);
    const out = resolve(dir, k.out);
    // Where the files really go: a symbolic link on the way (the folder itself or a parent) counts as `..` does.
    const realOut = realPathAhead(out);
    if (!allowOutside && (isOutside(out, dir) || isOutside(realOut, realDir))) {
      const through = isOutside(out, dir) ? '' : ` (through a symbolic link, it is ${realOut})`;
      bad('out', `${k.out} is outside the manifest's folder ${dir}${through}; write under it, or pass --allow-outside`);
    }
    return {
      name: k.name, workload: w, target, language, out, verify: k.verify !== false,
      ...(k.schedule ? { schedule: resolve(dir, k.schedule) } : {}), ...(k.fallback ? { fallback: true } : {}), ...(devices ? { devices } : {}),
    };
  });
  return { records: resolve(dir, m.records ?? DEFAULT_RECORDS_PATH), kernels };
}
