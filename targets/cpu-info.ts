/**
 * What the host CPU can do, as far as code generation cares: core count, SIMD ISA level and
 * width, and cache sizes. Linux sources (/proc/cpuinfo, /sys/devices/system/cpu) are read once;
 * all parsing is done by pure functions below so tests can feed fixture texts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

export type VectorIsa = 'avx512' | 'avx2' | 'sse' | 'neon' | 'none';

export interface CpuCapabilities {
  readonly cores: number;
  readonly model: string;
  readonly isa: VectorIsa;
  /** The SIMD-relevant flags found (see RELEVANT_FLAGS), sorted. */
  readonly flags: readonly string[];
  readonly vectorBits: number;
  readonly f32Lanes: number;
  /** Not detectable from the OS; kept so a user or a calibration run can fill it in. */
  readonly fmaUnits?: number;
  readonly cacheBytes: { readonly l1d?: number; readonly l2?: number; readonly l3?: number };
}

/** The curated set of flags that matter for vector code generation (x86 and Arm names). */
export const RELEVANT_FLAGS: readonly string[] = [
  // x86
  'sse2', 'ssse3', 'sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c',
  'avx512f', 'avx512vl', 'avx512bw', 'avx512dq', 'avx512cd', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_tile',
  // Arm
  'neon', 'asimd', 'asimdhp', 'fphp', 'sve', 'sve2',
];
const RELEVANT = new Set(RELEVANT_FLAGS);

/** Result of parsing /proc/cpuinfo: the first processor's model and all of its flags. */
export interface CpuinfoFields {
  readonly model?: string;
  readonly flags: readonly string[];
}

/**
 * Parse /proc/cpuinfo text. Only the first processor block is needed (all cores of a
 * machine share the ISA). The model is 'model name' (x86), else 'Processor'/'cpu model'
 * (older Arm/MIPS kernels); flags are 'flags' (x86) or 'Features' (Arm).
 */
export function parseCpuinfo(text: string): CpuinfoFields {
  let model: string | undefined;
  let altModel: string | undefined;
  let flags: string[] | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'model name' && model === undefined && value !== '') model = value;
    else if ((key === 'processor' || key === 'cpu model') && altModel === undefined && value !== '' && !/^\d+$/.test(value)) altModel = value;
    else if ((key === 'flags' || key === 'features') && flags === undefined) flags = value.split(/\s+/).filter((f) => f !== '');
    if (model !== undefined && flags !== undefined) break;
  }
  const chosen = model ?? altModel;
  return chosen === undefined ? { flags: flags ?? [] } : { model: chosen, flags: flags ?? [] };
}

/** The SIMD-relevant subset of a flag list, deduplicated and sorted. */
export function relevantFlags(flags: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of flags) {
    const lower = f.toLowerCase();
    if (RELEVANT.has(lower)) out.add(lower);
  }
  return [...out].sort();
}

/** The best vector ISA the flags support: avx512f+avx512vl > avx2+fma > sse4_2/sse2 > neon/asimd > none. */
export function isaFromFlags(flags: Iterable<string>): VectorIsa {
  const has = new Set([...flags].map((f) => f.toLowerCase()));
  if (has.has('avx512f') && has.has('avx512vl')) return 'avx512';
  if (has.has('avx2') && has.has('fma')) return 'avx2';
  if (has.has('sse4_2') || has.has('sse2')) return 'sse';
  if (has.has('asimd') || has.has('neon')) return 'neon';
  return 'none';
}

/** Register width in bits that the ISA's f32 vector code uses. */
export function vectorBitsFor(isa: VectorIsa): number {
  switch (isa) {
    case 'avx512': return 512;
    case 'avx2': return 256;
    case 'sse': return 128;
    case 'neon': return 128;
    case 'none': return 0;
  }
}

/** Vector registers the ISA's f32 code can use: 32 zmm on AVX-512 and 32 on NEON, 16 ymm/xmm on AVX2 and SSE. */
export function vectorRegistersFor(isa: VectorIsa): number {
  return isa === 'avx512' || isa === 'neon' ? 32 : 16;
}

/** Parse a sysfs cache size such as '32K', '1024K', '32M' (or plain bytes). Undefined if malformed. */
export function parseCacheSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const scale = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  const bytes = n * scale;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** One /sys/devices/system/cpu/cpuN/cache/indexM directory: the texts of its level, type and size files. */
export interface CacheIndexTexts {
  readonly level: string;
  readonly type: string;
  readonly size: string;
}

/** L1 data, L2 and L3 sizes from sysfs cache index entries (instruction caches ignored; first wins). */
export function parseCacheEntries(entries: readonly CacheIndexTexts[]): CpuCapabilities['cacheBytes'] {
  const out: { l1d?: number; l2?: number; l3?: number } = {};
  for (const e of entries) {
    const level = Number(e.level.trim());
    const type = e.type.trim().toLowerCase();
    if (type === 'instruction') continue;
    const size = parseCacheSize(e.size);
    if (size === undefined) continue;
    if (level === 1 && out.l1d === undefined) out.l1d = size;
    else if (level === 2 && out.l2 === undefined) out.l2 = size;
    else if (level === 3 && out.l3 === undefined) out.l3 = size;
  }
  return out;
}

/** The texts a detection reads; every part may be missing. */
export interface CpuSources {
  readonly cpuinfo?: string;
  readonly cacheEntries?: readonly CacheIndexTexts[];
  readonly cores?: number;
  readonly fallbackModel?: string;
  /** process.arch, used only when no flags could be read at all. */
  readonly arch?: string;
}

/** Combine raw sources into capabilities. Pure: detectCpu() only gathers the sources. */
export function capabilitiesFrom(src: CpuSources): CpuCapabilities {
  const parsed = src.cpuinfo === undefined ? { flags: [] as string[] } : parseCpuinfo(src.cpuinfo);
  let isa = isaFromFlags(parsed.flags);
  if (parsed.flags.length === 0) {
    // No flag list (non-Linux, or a restricted /proc): fall back to the architecture baseline.
    if (src.arch === 'x64') isa = 'sse';
    else if (src.arch === 'arm64') isa = 'neon';
  }
  const vectorBits = vectorBitsFor(isa);
  const cores = src.cores !== undefined && Number.isFinite(src.cores) && src.cores >= 1 ? Math.floor(src.cores) : 1;
  const model = parsed.model ?? (src.fallbackModel?.trim() || 'unknown');
  return {
    cores,
    model,
    isa,
    flags: relevantFlags(parsed.flags),
    vectorBits,
    f32Lanes: Math.max(1, vectorBits / 32),
    cacheBytes: parseCacheEntries(src.cacheEntries ?? []),
  };
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readCacheEntries(dir = '/sys/devices/system/cpu/cpu0/cache'): CacheIndexTexts[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^index\d+$/.test(n));
  } catch {
    return [];
  }
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const out: CacheIndexTexts[] = [];
  for (const n of names) {
    const level = tryRead(`${dir}/${n}/level`);
    const type = tryRead(`${dir}/${n}/type`);
    const size = tryRead(`${dir}/${n}/size`);
    if (level !== undefined && type !== undefined && size !== undefined) out.push({ level, type, size });
  }
  return out;
}

function availableCores(): number {
  try {
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  } catch {
    return 1;
  }
}

function fallbackModel(): string | undefined {
  try {
    return os.cpus()[0]?.model;
  } catch {
    return undefined;
  }
}

let cached: CpuCapabilities | undefined;

/** Capabilities of this machine. Memoized; never throws (missing sources give conservative values). */
export function detectCpu(): CpuCapabilities {
  if (cached !== undefined) return cached;
  let caps: CpuCapabilities;
  try {
    caps = capabilitiesFrom({
      cpuinfo: tryRead('/proc/cpuinfo'),
      cacheEntries: readCacheEntries(),
      cores: availableCores(),
      fallbackModel: fallbackModel(),
      arch: process.arch,
    });
  } catch {
    caps = capabilitiesFrom({ cores: 1, arch: process.arch });
  }
  cached = Object.freeze({ ...caps, flags: Object.freeze([...caps.flags]), cacheBytes: Object.freeze({ ...caps.cacheBytes }) });
  return cached;
}
