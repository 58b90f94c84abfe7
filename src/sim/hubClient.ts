/**
 * A simulated Express registering with a VESC Hub, as vesc_express `main/comm_wifi.c`
 * tcp_task_hub does: connect out, send `VESC:<id>:<password>\n` plus the trailing 0x00 of
 * its strlen+1 write, wait for nothing, then serve VESC frames on that socket. One attempt;
 * reconnecting is the test's business.
 */
import { connect, type Socket } from "node:net";
import type { SimDevice } from "./device.js";

export interface HubRegistration {
  /** Resolves when the hub socket has closed (either side). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function registerWithHub(
  device: SimDevice,
  opts: { host: string; port: number; id: string; password: string },
): Promise<HubRegistration> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: opts.host, port: opts.port });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 5000);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const line = Buffer.concat([Buffer.from(`VESC:${opts.id}:${opts.password}\n`, "latin1"), Buffer.of(0)]);
  const send = (): void => {
    if (socket.destroyed) return;
    socket.write(line);
    device.serve(socket, { label: `hub ${opts.host}:${opts.port}` });
  };
  // slowLoginMs also slows the device side: the registration line goes out late.
  const slow = device.faults.slowLoginMs ?? 0;
  let timer: NodeJS.Timeout | undefined;
  if (slow > 0) {
    timer = setTimeout(() => {
      timer = undefined;
      send();
    }, slow);
  } else {
    send();
  }
  return {
    closed,
    close: async () => {
      clearTimeout(timer);
      socket.destroy();
      await closed;
    },
  };
}
