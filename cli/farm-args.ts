import type { Argv } from 'yargs';
import type { ConnectionOptions } from '../targets/farm/protocol.js';

/** `--farm URL` (alias `--redis`) and `--redis-ca FILE`. */
export function withFarmOptions<T>(a: Argv<T>, demand = false): Argv<T> {
  return a
    .option('farm', { type: 'string', alias: 'redis', demandOption: demand, describe: 'the farm\'s Redis: redis://[:password@]host:port, or rediss://... for TLS (a trusted network only)' })
    .option('redis-ca', { type: 'string', describe: 'PEM file of the CA that signed the Redis server\'s TLS certificate' });
}

export function farmConnection(argv: Record<string, unknown>): ConnectionOptions {
  return { url: String(argv.farm), ...(argv['redis-ca'] !== undefined ? { caFile: String(argv['redis-ca']) } : {}) };
}
