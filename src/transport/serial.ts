/**
 * USB serial to any VESC (`/dev/ttyACM0`, 115200 8N1) via node-serialport: opens the port
 * and hands it to the stream transport. Plain framing, no login. Opening is bounded by the
 * abort signal; a port that vanishes (unplugged) closes the transport with an error so the
 * session reconnects with backoff.
 */
import { SerialPort } from "serialport";
import { StreamTransport } from "./stream.js";
import {
  type LinkPolicy,
  PLAIN_LINK,
  type Transport,
  TransportError,
  type TransportFactory,
  withPolicy,
} from "./transport.js";

/** A serial port (`serial:///dev/ttyACM0?baud=115200`). */
export interface SerialSpec {
  readonly type: "serial";
  readonly path: string;
  readonly baud: number;
}

export interface SerialTransportOptions {
  readonly path: string;
  readonly baud: number;
}

export function serialUrl(path: string, baud: number): string {
  return `serial://${path}?baud=${baud}`;
}

/** An open port as a Transport; closing a port that was unplugged meanwhile emits no close event. */
function portTransport(url: string, port: SerialPort): StreamTransport {
  return new StreamTransport(url, port, {
    end: (closed) =>
      port.close((e) => {
        if (e && !port.isOpen) closed();
      }),
    closeError: (_self, cause) =>
      new TransportError("Closed", `${url}: serial port closed${cause ? `: ${cause.message}` : ""}`, true, {
        cause,
      }),
  });
}

/** USB has one client; nobody takes the device away. */
export const SERIAL_LINK: LinkPolicy = PLAIN_LINK;

export function serialTransport(options: SerialTransportOptions): TransportFactory {
  const url = serialUrl(options.path, options.baud);
  return withPolicy(
    (signal) =>
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
            reject(
              new TransportError("ConnectFailed", `cannot open ${url}: ${e.message}`, true, { cause: e }),
            );
            return;
          }
          if (signal.aborted) {
            port.close(() => undefined);
            reject(new TransportError("ConnectFailed", `${url}: aborted`, true, { cause: signal.reason }));
            return;
          }
          resolve(portTransport(url, port));
        });
      }),
    SERIAL_LINK,
  );
}
