/**
 * A minimal protocol client for simulator tests: frames requests with the shared codecs,
 * decodes replies with FrameDecoder and lets a test await the next frame. Works on any
 * Duplex (TCP socket, serial port).
 */
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { encodeFrame, FrameDecoder } from "../../src/protocol/index.js";
import { waitFor } from "./waitFor.js";

export class FrameClient {
  readonly decoder = new FrameDecoder();
  readonly frames: Uint8Array[] = [];
  /** Every raw byte received. */
  received = 0;
  dataEvents = 0;
  closed = false;
  readonly closedPromise: Promise<void>;

  constructor(readonly stream: Duplex) {
    stream.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      this.dataEvents++;
      for (const ev of this.decoder.push(chunk)) if (ev.kind === "frame") this.frames.push(ev.payload);
    });
    stream.on("error", () => undefined);
    this.closedPromise = new Promise((resolve) =>
      stream.once("close", () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static async tcp(port: number, host = "127.0.0.1"): Promise<FrameClient> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    return new FrameClient(socket);
  }

  send(payload: Uint8Array): void {
    this.stream.write(encodeFrame(payload));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.stream.write(bytes);
  }

  /** The next reply frame (in arrival order). */
  async next(timeoutMs = 10_000): Promise<Uint8Array> {
    await waitFor(() => this.frames.length > 0 || this.closed, {
      timeoutMs,
      intervalMs: 5,
      what: "a reply frame",
    });
    const frame = this.frames.shift();
    if (!frame) throw new Error("connection closed before a reply arrived");
    return frame;
  }

  async request(payload: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    this.send(payload);
    return this.next(timeoutMs);
  }

  async close(): Promise<void> {
    this.stream.destroy();
    await this.closedPromise;
  }
}
