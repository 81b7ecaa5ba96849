import assert from 'node:assert/strict';
import { InputError } from '../../ir/errors.js';
import {
  capabilitiesFrom,
  detectCpu,
  isaFromFlags,
  parseCacheEntries,
  parseCacheSize,
  parseCpuinfo,
  relevantFlags,
  vectorBitsFor,
} from '../../targets/cpu-info.js';
import { cpuFingerprint, defaultCFlags, detectCompiler, fingerprintThreads, parseCompilerVersion } from '../../targets/compiler.js';
import { gflopsCeiling } from '../../targets/gflops-ceiling.js';
import { structuralHash } from '../../ir/hash.js';
import type { CompilerInfo } from '../../targets/compiler.js';

const X86_AVX512 = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9454 48-Core Processor
stepping\t: 1
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy avx2 avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vnni
bugs\t\t: sysret_ss_attrs spectre_v1 spectre_v2
bogomips\t: 5399.99

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: SOMETHING ELSE
flags\t\t: fpu sse2
`;

const X86_AVX2 = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz
flags\t\t: fpu vme de pse tsc msr mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm pni pclmulqdq ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch bmi1 hle avx2 smep bmi2 erms invpcid rtm mpx rdseed adx smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves
`;

const AARCH64 = `processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1

processor\t: 1
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
`;

const GCC: CompilerInfo = { command: 'cc', family: 'gcc', version: '12.2.0', versionLine: 'cc (Debian 12.2.0-14+deb12u1) 12.2.0' };

describe('targets: cpu-info parsers', () => {
  it('parses an x86 AVX-512 cpuinfo (first processor only)', () => {
    const p = parseCpuinfo(X86_AVX512);
    assert.equal(p.model, 'AMD EPYC 9454 48-Core Processor');
    assert.ok(p.flags.includes('avx512vl'));
    assert.ok(!p.flags.includes('SOMETHING'));
    assert.equal(isaFromFlags(p.flags), 'avx512');
    assert.deepEqual(relevantFlags(p.flags), [
      'avx', 'avx2', 'avx512_bf16', 'avx512_vnni', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512f', 'avx512vl',
      'f16c', 'fma', 'sse2', 'sse4_1', 'sse4_2', 'ssse3',
    ]);
    const caps = capabilitiesFrom({ cpuinfo: X86_AVX512, cores: 8, arch: 'x64' });
    assert.equal(caps.isa, 'avx512');
    assert.equal(caps.vectorBits, 512);
    assert.equal(caps.f32Lanes, 16);
    assert.equal(caps.cores, 8);
    assert.equal(caps.fmaUnits, undefined);
  });

  it('parses an AVX2-only cpuinfo', () => {
    const caps = capabilitiesFrom({ cpuinfo: X86_AVX2, cores: 12, arch: 'x64' });
    assert.equal(caps.model, 'Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz');
    assert.equal(caps.isa, 'avx2');
    assert.equal(caps.vectorBits, 256);
    assert.equal(caps.f32Lanes, 8);
    assert.deepEqual(caps.flags, ['avx', 'avx2', 'f16c', 'fma', 'sse2', 'sse4_1', 'sse4_2', 'ssse3']);
  });

  it('parses an aarch64 cpuinfo (Features, no model name -> fallback model)', () => {
    const p = parseCpuinfo(AARCH64);
    assert.equal(p.model, undefined);
    assert.equal(isaFromFlags(p.flags), 'neon');
    const caps = capabilitiesFrom({ cpuinfo: AARCH64, cores: 4, fallbackModel: ' Neoverse-N1 ', arch: 'arm64' });
    assert.equal(caps.model, 'Neoverse-N1');
    assert.equal(caps.isa, 'neon');
    assert.equal(caps.vectorBits, 128);
    assert.equal(caps.f32Lanes, 4);
    assert.deepEqual(caps.flags, ['asimd', 'asimdhp', 'fphp']);
  });

  it('ranks ISAs and requires the companion flags', () => {
    assert.equal(isaFromFlags(['avx512f', 'avx2', 'fma', 'sse2']), 'avx2'); // no avx512vl
    assert.equal(isaFromFlags(['avx2', 'sse4_2']), 'sse'); // no fma
    assert.equal(isaFromFlags(['sse2']), 'sse');
    assert.equal(isaFromFlags(['neon', 'vfpv3']), 'neon');
    assert.equal(isaFromFlags([]), 'none');
    assert.equal(vectorBitsFor('none'), 0);
  });

  it('falls back sensibly when sources are missing', () => {
    const none = capabilitiesFrom({});
    assert.equal(none.cores, 1);
    assert.equal(none.model, 'unknown');
    assert.equal(none.isa, 'none');
    assert.equal(none.vectorBits, 0);
    assert.equal(none.f32Lanes, 1);
    assert.deepEqual(none.flags, []);
    assert.deepEqual(none.cacheBytes, {});
    assert.equal(capabilitiesFrom({ arch: 'x64' }).isa, 'sse');
    assert.equal(capabilitiesFrom({ arch: 'arm64' }).isa, 'neon');
    assert.equal(capabilitiesFrom({ cpuinfo: '', cores: 0 }).cores, 1);
  });

  it('parses cache sizes', () => {
    assert.equal(parseCacheSize('32K'), 32 * 1024);
    assert.equal(parseCacheSize('1024K\n'), 1024 * 1024);
    assert.equal(parseCacheSize('32M'), 32 * 1024 * 1024);
    assert.equal(parseCacheSize('1G'), 1024 ** 3);
    assert.equal(parseCacheSize('49152'), 49152);
    assert.equal(parseCacheSize('48KiB'), 48 * 1024);
    assert.equal(parseCacheSize(''), undefined);
    assert.equal(parseCacheSize('abc'), undefined);
    assert.equal(parseCacheSize('0K'), undefined);
  });

  it('picks L1d/L2/L3 from sysfs cache entries and skips instruction caches', () => {
    const cache = parseCacheEntries([
      { level: '1\n', type: 'Data\n', size: '48K\n' },
      { level: '1\n', type: 'Instruction\n', size: '32K\n' },
      { level: '2\n', type: 'Unified\n', size: '1280K\n' },
      { level: '3\n', type: 'Unified\n', size: '30720K\n' },
    ]);
    assert.deepEqual(cache, { l1d: 48 * 1024, l2: 1280 * 1024, l3: 30720 * 1024 });
    assert.deepEqual(parseCacheEntries([{ level: '2', type: 'Unified', size: 'garbage' }]), {});
  });
});

describe('targets: compiler', () => {
  it('parses gcc and clang --version output', () => {
    const gcc = parseCompilerVersion('cc', 'cc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n');
    assert.equal(gcc.family, 'gcc');
    assert.equal(gcc.version, '12.2.0');
    assert.equal(gcc.versionLine, 'cc (Debian 12.2.0-14+deb12u1) 12.2.0');
    assert.equal(parseCompilerVersion('gcc', 'gcc (GCC) 13.2.1 20230801\n').version, '13.2.1');
    const clang = parseCompilerVersion('clang', 'Ubuntu clang version 18.1.3 (1ubuntu1)\nTarget: x86_64-pc-linux-gnu\n');
    assert.equal(clang.family, 'clang');
    assert.equal(clang.version, '18.1.3');
    const apple = parseCompilerVersion('cc', 'Apple clang version 15.0.0 (clang-1500.0.40.1)\n');
    assert.equal(apple.family, 'clang');
    assert.equal(apple.version, '15.0.0');
    const tcc = parseCompilerVersion('tcc', 'tcc version 0.9.27 (x86_64 Linux)\n');
    assert.equal(tcc.family, 'unknown');
    assert.equal(tcc.version, '0.9.27');
  });

  it('chooses default cflags by ISA', () => {
    const avx512 = capabilitiesFrom({ cpuinfo: X86_AVX512, cores: 2 });
    const avx2 = capabilitiesFrom({ cpuinfo: X86_AVX2, cores: 2 });
    assert.deepEqual(defaultCFlags(avx512, GCC), ['-O3', '-march=native', '-std=c11', '-ffp-contract=fast', '-mprefer-vector-width=512']);
    assert.deepEqual(defaultCFlags(avx2, GCC), ['-O3', '-march=native', '-std=c11', '-ffp-contract=fast']);
  });

  it('fingerprints are stable and sensitive to cflags', () => {
    const cpu = capabilitiesFrom({ cpuinfo: X86_AVX512, cores: 2 });
    const cpuAgain = capabilitiesFrom({ cpuinfo: X86_AVX512, cores: 64 }); // core count is not part of it
    const a = cpuFingerprint(cpu, GCC, ['-O3', '-march=native']);
    const b = cpuFingerprint(cpuAgain, { ...GCC }, ['-O3', '-march=native']);
    assert.equal(a.key, b.key);
    assert.match(a.key, /^cpu:[0-9a-f]{16}$/);
    assert.equal(a.compiler, 'gcc');
    assert.equal(a.compilerVersion, '12.2.0');
    assert.notEqual(cpuFingerprint(cpu, GCC, ['-O2', '-march=native']).key, a.key);
    assert.notEqual(cpuFingerprint(cpu, GCC, ['-march=native', '-O3']).key, a.key);
    assert.notEqual(cpuFingerprint(cpu, { ...GCC, version: '13.1.0' }, ['-O3', '-march=native']).key, a.key);
    const avx2 = capabilitiesFrom({ cpuinfo: X86_AVX2, cores: 2 });
    assert.notEqual(cpuFingerprint(avx2, GCC, ['-O3', '-march=native']).key, a.key);
  });

  it('the thread count is part of a fingerprint; one thread keeps the key records had before it was', () => {
    const cpu = capabilitiesFrom({ cpuinfo: X86_AVX512, cores: 2 });
    const one = cpuFingerprint(cpu, GCC, ['-O3']);
    assert.equal(one.threads, 1, 'the record says what it was measured under');
    assert.deepEqual(cpuFingerprint(cpu, GCC, ['-O3'], 1), one);
    // The key as loopsmith computed it before threads were in the fingerprint.
    const { key, threads, ...before } = one;
    assert.equal(threads, 1);
    assert.equal(key, `cpu:${structuralHash(before)}`);
    const two = cpuFingerprint(cpu, GCC, ['-O3'], 2);
    assert.equal(two.threads, 2);
    assert.notEqual(two.key, one.key, 'a 2-thread measurement is another device\'s record');
    assert.notEqual(cpuFingerprint(cpu, GCC, ['-O3'], 4).key, two.key);
    assert.equal(fingerprintThreads(before), 1, 'a fingerprint without threads predates them: one thread, the default then');
    assert.equal(fingerprintThreads(two), 2);
  });

  it('a CPU record\'s GFLOP/s ceiling: threads x FLOP/cycle of its ISA at 6 GHz; none for a GPU or an unknown vector unit', () => {
    assert.equal(gflopsCeiling('c', { isa: 'avx2' }), 8 * 2 * 2 * 6);
    assert.equal(gflopsCeiling('c', { isa: 'avx512', threads: 2 }), 2 * 16 * 2 * 2 * 6);
    assert.equal(gflopsCeiling('c', { isa: 'neon', flags: ['asimd'] }), 4 * 2 * 4 * 6);
    assert.equal(gflopsCeiling('c', { isa: 'neon', flags: ['asimd', 'sve'] }), 16 * 2 * 2 * 6);
    assert.equal(gflopsCeiling('c', { isa: 'none' }), undefined);
    assert.equal(gflopsCeiling('c', {}), undefined);
    assert.equal(gflopsCeiling('webgpu', { isa: 'avx2' }), undefined);
  });
});

describe('targets: live detection on this machine', () => {
  it('detectCpu() reports cores and a model, and is memoized', () => {
    const cpu = detectCpu();
    assert.ok(cpu.cores >= 1);
    assert.ok(cpu.model.length > 0);
    assert.equal(cpu.f32Lanes, Math.max(1, cpu.vectorBits / 32));
    assert.equal(detectCpu(), cpu);
  });

  it("detectCompiler('cc') is gcc here", () => {
    const cc = detectCompiler('cc');
    assert.equal(cc.family, 'gcc');
    assert.match(cc.version, /^\d+\.\d+/);
    assert.equal(detectCompiler('cc'), cc);
  });

  it('a missing compiler throws a one-line InputError', () => {
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => detectCompiler('no-such-cc-xyz'),
        (e: unknown) => {
          assert.ok(e instanceof InputError);
          assert.ok(!e.message.includes('\n'));
          assert.match(e.message, /^C compiler 'no-such-cc-xyz' not found \(spawn no-such-cc-xyz ENOENT\); install it or pass --cc gcc$/);
          return true;
        },
      );
    }
  });
});
