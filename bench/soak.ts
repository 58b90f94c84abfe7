/**
 * Soak benchmark: real Pollers (persistent TCP, handshake once, poll at the fastest interval
 * the poller allows, 100 ms) against simulators in a child process, until --polls readings
 * have arrived. RSS and heap are sampled every second; after the warm-up (first 20% of
 * the polls) a least-squares slope and the growth are computed. Active handles/timers
 * (process.getActiveResourcesInfo) are counted before and after: a stopped poller must leave
 * nothing behind. The reference is the project's soak goal: growth < 5 MB, slope ≈ 0.
 * Flags: --polls N (default 1,000,000), --devices K (default 500, i.e. 5,000 polls/s at most),
 * --max-seconds S (default 270: the run stops there even short of --polls, and says so).
 */
import { Poller } from "../src/session/poller.js";
import { deviceStateDoc } from "../src/mqtt/state.js";
import { createTransportFactory } from "../src/transport/fromSpec.js";
import { sleep } from "./mosquitto.js";
import { type Benchmark, type BenchResult, median } from "./report.js";
import { startSimChild } from "./simChild.js";

const GROWTH_GOAL_MB = 5;

function numFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function resources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

const show = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}×${v}`).join(", ") || "none";

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return num / den;
}

interface Sample {
  readonly t: number;
  readonly polls: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
}

export async function runSoakBench(args: readonly string[] = []): Promise<BenchResult> {
  const target = numFlag(args, "polls", 1_000_000);
  const maxSeconds = numFlag(args, "max-seconds", 270);
  const k = numFlag(args, "devices", 500);
  const sims = await startSimChild(k, 77);
  const before = resources();
  let polls = 0;
  let errors = 0;
  let bytes = 0;
  const pollers = sims.ports.map(
    (port, i) =>
      new Poller({
        deviceId: `soak-${i}`,
        url: `tcp://127.0.0.1:${port}`,
        transport: createTransportFactory({ type: "tcp", host: "127.0.0.1", port }),
        intervalMs: 100,
        startDelayMs: Math.floor((i * 100) / k), // spread over the interval, as the bridge does
      }),
  );
  for (const p of pollers) {
    p.on("reading", (r) => {
      polls++;
      bytes += deviceStateDoc(r).payload.length; // what a bridge serialises per reading
    });
    p.on("error", () => {
      errors++;
    });
  }
  const samples: Sample[] = [];
  const t0 = performance.now();
  for (const p of pollers) p.start();
  // Bounded: stops at the target or after --max-seconds, whichever comes first.
  while (polls < target && performance.now() - t0 < maxSeconds * 1000) {
    await sleep(1000);
    const m = process.memoryUsage();
    samples.push({
      t: (performance.now() - t0) / 1000,
      polls,
      rssMb: m.rss / 2 ** 20,
      heapMb: m.heapUsed / 2 ** 20,
      heapTotalMb: m.heapTotal / 2 ** 20,
      externalMb: m.external / 2 ** 20,
    });
    if (samples.length % 15 === 0)
      console.log(`soak: ${polls.toLocaleString("en-US")} polls, RSS ${m.rss >> 20} MB`);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(pollers.map((p) => p.stop()));
  await sims.stop();
  await sleep(100);
  const after = resources();
  const leaked = new Map<string, number>();
  for (const [kind, n] of after)
    if (n > (before.get(kind) ?? 0)) leaked.set(kind, n - (before.get(kind) ?? 0));

  const warm = samples.filter((s) => s.polls >= polls * 0.2);
  // Medians over the first and last fifth of the warm samples: V8 sizes its heap in waves
  // between major GCs (±20 MB here), and five samples could land on a crest or a trough.
  const fifth = Math.max(5, Math.floor(warm.length / 5));
  const head = warm.slice(0, fifth);
  const tail = warm.slice(-fifth);
  const growth = median(tail.map((s) => s.rssMb)) - median(head.map((s) => s.rssMb));
  const growthOf = (f: (s: Sample) => number) => median(tail.map(f)) - median(head.map(f));
  const heapGrowth = growthOf((s) => s.heapMb);
  const rssSlope = slope(
    warm.map((s) => s.polls / 1e6),
    warm.map((s) => s.rssMb),
  );
  const rate = polls / elapsed;
  const peak = Math.max(...samples.map((s) => s.rssMb));
  return {
    name: "soak",
    title: `${polls.toLocaleString("en-US")} polls over ${k} persistent connections`,
    reference: "the soak goal: RSS growth < 5 MB after warm-up, slope ≈ 0, nothing left open",
    rows: [
      {
        metric: "RSS growth after warm-up",
        unit: "MB",
        ours: growth,
        reference: GROWTH_GOAL_MB,
        ratio: growth / GROWTH_GOAL_MB,
        goal: "< ×1 (5 MB)",
        met: growth < GROWTH_GOAL_MB,
      },
      { metric: "RSS slope after warm-up", unit: "MB per million polls", ours: rssSlope },
      { metric: "heap growth after warm-up", unit: "MB", ours: heapGrowth },
      {
        metric: "heap committed by V8, growth after warm-up",
        unit: "MB",
        ours: growthOf((s) => s.heapTotalMb),
      },
      { metric: "external (Buffers), growth after warm-up", unit: "MB", ours: growthOf((s) => s.externalMb) },
      { metric: "peak RSS", unit: "MB", ours: peak },
      { metric: "poll rate", unit: "polls/s", ours: rate },
      { metric: "time for 1,000,000 polls at this rate", unit: "s", ours: 1e6 / rate },
      {
        metric: "handles/timers left after stop",
        unit: "",
        ours: [...leaked.values()].reduce((a, b) => a + b, 0),
        reference: 0,
        goal: "0",
        met: leaked.size === 0,
      },
    ],
    notes: [
      `${polls.toLocaleString("en-US")} readings in ${elapsed.toFixed(0)} s, ${errors} poller errors, ${(bytes / 2 ** 20).toFixed(0)} MiB of state JSON serialised; simulators in a child process; warm-up = first 20% of the polls; ${samples.length} RSS samples, 1 per second; growth = median of the last fifth of the samples after warm-up minus median of the first fifth.`,
      `Active resources before: ${show(before)}; after: ${show(after)}.`,
      polls < target
        ? `Stopped by --max-seconds ${maxSeconds} at ${polls.toLocaleString("en-US")} of ${target.toLocaleString("en-US")} polls; the full count takes about ${(target / rate / 60).toFixed(1)} min at this rate (\`npm run bench -- soak --max-seconds 3600\`).`
        : `Reached the ${target.toLocaleString("en-US")}-poll target.`,
    ],
  };
}

export const soakBench: Benchmark = { name: "soak", run: runSoakBench };
