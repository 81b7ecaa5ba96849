import assert from 'node:assert/strict';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { rng } from '../../ir/random.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Step, parseTrace, traceToJSON } from '../../scheduler/trace.js';
import { expertCpuConv2d } from '../../scheduler/expert.js';
import { renderC } from '../../codegen/c/render.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { assertSameResults } from '../scheduler/helpers.js';
import { structurallyEqual } from '../../ir/hash.js';
import { ScheduleSpace, SpaceTarget } from '../../tuner/space.js';
import { divisors, orderedFactorizations, smallestPrime } from '../../tuner/factors.js';
import { limitViolations } from '../../targets/webgpu/limits.js';
import { wgslCandidate } from '../../targets/webgpu/target.js';
import { GpuCapabilities } from '../../targets/webgpu/device.js';

const CPU: SpaceTarget = { kind: 'c', style: 'cpu', lanes: 16, threads: 2, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 };
const GPU: SpaceTarget = { kind: 'webgpu', style: 'gpu', lanes: 1, threads: 1, maxInvocations: 256, maxWorkgroupDim: [256, 256, 64], maxWorkgroupBytes: 16384 };
const CAPS = { limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27, maxStorageBuffersPerShaderStage: 8 } } as unknown as GpuCapabilities;

describe('tuner: factor helpers', () => {
  it('divisors, primes and ordered factorizations', () => {
    assert.deepEqual(divisors(12), [1, 2, 3, 4, 6, 12]);
    assert.equal(smallestPrime(49), 7);
    assert.equal(smallestPrime(1), undefined);
    assert.equal(orderedFactorizations(8, 3), 10);
  });
});

describe('tuner: schedule spaces from any computation', () => {
  for (const [name, target] of [['CPU', CPU], ['GPU', GPU]] as const) {
    it(`${name}: random points with a few moves are nearly all valid, for every op, and each is a replayable trace`, () => {
      let valid = 0, total = 0;
      for (const op of OPS) {
        const w = workload(op.name, op.example);
        const base = lowerWorkload(w);
        const space = new ScheduleSpace(base, target);
        assert.ok(space.size() > 1, op.name);
        const r = rng(op.name.length);
        for (let i = 0; i < 12; i++) {
          let p = space.sample(r);
          for (let j = 0; j < 4; j++) p = space.apply(p, space.actions[Math.floor(r() * space.actions.length)]!) ?? p;
          const t = space.toTrace(p, w.key);
          total++;
          try {
            const q = applyTrace(base, t);
            if (target.style === 'gpu') assert.deepEqual(limitViolations(wgslCandidate(q).kernel, CAPS), []);
            assert.ok(structurallyEqual(q, applyTrace(base, parseTrace(traceToJSON(t)))));
            valid++;
          } catch (e) {
            assert.fail(`${op.name}: ${(e as Error).message}\n${traceToJSON(t)}`);
          }
        }
      }
      console.log(`      ${name}: ${valid} of ${total} sampled points valid`);
      assert.equal(valid, total);
    });
  }

  it('a move of a prime factor keeps the product of the levels', () => {
    const space = new ScheduleSpace(lowerWorkload(workload('gemm', { m: 64, n: 48, k: 32 })), CPU);
    const p = space.sample(rng(3));
    for (const a of space.actions.filter((x) => x.kind === 'move')) {
      const q = space.apply(p, a);
      if (!q) continue;
      const axis = a.kind === 'move' ? a.axis : '';
      assert.equal(space.levelExtents(q, axis).reduce((x, y) => x * y, 1), space.levelExtents(p, axis).reduce((x, y) => x * y, 1));
    }
  });

  it('respects the register budget and the threads per workgroup while sampling', () => {
    const gpu = new ScheduleSpace(lowerWorkload(workload('gemm', { m: 1024, n: 1024, k: 64 })), GPU);
    const r = rng(5);
    for (let i = 0; i < 100; i++) {
      const p = gpu.sample(r);
      assert.ok(gpu.withinBudgets(p));
      const threads = gpu.bound.map((a) => gpu.levelExtents(p, a)[1]!).reduce((x, y) => x * y, 1);
      assert.ok(threads <= 256);
    }
  });

  it('CPU register tiles fit the vector register file: 512 elements on AVX-512 (32 x 16 lanes), 128 on AVX2 (16 x 8)', () => {
    const base = lowerWorkload(workload('gemm', { m: 256, n: 256, k: 64 }));
    for (const [target, file] of [[CPU, 512], [{ ...CPU, lanes: 8, vectorRegisters: 16 }, 128]] as const) {
      const space = new ScheduleSpace(base, target);
      const r = rng(9);
      let largest = 0;
      for (let i = 0; i < 300; i++) {
        const p = space.sample(r);
        const tile = space.levelExtents(p, 'i')[2]! * space.levelExtents(p, 'j')[2]!;
        assert.ok(tile <= file, `a ${tile}-element tile in a ${file}-element register file`);
        largest = Math.max(largest, tile);
      }
      assert.ok(largest > file / 4, `sampling reaches large tiles too (largest ${largest})`);
    }
  });

  it('features are normalized to [-1, 1] and have a fixed length', () => {
    const space = new ScheduleSpace(lowerWorkload(workload('conv2d', OPS.find((o) => o.name === 'conv2d')!.example)), CPU);
    const r = rng(9);
    const n = space.features(space.sample(r)).length;
    for (let i = 0; i < 20; i++) {
      const f = space.features(space.sample(r));
      assert.equal(f.length, n);
      assert.ok(f.every((x) => x >= -1.0001 && x <= 1.0001));
    }
  });
});

describe('tuner: rule sets by target style', () => {
  const gemm = lowerWorkload(workload('gemm', { m: 64, n: 48, k: 32 }));

  it('the CPU searches vectors and threads, the GPU binds instead; both stage the inputs by name', () => {
    const kinds = (s: ScheduleSpace) => s.actions.map((a) => (a.kind === 'toggle' ? `toggle ${a.switch}` : a.kind === 'cacheRead' || a.kind === 'pack' ? `${a.kind} ${a.input}` : a.kind));
    const cpu = kinds(new ScheduleSpace(gemm, CPU)), gpu = kinds(new ScheduleSpace(gemm, GPU));
    assert.deepEqual(cpu.slice(-9), ['unroll', 'unroll', 'toggle vectorize', 'toggle parallel', 'cacheWrite', 'cacheRead A', 'cacheRead B', 'pack A', 'pack B']);
    assert.ok(!gpu.some((k) => k.startsWith('pack')), 'packing before the nest is for the CPU');
    assert.ok(!gpu.some((k) => k.startsWith('toggle')));
    assert.deepEqual(gpu.slice(-3), ['cacheWrite', 'cacheRead A', 'cacheRead B']);
    assert.deepEqual(new ScheduleSpace(gemm, GPU).bound, ['j', 'i']);
    assert.deepEqual(new ScheduleSpace(gemm, CPU).bound, []);
  });

  it('every action is applied by its rule; featureCount is the length of the features', () => {
    for (const target of [CPU, GPU]) {
      const space = new ScheduleSpace(gemm, target);
      const r = rng(4);
      const p = space.sample(r);
      assert.equal(space.features(p).length, space.featureCount);
      const moved = space.actions.filter((a) => space.apply(p, a) !== undefined).map((a) => a.kind);
      for (const kind of ['swap', 'cacheWrite', 'cacheRead'] as const) assert.ok(moved.includes(kind), `${target.style}: ${kind} applies`);
    }
  });

  it('constant weights (prepack) are packed once before the nest far more often than weights packed on every call', () => {
    const params = { n: 1, c: 64, h: 14, w: 14, k: 64, kh: 3, kw: 3, pad: 1 };
    const wholePacks = (prepack: number) => {
      const space = new ScheduleSpace(lowerWorkload(workload('conv2d', { ...params, prepack })), CPU);
      const r = rng(11);
      let n = 0;
      for (let i = 0; i < 400; i++) if (space.toTrace(space.sample(r)).steps.some((s) => s.prim === 'layout' && s.buffer === 'W' && s.at === undefined)) n++;
      return n;
    };
    const constant = wholePacks(1), perCall = wholePacks(0);
    assert.ok(constant > 100 && constant > 2 * perCall, `${constant} of 400 draws pack constant weights whole, ${perCall} of 400 otherwise`);
  });

  it('contains its own points and nothing from another space', () => {
    const space = new ScheduleSpace(gemm, CPU);
    const other = new ScheduleSpace(lowerWorkload(workload('conv2d', OPS.find((o) => o.name === 'conv2d')!.example)), CPU);
    const r = rng(8);
    for (let i = 0; i < 20; i++) {
      assert.ok(space.contains(space.sample(r)));
      assert.ok(!space.contains(other.sample(r)));
    }
    const p = space.sample(r);
    assert.ok(!space.contains({ ...p, factors: { ...p.factors, i: [5, 1] } }), 'factors that do not divide the extent');
    assert.ok(!space.contains({ ...p, order: [...p.order.slice(1), p.order[1]!] }), 'an order that repeats a loop');
    assert.ok(!space.contains({ ...p, cacheRead: { Z: 1 } }), 'an unknown input');
  });
});

describe('tuner: the expert schedules are points of the spaces', () => {
  it('CPU conv2d: the channel-vectorized expert (packed weights, padded input, the whole reduction in a 7 x 32 register tile) is a point', () => {
    const params = { n: 1, c: 4, h: 7, w: 14, k: 64, kh: 3, kw: 3, pad: 1 };
    const w = workload('conv2d', params);
    const base = lowerWorkload(w);
    const space = new ScheduleSpace(base, CPU);
    const point = {
      factors: { n: [1, 1], k: [1, 32], oh: [1, 1], ow: [1, 7], rc: [1], rh: [1], rw: [1] },
      order: ['n.0', 'k.0', 'oh.0', 'ow.0', 'n.1', 'k.1', 'oh.1', 'ow.1', 'rc.0', 'rh.0', 'rw.0', 'rc.1', 'rh.1', 'rw.1', 'n.2', 'oh.2', 'ow.2', 'k.2'],
      unroll: 1, vectorize: 1, parallel: 1, cacheWrite: 2, cacheRead: { X: 0, W: 0 }, pack: { X: 1, W: 2 },
    } as const;
    assert.ok(space.contains(point));
    const t = space.toTrace(point, w.key);
    const expert = expertCpuConv2d(params, w.key);
    // The same decisions, with the space's three-level loop names (k.2 is the expert's k.1).
    const rename = (s: Step) => JSON.stringify(s).replace(/"(k|ow)\.2"/g, '"$1.1"');
    const notSplits = (steps: readonly Step[]) => steps.filter((s) => s.prim !== 'split' && s.prim !== 'reorder').map(rename).sort();
    assert.deepEqual(notSplits(t.steps), notSplits(expert.steps));
    const scheduled = applyTrace(base, t);
    assertSameResults(base, scheduled);
    // The same inner kernel: one 7 x 32 register tile, 14 FMAs of broadcast inputs and contiguous packed weights per step.
    const inner = (c: string) => ({ tile: /ls_v16 [^;]+; \/\* register tile Y\.local: 1x1x7x32 \*\//.test(c), fmas: c.match(/\+ ls_splat16\(X_packed\[[^\]]+\]\) \* ls_load16\(&W_packed\[/g)?.length });
    assert.deepEqual(inner(renderC(lowerForCodegen(scheduled)).source), { tile: true, fmas: 14 });
    assert.deepEqual(inner(renderC(lowerForCodegen(applyTrace(base, expert))).source), { tile: true, fmas: 14 });
  });

  it('CPU 1x1 conv2d: the GEMM-like expert (a vector of columns by 12 output channels, weights packed in 12-channel panels, the input panel staged per run of columns) is a point', () => {
    const params = { n: 1, c: 8, h: 3, w: 16, k: 24, kh: 1, kw: 1, pad: 0 };
    const w = workload('conv2d', params);
    const base = lowerWorkload(w);
    const space = new ScheduleSpace(base, CPU);
    // The outer reductions (extent 1) sit between the column runs and the channel blocks, so the input's stage is the panel of a run.
    const point = {
      factors: { n: [1, 1], k: [1, 12], oh: [1, 1], ow: [1, 16], rc: [8], rh: [1], rw: [1] },
      order: ['n.0', 'oh.0', 'ow.0', 'rh.0', 'rw.0', 'rc.0', 'k.0', 'n.1', 'k.1', 'oh.1', 'ow.1', 'rc.1', 'rh.1', 'rw.1', 'n.2', 'oh.2', 'k.2', 'ow.2'],
      unroll: 1, vectorize: 1, parallel: 1, cacheWrite: 2, cacheRead: { X: 1, W: 0 }, pack: { X: 0, W: 1 },
    } as const;
    assert.ok(space.contains(point));
    const t = space.toTrace(point, w.key);
    assert.ok(t.steps.some((s) => s.prim === 'layout' && s.buffer === 'W' && s.dims?.[0] === 0 && s.factors?.[0] === 12), 'weights blocked along the register tile\'s channels, not copied as they are');
    const expert = expertCpuConv2d(params, w.key);
    const scheduled = applyTrace(base, t);
    assertSameResults(base, scheduled);
    // The same kernel: a 12 x 16 tile, 12 FMAs of one contiguous input load and a broadcast weight per step, a panel of 8 channels x 16 columns.
    const inner = (c: string) => ({
      tile: /ls_v16 [^;]+; \/\* register tile Y\.local: 1x12x1x16 \*\//.test(c),
      panel: /X\.local: 1x8x1x16 \*\//.test(c),
      fmas: c.match(/\+ ls_load16\(&X_local\[[^\]]+\]\) \* ls_splat16\(W_packed\[/g)?.length,
    });
    assert.deepEqual(inner(renderC(lowerForCodegen(scheduled)).source), { tile: true, panel: true, fmas: 12 });
    assert.deepEqual(inner(renderC(lowerForCodegen(applyTrace(base, expert))).source), { tile: true, panel: true, fmas: 12 });
  });
});
