/**
 * The bridge's way into a device registered with an in-process hub: a TransportFactory
 * whose Transport writes the poller's frames into the hub's sharing logic and emits the
 * replies routed to it, with no network hop. While VESC Tool is attached the hub decides
 * what actually reaches the device (sharing.ts); the poller just sees a slower or faster
 * reply. The transport closes when the device leaves the hub; the factory waits for the
 * device to register, so a poller started before the device just shows "connecting".
 */
import { EventEmitter } from "node:events";
import { encodeFrame } from "../protocol/frame.js";
import {
  type LinkPolicy,
  PLAIN_LINK,
  type Transport,
  TransportError,
  type TransportEvents,
  type TransportFactory,
  withPolicy,
} from "../transport/transport.js";
import type { BridgeEndpoint } from "./deviceLink.js";
import type { HubServer } from "./hubServer.js";
import { normaliseHubId } from "./loginLine.js";

export interface HubLocalTransportOptions {
  /** How long the factory waits for the device to register before rejecting (default 30000). */
  readonly waitMs?: number;
}

class HubLocalTransport extends EventEmitter<TransportEvents> implements Transport, BridgeEndpoint {
  readonly url: string;
  private open = true;

  constructor(
    private readonly hub: HubServer,
    private readonly id: string,
  ) {
    super();
    this.url = `hub-local://${id}`;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.open) return Promise.reject(new TransportError("Closed", `${this.url} is closed`));
    this.hub.bridgeWrite(this.id, this, bytes);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.open) {
      this.open = false;
      this.hub.detachBridge(this.id, this);
      this.emit("close");
    }
    return Promise.resolve();
  }

  onReply(payload: Uint8Array): void {
    // Deferred so a reply never re-enters the poller from inside its own write().
    if (this.open) queueMicrotask(() => this.open && this.emit("data", encodeFrame(payload)));
  }

  onDeviceGone(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.emit("close", new TransportError("Closed", `device ${this.id} left the hub (${reason})`));
  }
}

/**
 * A relay like any hub, so the identity is confirmed; but nothing is swallowed after a login,
 * and the in-process hub shares the device instead of handing it to the newest login.
 */
export const IN_PROCESS_HUB_LINK: LinkPolicy = { ...PLAIN_LINK, confirmIdentity: true };

/** A TransportFactory reaching `deviceId` through `hub` in-process. */
export function hubLocalTransport(
  hub: HubServer,
  deviceId: string,
  options: HubLocalTransportOptions = {},
): TransportFactory {
  const id = normaliseHubId(deviceId);
  return withPolicy(async (signal) => {
    const registered = await hub.waitForDevice(id, signal, options.waitMs ?? 30_000);
    if (signal.aborted) throw new TransportError("ConnectFailed", `connecting to ${id} was aborted`);
    if (!registered)
      throw new TransportError("ConnectTimeout", `device ${id} is not registered with the hub`);
    const transport = new HubLocalTransport(hub, id);
    if (!hub.attachBridge(id, transport)) {
      throw new TransportError("ConnectFailed", `device ${id} is not registered with the hub`);
    }
    return transport;
  }, IN_PROCESS_HUB_LINK);
}
