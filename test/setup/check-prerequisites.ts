/**
 * Loaded by mocha before any test file (.mocharc.json `require`), so that on a fresh machine the
 * suite stops with one line per missing prerequisite instead of many failures; test files that
 * touch a device when they load never get to.
 */
import { missingPrerequisites } from './prerequisites.js';

const missing = missingPrerequisites();
if (missing.length) {
  for (const line of missing) process.stderr.write(`${line}\n`);
  process.exit(1);
}
