/**
 * USB serial to any VESC (`/dev/ttyACM0`, 115200 8N1) via node-serialport. Plain framing,
 * no login. Opening is bounded by the abort signal; a port that vanishes (unplugged) closes
 * the transport with an error so the session reconnects with backoff.
 */
import { EventEmitter } from "node:events";
import { SerialPort } from "serialport";
import { type Transport, TransportError, type TransportEvents, type TransportFactory } from "./transport.js";

export interface SerialTransportOptions {
  readonly path: string;
  readonly baud: number;
}

export function serialUrl(path: string, baud: number): string {
  return `serial://${path}?baud=${baud}`;
}

class SerialTransport extends EventEmitter<TransportEvents> implements Transport {
  private closed = false;
  private closing = false;

  constructor(
    readonly url: string,
    private readonly port: SerialPort,
  ) {
    super();
    let lastError: Error | undefined;
    port.on("data", (chunk: Buffer) =>
      this.emit("data", new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    port.on("error", (e: Error) => {
      lastError = e;
    });
    port.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      this.emit(
        "close",
        this.closing
          ? undefined
          : new TransportError(
              "Closed",
              `${url}: serial port closed${lastError ? `: ${lastError.message}` : ""}`,
              true,
              {
                cause: lastError,
              },
            ),
      );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed || this.closing) {
      return Promise.reject(new TransportError("Closed", `${this.url}: write on a closed port`));
    }
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes), (e) => {
        if (e) reject(new TransportError("Io", `${this.url}: ${e.message}`, true, { cause: e }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.port.once("close", () => resolve());
      this.port.close((e) => {
        // Already closed underneath us (unplugged): no close event will follow.
        if (e && !this.port.isOpen) {
          this.closed = true;
          resolve();
        }
      });
    });
  }
}

export function serialTransport(options: SerialTransportOptions): TransportFactory {
  const url = serialUrl(options.path, options.baud);
  return (signal) =>
    new Promise<Transport>((resolve, reject) => {
      if (signal.aborted) {
        reject(new TransportError("ConnectFailed", `${url}: aborted`, true, { cause: signal.reason }));
        return;
      }
      const port = new SerialPort({ path: options.path, baudRate: options.baud, autoOpen: false });
      const onAbort = (): void => {
        port.close(() => undefined);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      port.open((e) => {
        signal.removeEventListener("abort", onAbort);
        if (e) {
          reject(new TransportError("ConnectFailed", `cannot open ${url}: ${e.message}`, true, { cause: e }));
          return;
        }
        if (signal.aborted) {
          port.close(() => undefined);
          reject(new TransportError("ConnectFailed", `${url}: aborted`, true, { cause: signal.reason }));
          return;
        }
        resolve(new SerialTransport(url, port));
      });
    });
}
