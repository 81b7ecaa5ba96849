import { createRequire } from 'node:module';
import type * as TsMorph from 'ts-morph';

let loaded: typeof TsMorph | undefined;

/**
 * ts-morph, loaded on first use: with the TypeScript compiler inside it, it takes ~0.7 s to load,
 * which every CLI start paid before (a `loopsmith ops` took 1.3 s), though only TS emits need it.
 */
export function tsMorph(): typeof TsMorph {
  return (loaded ??= createRequire(import.meta.url)('ts-morph') as typeof TsMorph);
}

/** An empty in-memory source file formatted as loopsmith's modules are (two spaces, single quotes). */
export function newTsFile(name: string): TsMorph.SourceFile {
  const { Project, IndentationText, QuoteKind } = tsMorph();
  const project = new Project({ useInMemoryFileSystem: true, manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Single } });
  return project.createSourceFile(name, '', { overwrite: true });
}
