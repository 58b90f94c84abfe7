/**
 * The real Mosquitto for benchmarks: the test helper's broker runner (one copy of that code)
 * with queue limits raised for fleet loads, plus CPU accounting from /proc.
 */
import { readFileSync } from "node:fs";
import { haveBinary, MOSQUITTO } from "../test/helpers/binaries.js";
import { Mosquitto } from "../test/helpers/mosquitto.js";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class BenchMosquitto extends Mosquitto {
  constructor() {
    super(["max_queued_messages 100000", "sys_interval 1"]);
  }

  override async start(): Promise<void> {
    if (!haveBinary(MOSQUITTO)) throw new Error(`${MOSQUITTO} is not installed`);
    await super.start();
  }

  /** CPU seconds Mosquitto has used so far (from /proc), or NaN where /proc is missing. */
  cpuSeconds(): number {
    return procCpuSeconds(this.pid);
  }

  /** Stops the broker and removes its temp folder. */
  override async stop(): Promise<void> {
    await this.dispose();
  }
}

/** utime + stime of a process, seconds (Linux /proc/<pid>/stat, clock ticks of 100 Hz). */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
