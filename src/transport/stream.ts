/**
 * A connected Duplex stream as a Transport: the one implementation behind TCP (net.Socket)
 * and serial (SerialPort), which only open the stream and say how it ends. Emits `close`
 * exactly once; a remote close carries the error the opener maps it to.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { type Transport, TransportError, type TransportEvents } from "./transport.js";

export interface StreamTransportOptions {
  /**
   * Ends the stream. Call `closed` when no `close` event will follow (a serial port that was
   * already gone underneath us); otherwise the stream's own `close` event ends the transport.
   */
  readonly end: (closed: () => void) => void;
  /** Maps a remote close (and the last stream error, if any) to the error reported with it. */
  readonly closeError?: (self: StreamTransport, cause?: Error) => TransportError;
  /** Text of a write error (errno codes of sockets read better in words). */
  readonly describeError?: (e: Error) => string;
}

export class StreamTransport extends EventEmitter<TransportEvents> implements Transport {
  private closed = false;
  private closing = false;
  /** Bytes received so far; the hub transport uses it to tell a rejected login from a lost session. */
  bytesReceived = 0;

  constructor(
    readonly url: string,
    private readonly stream: Duplex,
    private readonly options: StreamTransportOptions,
  ) {
    super();
    let lastError: Error | undefined;
    stream.on("data", (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.emit("data", new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    stream.on("error", (e: Error) => {
      lastError = e;
    });
    // A socket's close passes hadError (boolean); a serial port's passes its disconnect error.
    stream.on("close", (reason?: unknown) => {
      const cause = reason instanceof Error ? reason : lastError;
      this.finish(() =>
        this.options.closeError
          ? this.options.closeError(this, cause)
          : new TransportError("Closed", `${url}: connection closed by peer`, true, { cause }),
      );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed || this.closing) {
      return Promise.reject(new TransportError("Closed", `${this.url}: write on a closed connection`));
    }
    return new Promise((resolve, reject) => {
      this.stream.write(bytes, (e) => {
        if (!e) return resolve();
        const text = this.options.describeError?.(e) ?? e.message;
        reject(new TransportError("Io", `${this.url}: ${text}`, true, { cause: e }));
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.once("close", () => resolve());
      this.options.end(() => this.finish());
    });
  }

  /** Ends the transport once: a local close reports no error, a remote one `error()`. */
  private finish(error?: () => TransportError): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", this.closing || !error ? undefined : error());
  }
}
