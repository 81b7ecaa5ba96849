import type { Argv } from 'yargs';
import { timerSecondsOption as seconds } from './params.js';
import type { ConnectionOptions } from '../targets/farm/protocol.js';

/** The options withFarmOptions adds (operator commands must not read them as operator parameters). */
export const FARM_ARG_NAMES = ['farm', 'redis', 'redis-ca', 'connect-timeout'] as const;

/** `--farm URL` (alias `--redis`), `--redis-ca FILE` and `--connect-timeout S`. */
export function withFarmOptions<T>(a: Argv<T>, demand = false): Argv<T> {
  return a
    .option('farm', { type: 'string', alias: 'redis', demandOption: demand, describe: 'the farm\'s Redis: redis://[:password@]host:port, or rediss://... for TLS (a trusted network only)' })
    .option('redis-ca', { type: 'string', describe: 'PEM file of the CA that signed the Redis server\'s TLS certificate' })
    .option('connect-timeout', { type: 'string', default: '10', describe: 'seconds to wait for the farm\'s Redis to answer at the start; then exit 1 with one line (README, "Timeouts")' });
}

/** `--NAME S`: a positive number of seconds a timer waits (at most 24.8 days), returned in milliseconds. */
export function secondsOption(name: string, v: unknown): number {
  return Math.ceil(seconds(name, v) * 1000);
}

export function farmConnection(argv: Record<string, unknown>): ConnectionOptions {
  return {
    url: String(argv.farm), connectTimeoutMs: secondsOption('connect-timeout', argv['connect-timeout']),
    ...(argv['redis-ca'] !== undefined ? { caFile: String(argv['redis-ca']) } : {}),
  };
}
