/**
 * `vesc2mqtt scan`: the explicit CAN scan — never done automatically. PING_CAN on the
 * connected device, then FW_VERSION of each id that answered, through COMM_FORWARD_CAN, one
 * at a time. Prints ids, hardware and firmware so the user can list the ones to read.
 */
import { parseArgs } from "node:util";
import { escapeControl } from "../bridge/log.js";
import { deviceInfoFromFwVersion } from "../protocol/index.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, canFirmware, scanCanBus } from "../session/device.js";
import { handshake } from "../session/handshake.js";
import { Session } from "../session/session.js";
import { createTransportFactory } from "../transport/fromSpec.js";
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  type CliIo,
  type ResolvedConnection,
  UsageError,
  oneLine,
  resolveConnection,
} from "./connectionArgs.js";
import { formatDevice, jsonDevice } from "./format.js";

export const SCAN_USAGE =
  `usage: vesc2mqtt scan ${CONNECTION_USAGE.choose} [--json] [--timeout SECONDS] ${CONNECTION_USAGE.files}`.trimEnd();

interface ScanArgs {
  readonly connection: ResolvedConnection;
  readonly json: boolean;
}

function parseScanArgs(argv: string[], env: Readonly<Record<string, string | undefined>>): ScanArgs {
  const parse = (args: string[]) =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { ...CONNECTION_OPTIONS, json: { type: "boolean" } },
    });
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  return { connection: resolveConnection(values, env), json: values.json ?? false };
}

/**
 * The ids of a PING_CAN reply worth a FW_VERSION each: 0–254 (255 is the broadcast id), each
 * once, in the order listed. The reply is a plain byte list; a broken or hostile device can
 * repeat an id thousands of times, and each would cost a forwarded request and its timeout.
 */
export function canIdsToQuery(listed: readonly number[]): number[] {
  const seen = new Set<number>();
  for (const id of listed) if (Number.isInteger(id) && id >= 0 && id <= 254) seen.add(id);
  return [...seen];
}

export async function scanCommand(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  if (argv.includes("--help") || argv.includes("-h")) {
    out(`${SCAN_USAGE}\n`);
    return 0;
  }
  let args: ScanArgs;
  try {
    args = parseScanArgs(argv, io.env ?? process.env);
  } catch (e) {
    err(`vesc2mqtt scan: ${oneLine(e)} (see: vesc2mqtt scan --help)\n`);
    return 2;
  }
  const { spec, timeoutMs, secret, policy, publicRelay } = args.connection;
  if (publicRelay !== undefined) {
    err(
      `vesc2mqtt scan: warning: scanning through ${publicRelay}; ` +
        "this pings every CAN id on the device's bus — only do it on your own device\n",
    );
  }
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  io.signal?.addEventListener("abort", onSignal);
  if (io.signal?.aborted) abort.abort();
  if (!io.signal) process.once("SIGINT", onSignal);
  const requestTimeoutMs = timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let session: Session | undefined;
  try {
    const factory = createTransportFactory(
      spec,
      timeoutMs === undefined ? {} : { connectTimeoutMs: timeoutMs },
    );
    session = new Session(await factory(abort.signal));
    const closeOnAbort = (): void => void session?.close();
    abort.signal.addEventListener("abort", closeOnAbort, { once: true });
    const device = deviceInfoFromFwVersion(
      await handshake(session, {
        requestTimeoutMs,
        resend: policy.resendFirstRequest,
        confirmIdentity: policy.confirmIdentity,
      }),
    );
    const ids = canIdsToQuery(await scanCanBus(session, requestTimeoutMs));
    const nodes: Array<{ canId: number; device?: ReturnType<typeof jsonDevice>; error?: string }> = [];
    for (const canId of ids) {
      try {
        nodes.push({
          canId,
          device: jsonDevice(
            deviceInfoFromFwVersion(await canFirmware(session, canId, requestTimeoutMs), canId),
          ),
        });
      } catch (e) {
        if (session.closed) throw e;
        nodes.push({ canId, error: oneLine(e, secret) });
      }
    }
    if (args.json) {
      out(`${JSON.stringify({ device: jsonDevice(device), can: nodes })}\n`);
    } else {
      out(`${formatDevice(device)}\n`);
      if (nodes.length === 0) out("no CAN devices answered\n");
      else {
        out(`${"CAN id".padEnd(8)}${"hardware".padEnd(24)}${"firmware".padEnd(10)}uuid\n`);
        for (const n of nodes) {
          out(
            n.device
              ? `${String(n.canId).padEnd(8)}${escapeControl(`${(n.device.hardware || "-").padEnd(24)}${n.device.firmware.padEnd(10)}${n.device.uuid || "-"}`)}\n`
              : `${String(n.canId).padEnd(8)}(no FW_VERSION reply: ${n.error})\n`,
          );
        }
      }
    }
    return 0;
  } catch (e) {
    err(`vesc2mqtt scan: ${abort.signal.aborted ? "interrupted" : oneLine(e, secret)}\n`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    await session?.close();
    io.signal?.removeEventListener("abort", onSignal);
    process.off("SIGINT", onSignal);
  }
}
