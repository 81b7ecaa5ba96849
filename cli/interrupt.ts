/**
 * Ctrl-C during a long search: the first asks the search to stop at its next boundary (the
 * candidate or slice in flight finishes and is recorded, so nothing measured is lost); a second
 * quits at once with the shell's 130. `release` removes the handler when the work is done.
 */
export function stopOnSigint(what: string): { readonly stop: { requested: boolean }; release(): void } {
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    process.stderr.write(`\nstopping after the ${what} in flight (Ctrl-C again to quit at once)...\n`);
  };
  process.on('SIGINT', onSigint);
  return { stop, release: () => process.off('SIGINT', onSigint) };
}
