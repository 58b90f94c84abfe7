/**
 * Fault matrix: every simulator fault × every transport (direct TCP, the simulator's
 * hub-login mode, serial over a socat pty pair). Each cell: a healthy poller, then the fault
 * for a while, then the fault cleared. Asserted: the fault actually fired and reached the
 * poller (each fault has its own evidence, from the simulator's fault counters, the poller's
 * status and counters, and a probe on the transport: round-trip times, chunk counts, time to
 * the first byte), no crash, never a reading the simulator did not produce and never one
 * twice, and after the fault is cleared the poller is reading again within two reconnect
 * attempts, i.e. two backoff periods, counted in attempts rather than milliseconds so the
 * test does not depend on machine speed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, describe, expect, test } from "vitest";
import type { Reading } from "../../src/model/reading.js";
import { Poller } from "../../src/session/poller.js";
import { type FaultSettings, SimDevice, serveSerial, startSimulator } from "../../src/sim/index.js";
import { hubTransport } from "../../src/transport/hub.js";
import { serialTransport } from "../../src/transport/serial.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { PLAIN_LINK, type TransportFactory, withPolicy } from "../../src/transport/transport.js";
import type { FaultCounters } from "../../src/sim/faults.js";
import type { PollerCounters } from "../../src/session/poller.js";
import type { DeviceStatus } from "../../src/model/reading.js";
import { haveBinary, requireIntegration, SOCAT } from "../helpers/require.js";
import { recordBmsReplies } from "../helpers/bmsReplies.js";
import { waitFor } from "../helpers/waitFor.js";

type Kind = "tcp" | "hub" | "serial";

interface Rig {
  readonly device: SimDevice;
  readonly transport: TransportFactory;
  readonly url: string;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function ptyPair(): Promise<{ paths: [string, string]; close: () => Promise<void> }> {
  const proc: ChildProcess = spawn(SOCAT, ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
  };
  let err = "";
  proc.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const found = await waitFor(
    () => {
      const m = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((x) => x[1] ?? "");
      return m.length >= 2 ? m : undefined;
    },
    { what: "socat pty paths" },
  ).catch(async (e: unknown) => {
    await close();
    throw e;
  });
  return { paths: [found[0] ?? "", found[1] ?? ""], close };
}

async function rig(kind: Kind, seed: number): Promise<Rig> {
  if (kind === "serial") {
    const pty = await ptyPair();
    const device = new SimDevice({ seed, cells: 12 });
    const serving = await serveSerial(device, pty.paths[0]);
    return {
      device,
      transport: serialTransport({ path: pty.paths[1], baud: 115200 }),
      url: `serial://${pty.paths[1]}`,
      close: async () => {
        await serving.close();
        await pty.close();
      },
    };
  }
  const login = { id: `fm${seed}`, password: "fm-secret-pw" };
  const sim = await startSimulator({
    port: 0,
    seed,
    cells: 12,
    ...(kind === "hub" ? { hubLogin: login } : {}),
  });
  return {
    device: sim.device,
    transport:
      kind === "hub"
        ? hubTransport({ host: sim.host, port: sim.port, hubId: login.id, password: login.password })
        : tcpTransport({ host: sim.host, port: sim.port }),
    url: kind === "hub" ? `hub://${sim.host}:${sim.port}/${login.id}` : sim.url,
    close: () => sim.close(),
  };
}

/** What the poller's transport saw while the fault was on (the probe is off otherwise). */
interface Probe {
  on: boolean;
  chunks: number;
  bytes: number;
  /** Per request written: ms until the next bytes arrived. */
  readonly roundTripsMs: number[];
  /** Per connection opened: ms from the start of the attempt to its first byte. */
  readonly firstByteMs: number[];
}

/** The factory, with a probe on every transport it opens (same policy). */
function probed(factory: TransportFactory): { factory: TransportFactory; probe: Probe } {
  const probe: Probe = { on: false, chunks: 0, bytes: 0, roundTripsMs: [], firstByteMs: [] };
  const wrapped = withPolicy(async (signal) => {
    const startedAt = performance.now();
    const t = await factory(signal);
    let writtenAt: number | undefined;
    let first = true;
    const write = t.write.bind(t);
    t.write = (bytes) => {
      writtenAt = performance.now();
      return write(bytes);
    };
    t.on("data", (chunk) => {
      const now = performance.now();
      if (probe.on) {
        probe.chunks++;
        probe.bytes += chunk.length;
        if (first) probe.firstByteMs.push(now - startedAt);
        if (writtenAt !== undefined) probe.roundTripsMs.push(now - writtenAt);
      }
      first = false;
      writtenAt = undefined;
    });
    return t;
  }, factory.policy ?? PLAIN_LINK);
  return { factory: wrapped, probe };
}

/** Everything a fault's evidence may look at, taken when the fault is cleared. */
interface Evidence {
  /** The simulator's fault counters while the fault was on. */
  readonly fired: FaultCounters;
  readonly status: DeviceStatus;
  readonly counters: PollerCounters;
  readonly reconnects: number;
  readonly probe: Probe;
  readonly links: ReadonlySet<string>;
  readonly healthy: readonly Reading[];
  readonly during: readonly Reading[];
}

interface Fault {
  readonly name: string;
  readonly settings?: FaultSettings;
  /** A device reboot / WiFi drop instead of settings. */
  readonly drop?: boolean;
  readonly kinds: readonly Kind[];
  /** Asserts that the fault fired and the poller saw it. */
  readonly evidence: (e: Evidence) => void;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// Serial has no connection to reset: a closed pty ends socat, like an unplugged cable,
// which is a different test; resets and reboots run over TCP and the hub.
const ALL: readonly Kind[] = ["tcp", "hub", "serial"];
const NETWORK: readonly Kind[] = ["tcp", "hub"];
const FAULTS: readonly Fault[] = [
  {
    name: "latency + jitter",
    settings: { latencyMs: 30, jitterMs: 40 },
    kinds: ALL,
    // Every reply waits at least 30 ms; a healthy loopback round trip takes about 1 ms.
    evidence: (e) => {
      expect(e.probe.roundTripsMs.length).toBeGreaterThan(5);
      expect(median(e.probe.roundTripsMs)).toBeGreaterThanOrEqual(29);
    },
  },
  {
    name: "replies split byte by byte",
    settings: { splitReplies: 1 },
    kinds: ALL,
    // Replies arrive in pieces: more chunks than replies. (How many pieces depends on how much
    // the kernel and socat coalesce on a busy machine, so no ratio beyond that.)
    evidence: (e) => {
      expect(e.probe.roundTripsMs.length).toBeGreaterThan(5);
      expect(e.probe.chunks).toBeGreaterThan(e.probe.roundTripsMs.length);
    },
  },
  {
    name: "garbage between frames",
    settings: { garbageBetweenFrames: 0.6 },
    kinds: ALL,
    evidence: (e) => {
      expect(e.fired.garbage).toBeGreaterThan(0);
      expect(e.status.discardedBytes).toBeGreaterThan(0);
    },
  },
  {
    name: "corrupt CRCs",
    settings: { corruptCrcRate: 0.4 },
    kinds: ALL,
    evidence: (e) => {
      expect(e.fired.corrupted).toBeGreaterThan(0);
      expect(e.status.crcErrors).toBeGreaterThan(0);
    },
  },
  {
    name: "dropped replies",
    settings: { dropReplyRate: 0.4 },
    kinds: ALL,
    evidence: (e) => {
      expect(e.fired.dropped).toBeGreaterThan(0);
      expect(e.counters.timeouts).toBeGreaterThan(0);
    },
  },
  {
    name: "stall",
    settings: { stall: true },
    kinds: ALL,
    evidence: (e) => {
      expect(e.counters.timeouts).toBeGreaterThan(0);
      expect([...e.links].some((l) => l !== "online")).toBe(true);
    },
  },
  {
    name: "old firmware layouts",
    settings: { oldFirmware: true },
    kinds: ALL,
    // The old BMS layout ends after SOH: no charge totals, where the healthy replies had them.
    evidence: (e) => {
      expect(e.healthy.every((r) => typeof r.bms?.ampHoursChargedTotal === "number")).toBe(true);
      expect(e.during.some((r) => r.bms !== undefined && r.bms.ampHoursChargedTotal == null)).toBe(true);
    },
  },
  {
    name: "resets mid-frame",
    settings: { resetMidFrame: 0.3 },
    kinds: NETWORK,
    evidence: (e) => {
      expect(e.fired.resets).toBeGreaterThan(0);
      expect(e.reconnects).toBeGreaterThan(0);
    },
  },
  {
    name: "device reboot (all connections dropped)",
    drop: true,
    kinds: NETWORK,
    evidence: (e) => expect(e.reconnects).toBeGreaterThan(0),
  },
  {
    name: "slow hub login",
    settings: { slowLoginMs: 250, resetMidFrame: "once" },
    kinds: ["hub"],
    // The reset forces a new login, whose first byte comes only after the 250 ms hold.
    evidence: (e) => {
      expect(e.fired.resets).toBe(1);
      expect(e.reconnects).toBeGreaterThan(0);
      expect(Math.max(0, ...e.probe.firstByteMs)).toBeGreaterThanOrEqual(249);
    },
  },
];

const BACKOFF = { backoffInitialMs: 40, backoffMaxMs: 80 };
const RECONNECTS_TO_RECOVER = 2;

async function cell(kind: Kind, fault: Fault, seed: number): Promise<void> {
  const r = await rig(kind, seed);
  cleanups.push(() => r.close());
  const produced = recordBmsReplies(r.device);
  const { factory, probe } = probed(r.transport);
  const p = new Poller({
    deviceId: `fm-${kind}-${seed}`,
    transport: factory,
    url: r.url,
    intervalMs: 100,
    requestTimeoutMs: 300,
    staleAfterIntervals: 3,
    yieldMs: BACKOFF.backoffMaxMs, // the hub closing a session reads as "taken": come back soon
    ...BACKOFF,
  });
  const readings: Reading[] = [];
  const links = new Set<string>();
  let clearedAt = -1;
  let reconnectsAtClear = 0;
  let reconnectsAtRecovery = -1;
  let evidence: Evidence | undefined;
  p.on("reading", (reading) => {
    readings.push(reading);
    if (clearedAt >= 0 && reconnectsAtRecovery < 0) reconnectsAtRecovery = p.status().reconnects;
  });
  p.on("status", (s) => links.add(s.link));
  p.on("error", () => undefined);
  cleanups.push(() => p.stop());
  p.start();
  try {
    await waitFor(() => readings.length >= 3, { timeoutMs: 10_000, what: `${kind}: healthy readings` });
    expect(p.status().link).toBe("online");
    const healthy = readings.length;
    const requests = () => r.device.stats.requests.COMM_BMS_GET_VALUES ?? 0;
    const requestsBefore = requests();
    const reconnectsBefore = p.status().reconnects;
    links.clear();
    const firedBefore = { ...r.device.stats.faults };
    const countersBefore = { ...p.counters };
    const statusBefore = p.status();
    probe.on = true;
    if (fault.drop) r.device.dropConnections();
    if (fault.settings) r.device.faults = { ...fault.settings };
    await waitFor(
      () =>
        fault.drop
          ? p.status().reconnects > reconnectsBefore
          : fault.settings?.stall
            ? p.status().link !== "online" && requests() >= requestsBefore + 3
            : requests() >= requestsBefore + 10 ||
              (fault.settings?.slowLoginMs !== undefined && readings.length >= healthy + 3),
      { timeoutMs: 15_000, what: `${kind} ${fault.name}: the fault at work` },
    );
    r.device.faults = {};
    probe.on = false;
    const firedNow = r.device.stats.faults;
    const statusNow = p.status();
    evidence = {
      fired: {
        dropped: firedNow.dropped - firedBefore.dropped,
        corrupted: firedNow.corrupted - firedBefore.corrupted,
        garbage: firedNow.garbage - firedBefore.garbage,
        resets: firedNow.resets - firedBefore.resets,
      },
      status: {
        ...statusNow,
        crcErrors: statusNow.crcErrors - statusBefore.crcErrors,
        discardedBytes: statusNow.discardedBytes - statusBefore.discardedBytes,
      },
      counters: { ...p.counters, timeouts: p.counters.timeouts - countersBefore.timeouts },
      reconnects: statusNow.reconnects - reconnectsBefore,
      probe,
      links: new Set(links),
      healthy: readings.slice(0, healthy),
      during: readings.slice(healthy),
    };
    reconnectsAtClear = p.status().reconnects;
    clearedAt = readings.length;
    await waitFor(() => readings.length >= clearedAt + 3 && p.status().link === "online", {
      timeoutMs: 15_000,
      what: `${kind} ${fault.name}: readings after the fault`,
    });
  } finally {
    await p.stop();
  }
  const st = p.status();
  // No wrong reading and none twice.
  for (const reading of readings) expect(produced.has(JSON.stringify(reading.bms))).toBe(true);
  expect(readings.length).toBeLessThanOrEqual(r.device.stats.requests.COMM_BMS_GET_VALUES ?? 0);
  for (let i = 1; i < readings.length; i++) {
    expect((readings[i] as Reading).time >= (readings[i - 1] as Reading).time).toBe(true);
  }
  // Recovery within two backoff periods (reconnect attempts) once the fault is gone.
  expect(reconnectsAtRecovery - reconnectsAtClear).toBeLessThanOrEqual(RECONNECTS_TO_RECOVER);
  // The fault fired, and the status and counters say what happened.
  if (!evidence) throw new Error("the fault phase did not complete");
  fault.evidence(evidence);
  expect(st.reconnects).toBeGreaterThanOrEqual(evidence.reconnects);
  expect(p.counters.readings).toBe(readings.length);
}

const serialOk = haveBinary(SOCAT);
describe("fault matrix: every simulator fault × tcp, hub, serial", () => {
  let seed = 100;
  for (const kind of ALL) {
    for (const fault of FAULTS.filter((f) => f.kinds.includes(kind))) {
      const s = seed++;
      if (kind === "serial" && !serialOk && !requireIntegration) {
        test.skipIf(true)(`${kind} × ${fault.name} (skipped: ${SOCAT} not installed)`, () => undefined);
        continue;
      }
      test.concurrent(`${kind} × ${fault.name}`, () => cell(kind, fault, s), 40_000);
    }
  }
});
