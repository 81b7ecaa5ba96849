/**
 * The targets loopsmith knows, by name. A new target is a definition and one `registerTarget`
 * line: here for the built-in ones, or in a plugin module named in LOOPSMITH_PLUGINS.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError, LoopsmithError } from '../ir/errors.js';
import { entryKind } from '../tuner/input-file.js';
import { LANGUAGES, type Language } from '../codegen/artifacts.js';
import { check, fields, parseWith, shown, z } from '../ir/schema.js';
import { cTarget } from './c/target.js';
import { webgpuTarget } from './webgpu/target.js';
import { MeasureSettings, Target, TargetDefinition, TargetOption } from './target.js';

const definitions = new Map<string, TargetDefinition>();

const NAME = z.string().regex(/^[a-z][a-z0-9-]*$/, { error: (iss) => `must be lower-case letters, digits and '-', starting with a letter, got ${shown(iss.input)}` });

/**
 * What a target module registers (a plugin's, from LOOPSMITH_PLUGINS, is checked like the built-in
 * ones): a name, the command-line options it reads, the languages it writes and its factory.
 */
const TARGET_DEFINITION_SCHEMA = z.looseObject({
  name: NAME,
  options: z.array(fields({ name: NAME, describe: z.string(), default: z.string().optional(), flagList: z.literal(true).optional() })),
  languages: z.array(z.enum(LANGUAGES as unknown as [Language, ...Language[]])),
  create: z.custom<TargetDefinition['create']>((v) => typeof v === 'function', { error: 'must be a function (settings, options) => Target' }),
});

/** Registers a target; a malformed definition or a taken name is an InputError naming the problem. */
export function registerTarget(d: TargetDefinition): void {
  parseWith(TARGET_DEFINITION_SCHEMA, d, `target ${typeof d?.name === 'string' ? `'${d.name}'` : 'definition'}`, (m) => {
    throw new InputError(`registerTarget: ${m}`);
  });
  if (definitions.has(d.name)) throw new InputError(`registerTarget: target '${d.name}' is registered twice`);
  definitions.set(d.name, d);
}

registerTarget(cTarget);
registerTarget(webgpuTarget);

export function targetNames(): string[] {
  return [...definitions.keys()];
}

export function targetDefinition(name: string): TargetDefinition {
  const d = definitions.get(name);
  if (!d) throw new InputError(`unknown target '${name}'; targets: ${targetNames().join(', ')}`);
  return d;
}

/** Every registered target's command-line options, each once. */
export function targetOptions(): TargetOption[] {
  const seen = new Map<string, TargetOption>();
  for (const d of definitions.values()) for (const o of d.options) if (!seen.has(o.name)) seen.set(o.name, o);
  return [...seen.values()];
}

/** The target that `loopsmith emit` uses for a language. */
export function targetForLanguage(lang: Language): TargetDefinition {
  const d = [...definitions.values()].find((x) => x.languages.includes(lang));
  if (!d) throw new InputError(`no target writes language '${lang}'`);
  return d;
}

export interface TargetRequest {
  readonly settings?: Partial<MeasureSettings>;
  /** Options by name; the target takes those it declares (see `targetDefinition(name).options`). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Targets registered by plugin modules, with the module that registered each. */
const fromPlugins = new Map<string, string>();

const method = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' });

/** What a plugin's `create` must return: the Target interface's members that exist before `open` (targets/target.ts). */
const PLUGIN_TARGET_SCHEMA = z.looseObject({
  name: z.string(), settings: z.looseObject({}),
  open: method, close: method, compatible: method, candidate: method, build: method, run: method, release: method,
});

/** Makes a target without starting its device (enough to render candidates). */
export function createTarget(name: string, req: TargetRequest = {}): Target {
  const d = targetDefinition(name);
  const given = req.options ?? {};
  // Only the target's own options: a command line holds every target's, and other arguments.
  const options = Object.fromEntries(d.options.filter((o) => given[o.name] !== undefined).map((o) => [o.name, given[o.name]]));
  const plugin = fromPlugins.get(name);
  if (plugin === undefined) return d.create(req.settings ?? {}, options);
  // A plugin's fault is named as the plugin's, in one line, not reported as loopsmith's internal error.
  const bad = (problem: string): never => {
    throw new InputError(`target '${name}' of plugin '${plugin}' (LOOPSMITH_PLUGINS) ${problem}`);
  };
  let t: Target;
  try {
    t = d.create(req.settings ?? {}, options);
  } catch (e) {
    if (e instanceof LoopsmithError) throw e;
    return bad(`failed to start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const shape = check(PLUGIN_TARGET_SCHEMA, t);
  if (!shape.ok) bad(`made an object that is not a Target: ${shape.problem}`);
  return t;
}

export async function openTarget(name: string, req: TargetRequest = {}): Promise<Target> {
  const t = createTarget(name, req);
  try {
    await t.open();
  } catch (e) {
    await t.close();
    throw e;
  }
  return t;
}

/** Plugin modules imported so far, by URL or package name. */
const loaded = new Set<string>();

/**
 * Loads the plugin modules named in `LOOPSMITH_PLUGINS` (comma-separated files, or package names
 * where no such file exists); each registers its targets when imported.
 */
export async function loadPlugins(list = process.env.LOOPSMITH_PLUGINS ?? ''): Promise<void> {
  const legal = 'give comma-separated paths to ES modules that call registerTarget';
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const st = statSync(entry, { throwIfNoEntry: false });
    // Importing a FIFO waits for a writer and /dev/zero never ends: only a regular file is imported.
    if (st && !st.isFile()) throw new InputError(`cannot load plugin '${entry}' named in LOOPSMITH_PLUGINS: it is ${entryKind(st)}, not a regular file; ${legal}`);
    const spec = st ? pathToFileURL(resolve(entry)).href : entry;
    // Named twice: the module is imported (and registers) once.
    if (loaded.has(spec)) continue;
    loaded.add(spec);
    const before = new Set(definitions.keys());
    try {
      await import(spec);
    } catch (e) {
      throw new InputError(`cannot load plugin '${entry}' named in LOOPSMITH_PLUGINS: ${(e as Error).message.split('\n')[0]}; ${legal}`);
    }
    const added = [...definitions.keys()].filter((name) => !before.has(name));
    // Most often it imported registerTarget from another copy of loopsmith: its targets went to that copy's registry.
    if (!added.length) throw new InputError(`plugin '${entry}' named in LOOPSMITH_PLUGINS registered no target; it must call registerTarget from this loopsmith's ${fileURLToPath(import.meta.url)}`);
    for (const name of added) fromPlugins.set(name, entry);
  }
}
