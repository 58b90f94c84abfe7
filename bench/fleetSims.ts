/**
 * Child process for bench/fleet.ts and bench/soak.ts: N simulated VESC Expresses on free
 * loopback ports, in their own process so that their CPU is not counted as the bridge's.
 * IPC protocol: sends { kind: "ready", ports }; answers { kind: "usage" } with its CPU
 * seconds and RSS; closes every simulator and exits on { kind: "stop" } or when the parent goes.
 * argv: N [seed] [cells]
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startSimulatorFleet } from "../src/sim/index.js";

export type FleetMessage =
  | { readonly kind: "ready"; readonly ports: number[] }
  | {
      readonly kind: "usage";
      readonly cpuSeconds: number;
      readonly rssBytes: number;
      readonly replies: number;
      /** p99 event-loop delay since the previous usage query, ms. */
      readonly loopDelayP99Ms: number;
    };

const n = Number(process.argv[2] ?? "1");
const seed = Number(process.argv[3] ?? "1");
const cells = Number(process.argv[4] ?? "20");

const fleet = await startSimulatorFleet(n, { seed, port: 0, cells });
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await fleet.close();
  process.exit(0);
};
process.on("disconnect", () => void stop());
process.on("message", (m: unknown) => {
  const kind = typeof m === "object" && m !== null && "kind" in m ? m.kind : undefined;
  if (kind === "stop") void stop();
  if (kind === "usage") {
    const cpu = process.cpuUsage();
    const replies = fleet.sims.reduce((sum, s) => sum + s.device.stats.replies, 0);
    const msg: FleetMessage = {
      kind: "usage",
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
      replies,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
    };
    loop.reset();
    process.send?.(msg);
  }
});
const ready: FleetMessage = { kind: "ready", ports: fleet.sims.map((s) => s.port) };
process.send?.(ready);
