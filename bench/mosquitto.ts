/**
 * A real Mosquitto for benchmarks, on a free loopback port from a temp config (the test
 * helper of the same name imports vitest, which a plain `node` run cannot load).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import os from "node:os";
import path from "node:path";

export const MOSQUITTO_BIN = "/usr/sbin/mosquitto";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class BenchMosquitto {
  #proc: ChildProcess | undefined;
  readonly #dir = mkdtempSync(path.join(os.tmpdir(), "vesc2mqtt-bench-mosq-"));
  port = 0;

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  async start(): Promise<void> {
    if (!existsSync(MOSQUITTO_BIN)) throw new Error(`${MOSQUITTO_BIN} is not installed`);
    this.port = await freePort();
    const conf = path.join(this.#dir, "mosquitto.conf");
    writeFileSync(
      conf,
      `listener ${this.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_queued_messages 100000\nsys_interval 1\n`,
    );
    const proc = spawn(MOSQUITTO_BIN, ["-c", conf], { stdio: "ignore" });
    this.#proc = proc;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error("mosquitto did not start");
      await sleep(50);
    }
  }

  /** CPU seconds Mosquitto has used so far (from /proc), or NaN where /proc is missing. */
  cpuSeconds(): number {
    return procCpuSeconds(this.#proc?.pid);
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc && proc.exitCode === null) {
      await new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      });
    }
    rmSync(this.#dir, { recursive: true, force: true });
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
