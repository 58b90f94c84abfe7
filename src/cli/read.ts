/**
 * `vesc2mqtt read`: connect once, handshake once, take --count readings --interval seconds
 * apart, print them (NDJSON with --json, a table otherwise). It is a one-shot command, so the
 * first connection gets a single attempt; but a connection lost between readings is re-opened
 * (up to 3 tries with short backoff) so a long --count run survives a hiccup.
 */
import { parseArgs } from "node:util";
import type { DeviceInfo } from "../model/reading.js";
import { deviceInfoFromFwVersion } from "../protocol/index.js";
import { nextDelay } from "../session/backoff.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, DeviceReader, canFirmware } from "../session/device.js";
import { handshake } from "../session/handshake.js";
import { Session, isSessionError } from "../session/session.js";
import type { CanNodeSpec } from "../session/types.js";
import { createTransportFactory } from "../transport/fromSpec.js";
import type { TransportFactory } from "../transport/transport.js";
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  type CliIo,
  type ResolvedConnection,
  UsageError,
  integerFlag,
  oneLine,
  resolveConnection,
  secondsFlag,
} from "./connectionArgs.js";
import type { Chemistry } from "../battery/index.js";
import { BatteryStage } from "../bridge/batteryStage.js";
import { formatReading, toJsonReading } from "./format.js";

export const READ_USAGE =
  `usage: vesc2mqtt read ${CONNECTION_USAGE.choose} ` +
  "[--can-id N] [--count N] [--interval SECONDS] [--json] [--chemistry nmc|lfp|lto] " +
  `[--timeout SECONDS] ${CONNECTION_USAGE.files}`;

/** The chemistries `--chemistry` takes: the built-in OCV tables (custom needs a table, so the config). */
const READ_CHEMISTRIES = ["nmc", "lfp", "lto"] as const satisfies readonly Chemistry[];
type ReadChemistry = (typeof READ_CHEMISTRIES)[number];

/** Reconnects allowed in a row while a --count run is under way. */
const MAX_RECONNECTS = 3;

interface ReadArgs {
  readonly connection: ResolvedConnection;
  readonly canId: number | undefined;
  readonly count: number;
  readonly intervalMs: number;
  readonly json: boolean;
  /** The OCV table of the table's `SOC est.`. */
  readonly chemistry: ReadChemistry;
}

function chemistryFlag(text: string | undefined): ReadChemistry {
  if (text === undefined) return "nmc";
  const chemistry = READ_CHEMISTRIES.find((c) => c === text.trim().toLowerCase());
  if (chemistry === undefined)
    throw new UsageError(`--chemistry: expected ${READ_CHEMISTRIES.join(", ")}, got "${text}"`);
  return chemistry;
}

function parseReadArgs(argv: string[], env: Readonly<Record<string, string | undefined>>): ReadArgs {
  let values: ReturnType<typeof parse>["values"];
  const parse = (args: string[]) =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...CONNECTION_OPTIONS,
        "can-id": { type: "string" },
        count: { type: "string" },
        interval: { type: "string" },
        json: { type: "boolean" },
        chemistry: { type: "string" },
      },
    });
  try {
    ({ values } = parse(argv));
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  return {
    connection: resolveConnection(values, env),
    canId: integerFlag(values["can-id"], "--can-id", 0, 254),
    count: integerFlag(values.count, "--count", 1, Number.MAX_SAFE_INTEGER) ?? 1,
    intervalMs: secondsFlag(values.interval, "--interval") ?? 1000,
    json: values.json ?? false,
    chemistry: chemistryFlag(values.chemistry),
  };
}

/** Connection + handshake + reader; one per (re)connection. */
interface Link {
  readonly session: Session;
  readonly reader: DeviceReader;
}

async function openLink(
  factory: TransportFactory,
  args: ReadArgs,
  signal: AbortSignal,
  canDevices: Map<number, DeviceInfo>,
): Promise<Link> {
  const requestTimeoutMs = args.connection.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const session = new Session(await factory(signal));
  try {
    // FW_VERSION only (re-sent until answered, confirmed through a hub): no custom config.
    const fw = await handshake(session, {
      requestTimeoutMs,
      resend: args.connection.policy.resendFirstRequest,
      confirmIdentity: args.connection.policy.confirmIdentity,
    });
    let can: CanNodeSpec[] = [];
    if (args.canId !== undefined) {
      let node = canDevices.get(args.canId);
      if (!node) {
        node = deviceInfoFromFwVersion(await canFirmware(session, args.canId, requestTimeoutMs), args.canId);
        canDevices.set(args.canId, node);
      }
      // hw type 0 is a motor controller; a VESC BMS (1) or an Express-class module (2) answers BMS values.
      can = [{ id: args.canId, kind: node.hwType === 0 || node.hwType === undefined ? "motor" : "bms" }];
    }
    const reader = new DeviceReader(session, deviceInfoFromFwVersion(fw), {
      deviceId: "cli",
      requestTimeoutMs,
      readBms: args.canId === undefined,
      can,
      canDevices,
    });
    return { session, reader };
  } catch (e) {
    await session.close();
    throw e;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function readCommand(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  const env = io.env ?? process.env;
  if (argv.includes("--help") || argv.includes("-h")) {
    out(`${READ_USAGE}\n`);
    return 0;
  }
  let args: ReadArgs;
  try {
    args = parseReadArgs(argv, env);
  } catch (e) {
    err(`vesc2mqtt read: ${oneLine(e)} (see: vesc2mqtt read --help)\n`);
    return 2;
  }
  const { secret } = args.connection;
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  io.signal?.addEventListener("abort", onSignal);
  if (io.signal?.aborted) abort.abort();
  if (!io.signal) process.once("SIGINT", onSignal);
  const factory = createTransportFactory(
    args.connection.spec,
    args.connection.timeoutMs === undefined ? {} : { connectTimeoutMs: args.connection.timeoutMs },
  );
  const canDevices = new Map<number, DeviceInfo>();
  let link: Link | undefined;
  try {
    link = await openLink(factory, args, abort.signal, canDevices);
    let failures = 0;
    // The table's `SOC est.`: nothing is stored, so it is the OCV curve's SOC (--chemistry,
    // default NMC) of the cells. The JSON stays the reading as read (docs/cli.md "JSON output").
    const battery = new BatteryStage({ deviceId: "read", config: { chemistry: args.chemistry } });
    for (let done = 0; done < args.count && !abort.signal.aborted; ) {
      const started = Date.now();
      try {
        const polled = await link.reader.poll();
        const reading = args.json ? polled : battery.apply(polled);
        const line = toJsonReading(reading, args.canId);
        out(args.json ? `${JSON.stringify(line)}\n` : `${formatReading(line, reading.time)}\n\n`);
        done++;
        failures = 0;
      } catch (e) {
        if (abort.signal.aborted) break;
        // Only a lost or silent link is worth another try; anything else (a malformed reply,
        // a CAN node that does not answer) is the answer.
        if (!isSessionError(e) || ++failures > MAX_RECONNECTS) throw e;
        err(`vesc2mqtt read: ${oneLine(e, secret)}; reconnecting\n`);
        await link.session.close();
        link = undefined;
        await sleep(
          nextDelay(failures - 1, { initialMs: 250, maxMs: 2000, random: Math.random() }),
          abort.signal,
        );
        link = await openLink(factory, args, abort.signal, canDevices);
        continue;
      }
      if (done < args.count) await sleep(args.intervalMs - (Date.now() - started), abort.signal);
    }
    return abort.signal.aborted ? 130 : 0;
  } catch (e) {
    err(`vesc2mqtt read: ${abort.signal.aborted ? "interrupted" : oneLine(e, secret)}\n`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    await link?.session.close();
    io.signal?.removeEventListener("abort", onSignal);
    process.off("SIGINT", onSignal);
  }
}
