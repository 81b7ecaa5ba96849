import { printExpr } from './expr.js';
import { BufferDecl, Stmt } from './loop.js';
import { Program } from './program.js';

const ACCUM_OP = { assign: '=', sum: '+=', max: 'max=', min: 'min=' } as const;

function describeBuffer(b: BufferDecl): string {
  return `${b.name}: ${b.dtype}[${b.shape.join(', ')}]`;
}

/** Pseudo-code loop nest, one statement a line, indented by nesting depth. */
export function printStmt(s: Stmt, indent = 0): string[] {
  const pad = '  '.repeat(indent);
  switch (s.kind) {
    case 'for': {
      const notes = [s.axis === 'reduce' ? 'reduce' : '', s.loopKind === 'serial' ? '' : s.loopKind].filter(Boolean);
      const note = notes.length ? `  // ${notes.join(', ')}` : '';
      return [`${pad}for ${s.var} in 0..${s.extent}:${note}`, ...printStmt(s.body, indent + 1)];
    }
    case 'seq':
      return s.body.flatMap((x) => printStmt(x, indent));
    case 'store':
      return [`${pad}${s.buffer}[${s.indices.map((i) => printExpr(i)).join(', ')}] ${ACCUM_OP[s.accum]} ${printExpr(s.value)}`];
    case 'if':
      return [`${pad}if ${printExpr(s.cond)}:`, ...printStmt(s.then, indent + 1)];
    case 'alloc':
      return [`${pad}alloc ${s.buffer.scope} ${describeBuffer(s.buffer)}`, ...printStmt(s.body, indent)];
    case 'barrier':
      return [`${pad}barrier()`];
  }
}

export function printProgram(p: Program): string {
  const params = p.buffers.map((b) => `  ${b.role === 'output' ? 'out' : 'in '} ${describeBuffer(b)}`);
  return [`kernel ${p.name}(`, ...params, ')', ...printStmt(p.body)].join('\n');
}
