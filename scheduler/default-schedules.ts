import { ForStmt, Stmt, collectLoops, isGpuAxis } from '../ir/loop.js';
import { Program } from '../ir/program.js';
import { perfectChain } from './locate.js';
import { fusedName } from './primitives/fuse.js';
import { Step, Trace, trace } from './trace.js';

const MAX_GROUPS = 65535;

/** The spatial loops at the top of a nest, outermost first, while they nest perfectly. */
function outerSpatial(nest: Stmt): ForStmt[] {
  if (nest.kind !== 'for') return [];
  const out: ForStmt[] = [];
  for (const l of perfectChain(nest)) {
    if (l.axis !== 'spatial' || l.loopKind !== 'serial') break;
    out.push(l);
  }
  // The last loop of a perfect chain may have a non-loop body; include it only if spatial.
  return out;
}

/**
 * The default GPU schedule, derived from the loop structure of any computation: in each top-level
 * nest, the outer spatial loops are fused into one index over all outputs, which is split into
 * workgroups of `threads` invocations, one output element per invocation.
 */
export function defaultGpuTrace(p: Program, threads = 64, workload?: string): Trace {
  const steps: Step[] = [];
  const tops = p.body.kind === 'seq' ? p.body.body : [p.body];
  for (const nest of tops) {
    // A nest someone already bound keeps its binding.
    if (collectLoops(nest).some((l) => isGpuAxis(l.loopKind))) continue;
    const loops = outerSpatial(nest);
    if (loops.length === 0) continue;
    let name = loops[0]!.var;
    let total = loops[0]!.extent;
    for (const l of loops.slice(1)) {
      steps.push({ prim: 'fuse', outer: name, inner: l.var });
      name = fusedName(name, l.var);
      total *= l.extent;
    }
    const t = Math.min(threads, total);
    const groups = Math.ceil(total / t);
    const tail = total % t === 0 ? 'requireDivisible' : 'guard';
    if (groups <= MAX_GROUPS) {
      steps.push({ prim: 'split', loop: name, factors: [t], tail });
      steps.push({ prim: 'bind', loop: `${name}.0`, axis: 'workgroup.x' }, { prim: 'bind', loop: `${name}.1`, axis: 'thread.x' });
    } else {
      const y = Math.ceil(groups / MAX_GROUPS);
      steps.push({ prim: 'split', loop: name, factors: [y, t], tail: total % (t * y) === 0 ? 'requireDivisible' : 'guard' });
      steps.push({ prim: 'bind', loop: `${name}.0`, axis: 'workgroup.x' }, { prim: 'bind', loop: `${name}.1`, axis: 'workgroup.y' }, { prim: 'bind', loop: `${name}.2`, axis: 'thread.x' });
    }
  }
  return trace(steps, workload);
}
