/**
 * The host C compiler: which one it is, which version, the default flags for this CPU, and a
 * fingerprint of (CPU, compiler, flags, threads) that keys tuning records so results measured on
 * one machine, toolchain or thread count are never taken for another's.
 */
import { spawnSync } from 'node:child_process';
import { InputError } from '../ir/errors.js';
import { structuralHash } from '../ir/hash.js';
import type { CpuCapabilities } from './cpu-info.js';

export interface CompilerInfo {
  readonly command: string;
  readonly family: 'gcc' | 'clang' | 'unknown';
  readonly version: string;
  readonly versionLine: string;
}

const VERSION_TIMEOUT_MS = 10_000;

/** Collapse any text to a single trimmed line (error messages must be one line). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Parse `<command> --version` output. Pure, for tests. Recognizes clang (including Apple's)
 * and gcc (also when invoked as `cc`, whose first line does not say "gcc").
 */
export function parseCompilerVersion(command: string, output: string): CompilerInfo {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const versionLine = lines[0] ?? '';
  let family: CompilerInfo['family'] = 'unknown';
  let version = '';
  const clang = /\bclang version (\d+(?:\.\d+)*)/i.exec(output);
  if (clang !== null) {
    family = 'clang';
    version = clang[1]!;
  } else if (/Free Software Foundation|\bgcc\b|\(GCC\)|\bg\+\+/i.test(output)) {
    family = 'gcc';
    // "cc (Debian 12.2.0-14+deb12u1) 12.2.0", "gcc (GCC) 13.2.1 20230801": drop the parenthesized
    // vendor part, then take the first dotted number.
    const m = /\b(\d+\.\d+(?:\.\d+)?)\b/.exec(versionLine.replace(/\([^)]*\)/g, ' '));
    version = m?.[1] ?? '';
  } else {
    const m = /\b(\d+\.\d+(?:\.\d+)?)\b/.exec(versionLine);
    version = m?.[1] ?? '';
  }
  return { command, family, version, versionLine };
}

type Outcome = { readonly ok: true; readonly info: CompilerInfo } | { readonly ok: false; readonly message: string };
const memo = new Map<string, Outcome>();

function probe(command: string): Outcome {
  const other = /\bgcc\b|g\+\+/.test(command) ? 'clang' : 'gcc';
  const hint = `install it or pass --cc ${other}`;
  if (command.trim() === '') return { ok: false, message: `C compiler name is empty; ${hint}` };
  const r = spawnSync(command, ['--version'], {
    encoding: 'utf8',
    shell: false,
    timeout: VERSION_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'not found' : code === 'ETIMEDOUT' ? 'did not answer --version in time' : 'could not be run';
    // Node says "spawnSync cc ENOENT"; report it as the plain "spawn cc ENOENT" users know.
    const detail = code !== undefined ? `spawn ${command} ${code}` : oneLine(r.error.message);
    return { ok: false, message: `C compiler '${command}' ${what} (${oneLine(detail)}); ${hint}` };
  }
  if (r.status !== 0) {
    const why = r.signal !== null ? `killed by ${r.signal}` : `exit status ${r.status}`;
    const detail = oneLine((r.stderr || r.stdout || '').split('\n').find((l) => l.trim() !== '') ?? '');
    return { ok: false, message: `C compiler '${command}' failed on --version (${why}${detail ? `: ${detail}` : ''}); ${hint}` };
  }
  return { ok: true, info: parseCompilerVersion(command, `${r.stdout}\n${r.stderr}`) };
}

/**
 * Identify the C compiler `command` by running `<command> --version` (no shell, 10 s timeout).
 * Memoized per command. Throws InputError (one-line message) if it is missing or fails.
 */
export function detectCompiler(command = 'cc'): CompilerInfo {
  let outcome = memo.get(command);
  if (outcome === undefined) {
    outcome = probe(command);
    memo.set(command, outcome);
  }
  if (!outcome.ok) throw new InputError(outcome.message);
  return outcome.info;
}

/**
 * Default optimization flags for this CPU. `-mprefer-vector-width=512` makes gcc/clang actually use
 * zmm registers on AVX-512 parts (both default to 256-bit there); it is only added for compilers
 * known to accept it.
 */
export function defaultCFlags(cpu: CpuCapabilities, compiler: CompilerInfo): string[] {
  // ISO C mode turns off multiply-add contraction; kernels want FMA (results stay within tolerance).
  const flags = ['-O3', '-march=native', '-std=c11', '-ffp-contract=fast'];
  if (cpu.isa === 'avx512' && compiler.family !== 'unknown') flags.push('-mprefer-vector-width=512');
  return flags;
}

/** A type alias, not an interface: only a type literal is assignable to a `Fingerprint` record. */
export type CpuFingerprint = {
  readonly model: string;
  readonly isa: string;
  readonly flags: readonly string[];
  readonly compiler: string;
  readonly compilerVersion: string;
  readonly cflags: readonly string[];
  /** OpenMP threads the kernels ran on: a kernel's speed depends on it as much as on the flags. */
  readonly threads: number;
  readonly key: string;
};

/**
 * Identity of what a measurement was taken under: the CPU, compiler, flags and thread count. `key`
 * is `cpu:<first 16 hex of sha256 of the canonical JSON of the other fields>`: identical inputs give
 * identical keys on every run. CPU flags are sorted (a set); cflags keep their order (it matters).
 * One thread leaves `threads` out of the hash: records written before threads were part of the
 * fingerprint ran on one thread (the default then) and keep their key, so they still count as this
 * device's records at one thread, and only other thread counts get new keys.
 */
export function cpuFingerprint(cpu: CpuCapabilities, compiler: CompilerInfo, cflags: readonly string[], threads = 1): CpuFingerprint {
  const fields = {
    model: cpu.model,
    isa: cpu.isa,
    flags: [...new Set(cpu.flags)].sort(),
    compiler: compiler.family === 'unknown' ? compiler.command : compiler.family,
    compilerVersion: compiler.version !== '' ? compiler.version : compiler.versionLine,
    cflags: [...cflags],
  };
  return { ...fields, threads, key: cpuKey(fields, threads) };
}

/** The key of a C fingerprint's fields: one thread leaves `threads` out of the hash (see cpuFingerprint). */
function cpuKey(fields: Omit<CpuFingerprint, 'threads' | 'key'>, threads: number): string {
  return `cpu:${structuralHash(threads === 1 ? fields : { ...fields, threads })}`;
}

/** The threads a C fingerprint was measured with; one without the field predates it and ran on one (the default). */
export function fingerprintThreads(fp: Readonly<Record<string, unknown>>): number {
  const t = fp.threads;
  return typeof t === 'number' && Number.isInteger(t) && t >= 1 ? t : 1;
}

/**
 * The key the fields of a stored C fingerprint give, or undefined when it lacks them (a record
 * from a test or another tool): a record whose key is not its fields' would be counted as another
 * device's (a 2-thread measurement under the 1-thread key).
 */
export function cpuFingerprintKey(fp: Readonly<Record<string, unknown>>): string | undefined {
  const { model, isa, flags, compiler, compilerVersion, cflags } = fp;
  const strs = (x: unknown): x is string[] => Array.isArray(x) && x.every((v) => typeof v === 'string');
  if (typeof model !== 'string' || typeof isa !== 'string' || !strs(flags) || typeof compiler !== 'string' || typeof compilerVersion !== 'string' || !strs(cflags)) return undefined;
  return cpuKey({ model, isa, flags: [...new Set(flags)].sort(), compiler, compilerVersion, cflags: [...cflags] }, fingerprintThreads(fp));
}
