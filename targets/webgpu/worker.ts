/**
 * The process that owns the WebGPU device. Kernels run here, not in the tuner, so a driver crash
 * or a hung dispatch costs one candidate: the parent kills this process and starts another.
 */
import { openDevice } from './device.js';
import { runKernel, RunRequest } from './runner.js';

type Message = { type: 'run'; id: number; req: RunRequest } | { type: 'close' };

const send = (m: unknown) => process.send!(m);

async function main(): Promise<void> {
  let opened;
  try {
    opened = await openDevice();
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    process.exit(2);
  }
  const { device, caps } = opened;
  void device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    send({ type: 'lost', message: `device lost: ${info.message}` });
    process.exit(3);
  });
  send({ type: 'ready', caps });
  process.on('message', (m: Message) => {
    if (m.type === 'close') {
      device.destroy();
      process.exit(0);
    }
    // The parent's run-time limit starts once the shader is compiled (compile time has its own limit).
    runKernel(device, caps.hasTimestamps, m.req, () => send({ type: 'compiled', id: m.id })).then(
      (result) => send({ type: 'result', id: m.id, result }),
      (e: Error) => send({ type: 'result', id: m.id, result: { status: 'crash', message: e.message.replace(/\s+/g, ' ') } }),
    );
  });
  process.on('disconnect', () => {
    device.destroy();
    process.exit(0);
  });
}

void main();
