/**
 * What the test suite needs from the machine besides `npm ci`, each with a probe and the command
 * that installs it. The suite runs every test (WebGPU's too): a missing prerequisite stops it at the
 * start with one line each, instead of skipping tests or failing them one by one with stack traces.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Prerequisite {
  readonly name: string;
  /** Which tests need it. */
  readonly usedBy: string;
  /** The command that installs it (as root, on Debian). */
  readonly install: string;
  /** Undefined when present, else what is wrong. */
  readonly probe: () => string | undefined;
}

/** The one command that installs every prerequisite and runs the tests. */
export const INSTALL_ALL = 'bash .ci/run';

const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';

/** A probe: does the program answer `args` with exit status 0? */
export function answers(command: string, args: readonly string[], timeoutMs = 30_000): () => string | undefined {
  return () => {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} not found` : `${command}: ${r.error.message}`;
    return r.status === 0 ? undefined : `${command} ${args.join(' ')} failed: ${lastLine(r.stderr || r.stdout) || `exit ${r.status}`}`;
  };
}

/** The WebGPU device opens, as the WebGPU target opens it (in a process of its own, as the target does). */
function webgpuOpens(): string | undefined {
  const device = new URL('../../targets/webgpu/device.js', import.meta.url).href;
  const script = `import(${JSON.stringify(device)}).then((m) => m.openDevice()).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'], cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
  if (r.error) return `the WebGPU device did not open: ${r.error.message}`;
  return r.status === 0 ? undefined : `the WebGPU device did not open: ${lastLine(r.stderr) || `exit ${r.status}`}`;
}

export const PREREQUISITES: readonly Prerequisite[] = [
  { name: 'C compiler (cc)', usedBy: "the C target's and the CLI's tests", install: 'apt-get install gcc', probe: answers('cc', ['--version']) },
  { name: 'make', usedBy: 'the examples/gemm-app test', install: 'apt-get install make', probe: answers('make', ['--version']) },
  {
    name: 'a WebGPU device (a Vulkan driver)', usedBy: "the WebGPU target's tests", probe: webgpuOpens,
    install: 'apt-get install libvulkan1 mesa-vulkan-drivers (Mesa 23 or later: on Debian bookworm from bookworm-backports, see the README)',
  },
  { name: 'redis-server', usedBy: 'the measurement farm\'s tests, which start a real Redis on a loopback port', install: 'apt-get install redis-server', probe: answers('redis-server', ['--version']) },
  { name: 'oneDNN (libdnnl-dev) and g++', usedBy: 'the oneDNN peer\'s test (bench/onednn.ts)', install: 'apt-get install g++ libdnnl-dev', probe: () => (answers('g++', ['--version'])() ?? (existsSync('/usr/include/oneapi/dnnl/dnnl.hpp') ? undefined : 'no /usr/include/oneapi/dnnl/dnnl.hpp')) },
  { name: 'chromium', usedBy: 'the HTML report test, which screenshots the report', install: 'apt-get install chromium', probe: answers('chromium', ['--version']) },
];

/** One line per missing prerequisite, then one naming the command that installs them all; empty when all are present. */
export function missingPrerequisites(list: readonly Prerequisite[] = PREREQUISITES): string[] {
  const lines = list.flatMap((p) => {
    const problem = p.probe();
    return problem === undefined ? [] : [`missing: ${p.name}, needed by ${p.usedBy} (${problem}); install: ${p.install}`];
  });
  return lines.length ? [...lines, `${lines.length} test prerequisite${lines.length > 1 ? 's are' : ' is'} missing; \`${INSTALL_ALL}\` installs them all (as root) and runs the tests`] : [];
}
