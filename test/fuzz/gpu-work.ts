import { Stmt, isGpuAxis } from '../../ir/loop.js';
import { Program } from '../../ir/program.js';

/** Statements one invocation executes, and barriers one workgroup passes, with every `if` taken. */
export function serialWork(p: Program): { statements: number; barriers: number } {
  let statements = 0, barriers = 0;
  const walk = (s: Stmt, times: number): void => {
    switch (s.kind) {
      case 'for': return walk(s.body, isGpuAxis(s.loopKind) ? times : times * s.extent);
      case 'seq': return s.body.forEach((b) => walk(b, times));
      case 'if': return walk(s.then, times);
      case 'alloc': return walk(s.body, times);
      case 'store': statements += times; return;
      case 'barrier': barriers += times; return;
    }
  };
  walk(p.body, 1);
  return { statements, barriers };
}

/**
 * Statements in the shader once the driver has unrolled every loop of at most `limit` iterations
 * (Mesa's NIR does so for constant trip counts): loops above the limit stay loops, so their body counts once.
 */
export function unrolledStatements(p: Program, limit = 32): number {
  let total = 0;
  const walk = (s: Stmt, times: number): void => {
    switch (s.kind) {
      case 'for': return walk(s.body, isGpuAxis(s.loopKind) ? times : s.extent <= limit ? times * s.extent : 1);
      case 'seq': return s.body.forEach((b) => walk(b, times));
      case 'if': return walk(s.then, times);
      case 'alloc': return walk(s.body, times);
      case 'store': total += times; return;
      case 'barrier': return;
    }
  };
  walk(p.body, 1);
  return total;
}
