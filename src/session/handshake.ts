/**
 * The connect handshake. Through a hub it is VESC Tool's (vesc_tool `vescinterface.cpp`
 * timerSlot): COMM_FW_VERSION, written again every 80 ms until answered (up to 25 writes), so
 * a frame the hub swallowed after the login line costs one resend interval, not a reply
 * timeout. Direct links swallow nothing: there a reply slower than 80 ms (a bridge starting
 * hundreds of devices) would only multiply the requests, so they send once and retry on
 * timeout.
 *
 * On a hub the identity is confirmed: the reference hub only reads the device while a tool
 * is attached, and flushes what the device sent for the previous tool ahead of the first
 * reply to ours (a forwarded FW_VERSION of a CAN node, say). The newest FW_VERSION of a burst
 * is the candidate, and a second FW_VERSION must agree on uuid and hardware.
 *
 * COMM_GET_CUSTOM_CONFIG is opt-in only: its reply carries WiFi and hub passwords.
 */
import {
  CommandId,
  ProtocolError,
  decodeFwVersion,
  encodeCustomConfigRequest,
  encodeFrame,
  type FwVersion,
  fwVersion,
  isProtocolError,
} from "../protocol/index.js";
import { type Session, isSessionError } from "./session.js";

/** VESC Tool's FW_VERSION poll period during a connect. */
export const FW_RESEND_MS = 80;
/** VESC Tool's limit on FW_VERSION writes before "No firmware read response". */
export const FW_MAX_SENDS = 25;
/** Same as the poll's reply timeout (device.ts DEFAULT_REQUEST_TIMEOUT_MS). */
const DEFAULT_TIMEOUT_MS = 2000;
/** Further FW_VERSION rounds to get two replies in a row that agree. */
const MAX_CONFIRM_ROUNDS = 3;
const FW_REQUEST_FRAME = encodeFrame(fwVersion.encodeRequest());

export interface HandshakeOptions {
  /** Deadline of each FW_VERSION round, ms (default 2000); with resend, the writes fit in it. */
  readonly requestTimeoutMs?: number;
  /**
   * Opt-in only: GET_CUSTOM_CONFIG(0) after FW_VERSION, reply discarded unread. It makes the
   * Express send its WiFi and hub passwords and BLE pin over the link.
   */
  readonly customConfig?: boolean;
  /** Re-send FW_VERSION every resendEveryMs until answered (hub connections). */
  readonly resend?: boolean;
  /** Confirm the identity with a second FW_VERSION (hub connections; see the module header). */
  readonly confirmIdentity?: boolean;
  /** FW_VERSION rounds of requestTimeoutMs before giving up (default: 1 with resend, else 3). */
  readonly fwAttempts?: number;
  /** Resend period, ms (default 80). */
  readonly resendEveryMs?: number;
}

/** FW_VERSION (re-sent until answered and confirmed on a hub), then the opt-in GET_CUSTOM_CONFIG(0). */
export async function handshake(session: Session, options: HandshakeOptions = {}): Promise<FwVersion> {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const resend = options.resend ?? false;
  const attempts = Math.max(1, options.fwAttempts ?? (resend ? 1 : 3));
  const every = options.resendEveryMs ?? FW_RESEND_MS;
  // FW_VERSION frames that arrived with no FW_VERSION request waiting: a burst's later frames.
  let newest: Uint8Array | undefined;
  const onStray = (payload: Uint8Array): void => {
    if (payload[0] === CommandId.FwVersion) newest = payload;
  };
  const ask = async (): Promise<Uint8Array> => {
    newest = undefined;
    for (let i = 1; ; i++) {
      try {
        const reply = await session.requestFrame(
          FW_REQUEST_FRAME,
          resend
            ? {
                expect: CommandId.FwVersion,
                timeoutMs,
                resendEveryMs: every,
                maxSends: Math.min(FW_MAX_SENDS, Math.max(1, Math.ceil(timeoutMs / every))),
              }
            : { expect: CommandId.FwVersion, timeoutMs },
        );
        // This runs after the rest of the reply's read was decoded: a frame the hub flushed
        // ahead of ours took the request, ours came in as a stray right behind it.
        return newest ?? reply;
      } catch (e) {
        if (!(isSessionError(e) && e.code === "Timeout") || i >= attempts) throw e;
      }
    }
  };
  session.on("stray", onStray);
  let fw: FwVersion;
  try {
    fw = options.confirmIdentity ? await confirmed(session, ask) : decodeFwVersion(await ask());
  } finally {
    session.off("stray", onStray);
  }
  if (options.customConfig) {
    try {
      // The reply holds WiFi and hub passwords: awaited only to keep request/reply in step, never read.
      await session.request(encodeCustomConfigRequest(0), { expect: CommandId.GetCustomConfig, timeoutMs });
    } catch (e) {
      if (!(isSessionError(e) && e.code === "Timeout")) throw e;
    }
  }
  return fw;
}

/** Asks until two FW_VERSION replies in a row name the same device. */
async function confirmed(session: Session, ask: () => Promise<Uint8Array>): Promise<FwVersion> {
  let previous = decodeOrUndefined(await ask());
  for (let round = 0; round < MAX_CONFIRM_ROUNDS; round++) {
    const current = decodeOrUndefined(await ask());
    if (previous && current && sameDevice(previous, current)) return current;
    previous = current;
  }
  throw new ProtocolError(
    "InvalidPayload",
    `${session.url}: FW_VERSION replies kept naming different devices; identity not confirmed`,
  );
}

function decodeOrUndefined(payload: Uint8Array): FwVersion | undefined {
  try {
    return decodeFwVersion(payload);
  } catch (e) {
    if (isProtocolError(e)) return undefined;
    throw e;
  }
}

function sameDevice(a: FwVersion, b: FwVersion): boolean {
  return a.uuid === b.uuid && a.hwType === b.hwType && a.hardware === b.hardware;
}
