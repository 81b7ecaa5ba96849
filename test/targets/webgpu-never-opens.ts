/**
 * A stand-in for the WebGPU device process whose driver hangs while opening: it never says
 * 'ready'. It writes its pid where LOOPSMITH_TEST_PIDFILE says, so the test can see it was killed.
 */
import { writeFileSync } from 'node:fs';

if (process.env.LOOPSMITH_TEST_PIDFILE) writeFileSync(process.env.LOOPSMITH_TEST_PIDFILE, String(process.pid));
setInterval(() => undefined, 60_000);
