/**
 * One registered device: its socket, the VESC Tool client attached to it (at most one),
 * the bytes the device sent while no client was there, and the in-process bridge endpoint.
 * The tool ↔ device pipe is a plain byte copy with pause/resume backpressure; the bridge
 * shares the device through DeviceSharing only while a bridge endpoint is open, so a pure
 * relay device costs no frame decoding.
 */
import type { Socket } from "node:net";
import { encodeFrame } from "../protocol/frame.js";
import { DeviceSharing, type SharingOptions, type SharingStats } from "./sharing.js";

/** The bridge's side of a device: receives reply payloads, learns when the device is gone. */
export interface BridgeEndpoint {
  onReply(payload: Uint8Array): void;
  onDeviceGone(reason: string): void;
}

export interface DeviceLinkStats {
  readonly id: string;
  readonly remote: string;
  readonly registeredAt: string;
  readonly clientAttached: boolean;
  readonly clientRemote?: string;
  readonly clientSince?: string;
  readonly bridgeAttached: boolean;
  readonly bytesToDevice: number;
  readonly bytesToClient: number;
  readonly pendingBytes: number;
  readonly droppedBytes: number;
  readonly bridge?: Readonly<SharingStats>;
}

export interface DeviceLinkOptions {
  readonly pendingLimitBytes: number;
  readonly sharing?: SharingOptions;
}

export class DeviceLink {
  bytesToDevice = 0;
  bytesToClient = 0;
  private client: Socket | undefined;
  private clientRemote: string | undefined;
  private clientSince: Date | undefined;
  private pending: Uint8Array[] = [];
  private pendingSize = 0;
  private droppedBytes = 0;
  /** The Express sends `VESC:id:pw\n` plus a NUL: the first byte after the line, if 0, is registration. */
  private expectNul = true;
  private bridge: BridgeEndpoint | undefined;
  private sharing: DeviceSharing | undefined;
  private readonly registeredAt = new Date();
  private closed = false;
  private devicePaused = false;
  private clientPaused = false;

  constructor(
    readonly id: string,
    readonly socket: Socket,
    readonly remote: string,
    /** Salted hash of the password this device registered with. */
    readonly passwordHash: Buffer,
    private readonly options: DeviceLinkOptions,
    private readonly onGone: (link: DeviceLink) => void,
  ) {}

  /** Starts reading the device; `rest` is what followed the registration line in its chunk. */
  start(rest: Uint8Array): void {
    this.socket.on("data", (chunk: Buffer) => this.fromDevice(chunk));
    this.socket.on("close", () => this.close("device disconnected"));
    this.socket.on("error", () => {}); // 'close' follows; the reason is not the user's business
    if (rest.length > 0) this.fromDevice(rest);
  }

  get hasClient(): boolean {
    return this.client !== undefined;
  }

  /** Attaches a logged-in tool; the previous one (if any) is closed by the caller first. */
  attachClient(socket: Socket, remote: string, rest: Uint8Array): void {
    this.client = socket;
    this.clientRemote = remote;
    this.clientSince = new Date();
    this.clientPaused = false;
    this.sharing?.toolChanged();
    if (this.pendingSize > 0) {
      const buffered = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingSize = 0;
      this.writeToClient(buffered);
    }
    socket.on("data", (chunk: Buffer) => this.fromClient(socket, chunk));
    socket.on("close", () => this.detachClient(socket));
    socket.on("error", () => {});
    if (rest.length > 0) this.fromClient(socket, rest);
  }

  /** The attached tool's socket, so the hub can close it when a newer one logs in. */
  get clientSocket(): Socket | undefined {
    return this.client;
  }

  /** Opens the bridge endpoint; a previous one is told the device is gone (one bridge per device). */
  attachBridge(endpoint: BridgeEndpoint): void {
    this.bridge?.onDeviceGone("replaced by a newer bridge connection");
    this.sharing?.close();
    this.bridge = endpoint;
    this.sharing = new DeviceSharing(
      {
        writeToDevice: (bytes) => this.writeToDevice(bytes),
        deliverToBridge: (payload) => this.bridge?.onReply(payload),
        toolAttached: () => this.client !== undefined,
      },
      this.options.sharing,
    );
  }

  detachBridge(endpoint: BridgeEndpoint): void {
    if (this.bridge !== endpoint) return;
    this.bridge = undefined;
    this.sharing?.close();
    this.sharing = undefined;
  }

  /** Bridge → device. */
  bridgeWrite(endpoint: BridgeEndpoint, bytes: Uint8Array): void {
    if (this.bridge === endpoint) this.sharing?.fromBridge(bytes);
  }

  stats(): DeviceLinkStats {
    return {
      id: this.id,
      remote: this.remote,
      registeredAt: this.registeredAt.toISOString(),
      clientAttached: this.client !== undefined,
      ...(this.clientRemote !== undefined ? { clientRemote: this.clientRemote } : {}),
      ...(this.clientSince !== undefined ? { clientSince: this.clientSince.toISOString() } : {}),
      bridgeAttached: this.bridge !== undefined,
      bytesToDevice: this.bytesToDevice,
      bytesToClient: this.bytesToClient,
      pendingBytes: this.pendingSize,
      droppedBytes: this.droppedBytes,
      ...(this.sharing !== undefined ? { bridge: { ...this.sharing.stats } } : {}),
    };
  }

  /** Tears the device down; its tool goes with it, as in the reference hub. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.client?.destroy();
    this.sharing?.close();
    this.sharing = undefined;
    const bridge = this.bridge;
    this.bridge = undefined;
    bridge?.onDeviceGone(reason);
    this.onGone(this);
  }

  private fromDevice(chunk: Uint8Array): void {
    let data = chunk;
    if (this.expectNul && data.length > 0) {
      this.expectNul = false;
      if (data[0] === 0) data = data.subarray(1);
      if (data.length === 0) return;
    }
    const client = this.client;
    if (client !== undefined) {
      this.writeToClient(data);
      this.sharing?.fromDevice(data);
      return;
    }
    if (this.sharing === undefined) {
      this.keep(data);
      return;
    }
    // No tool: only what the bridge did not ask for is kept for the next tool.
    for (const payload of this.sharing.fromDevice(data)) this.keep(encodeFrame(payload));
  }

  private fromClient(socket: Socket, chunk: Uint8Array): void {
    if (socket !== this.client) return;
    this.bytesToDevice += chunk.length;
    if (!this.socket.write(chunk) && !this.clientPaused) {
      // Backpressure: stop reading the tool until the device has taken what it has.
      this.clientPaused = true;
      socket.pause();
      this.socket.once("drain", () => {
        this.clientPaused = false;
        socket.resume();
      });
    }
    this.sharing?.fromTool(chunk);
  }

  private writeToClient(data: Uint8Array): void {
    const client = this.client;
    if (client === undefined) return;
    this.bytesToClient += data.length;
    if (!client.write(data) && !this.devicePaused) {
      this.devicePaused = true;
      this.socket.pause();
      client.once("drain", () => this.resumeDevice());
    }
  }

  private writeToDevice(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  private detachClient(socket: Socket): void {
    if (socket !== this.client) return;
    this.client = undefined;
    this.clientRemote = undefined;
    this.clientSince = undefined;
    this.resumeDevice();
  }

  private resumeDevice(): void {
    this.devicePaused = false;
    this.socket.resume();
  }

  // Bounded like a full socket buffer: past the limit, newer bytes are lost (and counted).
  private keep(data: Uint8Array): void {
    const room = this.options.pendingLimitBytes - this.pendingSize;
    if (room <= 0) {
      this.droppedBytes += data.length;
      return;
    }
    const part = data.length <= room ? data : data.subarray(0, room);
    this.pending.push(Uint8Array.from(part));
    this.pendingSize += part.length;
    this.droppedBytes += data.length - part.length;
  }
}
