/** Parent side of bench/fleetSims.ts: start N simulators in a child process, query, stop. */
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FleetMessage } from "./fleetSims.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SimChild {
  readonly ports: number[];
  readonly pid: number | undefined;
  usage(): Promise<Extract<FleetMessage, { kind: "usage" }>>;
  stop(): Promise<void>;
}

function next<K extends FleetMessage["kind"]>(
  child: ChildProcess,
  kind: K,
  timeoutMs: number,
): Promise<Extract<FleetMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`simulator child: no ${kind} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: FleetMessage) => {
      if (m.kind === kind) done(undefined, m as Extract<FleetMessage, { kind: K }>);
    };
    const onExit = (code: number | null) => done(new Error(`simulator child exited (${code})`));
    function done(err?: Error, value?: Extract<FleetMessage, { kind: K }>): void {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (err || !value) reject(err);
      else resolve(value);
    }
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export async function startSimChild(n: number, seed = 1, cells = 20): Promise<SimChild> {
  const child = fork(path.join(here, "fleetSims.js"), [String(n), String(seed), String(cells)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await next(child, "ready", 120_000).catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  return {
    ports: ready.ports,
    pid: child.pid,
    usage: () => {
      child.send({ kind: "usage" });
      return next(child, "usage", 10_000);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send({ kind: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
