/**
 * Serves a simulated device on a serial port path, e.g. one end of a socat pty pair, the
 * way a VESC answers on its USB CDC port (plain framing, no login).
 */
import { SerialPort } from "serialport";
import type { SimDevice } from "./device.js";

export interface SerialServing {
  close(): Promise<void>;
}

export async function serveSerial(device: SimDevice, path: string, baud = 115200): Promise<SerialServing> {
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const closed = new Promise<void>((resolve) => port.once("close", () => resolve()));
  const conn = device.serve(port, { label: `serial ${path}` });
  return {
    close: async () => {
      if (port.isOpen) {
        conn.close();
        await closed;
      }
    },
  };
}
