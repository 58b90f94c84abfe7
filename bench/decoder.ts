/**
 * Decoder benchmark: FrameDecoder + decodeBmsValues over a long stream of BMS frames fed in
 * random chunks, against bench/decoder_ref.cpp (same algorithm in C, g++ -O2) compiled and
 * run in the same invocation on the same stream file and the same chunking. Both sides
 * report frame count, discarded bytes and a checksum of decoded fields; a mismatch aborts
 * the benchmark, so the two always do the same work.
 * Flags: --mb N (stream size, default 32), --iterations N (default 5).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeBmsValues, FrameDecoder } from "../src/protocol/index.js";
import { isProtocolError } from "../src/protocol/index.js";
import { bmsFrameVariants, bmsStream } from "./bmsStream.js";
import { chunkLengths } from "./prng.js";
import { type Benchmark, type BenchResult, type BenchRow, median, projectRoot } from "./report.js";

const SEED = 20261129;
const MAX_CHUNK = 4096;

interface Run {
  readonly bytes: number;
  readonly frames: number;
  readonly discardedBytes: number;
  readonly decodeErrors: number;
  readonly checksum: number;
  readonly seconds: number[];
  readonly cpuSeconds: number[];
}

function flag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function cutChunks(stream: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let off = 0;
  for (const n of chunkLengths(stream.length, SEED, MAX_CHUNK)) {
    chunks.push(stream.subarray(off, off + n));
    off += n;
  }
  return chunks;
}

/** One timed pass of our decoder; CPU time includes V8's GC threads, which is a real cost. */
function passOurs(chunks: readonly Uint8Array[], bytes: number): Run {
  const decoder = new FrameDecoder();
  let acc = 0;
  let errors = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const chunk of chunks) {
    for (const ev of decoder.push(chunk)) {
      if (ev.kind !== "frame") continue;
      try {
        const b = decodeBmsValues(ev.payload);
        acc += b.packVoltage;
        acc += b.current;
        for (const c of b.cells) acc += c;
        for (const t of b.temperatures) acc += t;
        acc += b.icTemperature;
        if (b.soc !== undefined) acc += b.soc;
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        errors++;
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  return {
    bytes,
    frames: decoder.stats.framesDecoded,
    discardedBytes: decoder.stats.bytesDiscarded + decoder.pendingBytes,
    decodeErrors: errors,
    checksum: acc,
    seconds: [seconds],
    cpuSeconds: [(cpu.user + cpu.system) / 1e6],
  };
}

function passReference(binary: string, file: string): Run {
  const out = execFileSync(binary, [file, String(SEED), String(MAX_CHUNK), "1"], { encoding: "utf8" });
  return JSON.parse(out) as Run;
}

/**
 * Alternates C and TS passes so that load from anything else on the machine hits both
 * alike; one untimed TS pass first lets the JIT compile the hot paths, as in a long-running bridge.
 */
function measure(binary: string, file: string, stream: Uint8Array, iterations: number): [Run, Run] {
  const chunks = cutChunks(stream);
  passOurs(chunks, stream.length);
  const ours: Run[] = [];
  const ref: Run[] = [];
  for (let i = 0; i < iterations; i++) {
    ref.push(passReference(binary, file));
    ours.push(passOurs(chunks, stream.length));
  }
  const merge = (runs: Run[]): Run => ({
    ...(runs[0] as Run),
    seconds: runs.flatMap((r) => r.seconds),
    cpuSeconds: runs.flatMap((r) => r.cpuSeconds),
  });
  return [merge(ours), merge(ref)];
}

function sameWork(a: Run, b: Run, label: string): void {
  const same =
    a.bytes === b.bytes &&
    a.frames === b.frames &&
    a.discardedBytes === b.discardedBytes &&
    a.decodeErrors === b.decodeErrors &&
    Math.abs(a.checksum - b.checksum) <= 1e-9 * Math.abs(b.checksum);
  if (!same) {
    throw new Error(
      `decoder bench (${label}): TS and C disagree: ${JSON.stringify({ ...a, seconds: 0 })} vs ${JSON.stringify({ ...b, seconds: 0 })}`,
    );
  }
}

function rows(label: string, ours: Run, ref: Run): BenchRow[] {
  const mbps = (r: Run) => r.bytes / 1e6 / median(r.seconds);
  const fps = (r: Run) => r.frames / median(r.seconds);
  const cpu = (r: Run) => r.bytes / 1e6 / median(r.cpuSeconds);
  const ratio = mbps(ours) / mbps(ref);
  return [
    {
      metric: `${label}: throughput`,
      unit: "MB/s",
      ours: mbps(ours),
      reference: mbps(ref),
      ratio,
      goal: "≥ ×0.33 (within 3× of C)",
      met: ratio >= 1 / 3,
    },
    { metric: `${label}: frames decoded`, unit: "frames/s", ours: fps(ours), reference: fps(ref), ratio },
    {
      metric: `${label}: throughput per CPU-second`,
      unit: "MB/cpu-s",
      ours: cpu(ours),
      reference: cpu(ref),
      ratio: cpu(ours) / cpu(ref),
    },
  ];
}

export async function runDecoderBench(args: readonly string[] = []): Promise<BenchResult> {
  const mb = flag(args, "mb", 32);
  const iterations = Math.round(flag(args, "iterations", 5));
  const dir = mkdtempSync(path.join(os.tmpdir(), "vesc2mqtt-bench-"));
  try {
    const binary = path.join(dir, "decoder_ref");
    const source = path.join(projectRoot(), "bench", "decoder_ref.cpp");
    execFileSync("g++", ["-O2", "-std=c++17", "-o", binary, source], { stdio: "inherit" });
    const gxx = execFileSync("g++", ["--version"], { encoding: "utf8" }).split("\n")[0] ?? "g++";
    const variants = bmsFrameVariants(256);
    const out: BenchRow[] = [];
    const notes: string[] = [];
    const cases = [
      { label: "clean stream", corruptFraction: 0, garbageFraction: 0 },
      {
        label: "noisy stream (2% corrupt frames, 5% garbage gaps)",
        corruptFraction: 0.02,
        garbageFraction: 0.05,
      },
    ];
    for (const c of cases) {
      const stream = bmsStream(variants, { bytes: mb * 1e6, seed: SEED, ...c });
      const file = path.join(dir, "stream.bin");
      writeFileSync(file, stream);
      const [ours, ref] = measure(binary, file, stream, iterations);
      sameWork(ours, ref, c.label);
      out.push(...rows(c.label, ours, ref));
      notes.push(
        `${c.label}: ${(stream.length / 1e6).toFixed(1)} MB, ${ours.frames.toLocaleString("en-US")} frames, ` +
          `${ours.discardedBytes.toLocaleString("en-US")} bytes discarded, identical counts and checksum in TS and C`,
      );
    }
    notes.push(
      `Chunks of 1..${MAX_CHUNK} bytes (xorshift32 seed ${SEED}, same cuts on both sides); median of ${iterations} timed passes per side, C and TS alternating, after one TS warm-up pass; load average at start ${os.loadavg()[0]?.toFixed(1)}; ${variants.length} frame variants (the captured 20S frame + re-encoded variations), ${gxx}.`,
    );
    return {
      name: "decoder",
      title: "FrameDecoder + decodeBmsValues throughput",
      reference:
        "bench/decoder_ref.cpp: the same frame scan, resync, CRC16 table and BMS decode in C++ (g++ -O2)",
      rows: out,
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const decoderBench: Benchmark = { name: "decoder", run: runDecoderBench };
