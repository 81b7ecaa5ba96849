import { createHash } from 'node:crypto';
import { Program } from '../../ir/program.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { CKernel, renderC } from '../../codegen/c/render.js';
import { Candidate } from '../target.js';
import { harnessSource } from './harness.js';

/** A C kernel ready to compile: the kernel, and the kernel with its harness (what is compiled). */
export interface CCandidate extends Candidate {
  readonly kernel: CKernel;
  readonly compiled: string;
}

const FUNCTION = 'loopsmith_kernel';

export function cCandidate(p: Program, lanes: number): CCandidate {
  const kernel = renderC(lowerForCodegen(p, undefined, { prepare: true }), FUNCTION, { lanes });
  const positions = kernel.params.map((q) => p.buffers.findIndex((b) => b.name === q.name));
  const compiled = kernel.source + harnessSource(kernel, positions);
  return { kernel, program: p, source: kernel.source, compiled, codeHash: createHash('sha256').update(compiled).digest('hex').slice(0, 16) };
}
