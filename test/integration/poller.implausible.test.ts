/**
 * A device whose BMS replies pass the CRC but carry sentinel values (2147.48 V, −32.768 V
 * cells, SOC −3276.8 %): over a real loopback socket, the poller publishes them as null and
 * counts them in its status, and a data_version 1 "not applicable" slot reads null.
 */
import { type Server, type Socket, createServer } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { Reading } from "../../src/model/reading.js";
import {
  CommandId,
  FrameDecoder,
  encodeBmsValuesResponse,
  encodeFrame,
  encodeFwVersionResponse,
} from "../../src/protocol/index.js";
import { Poller } from "../../src/session/poller.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { waitFor } from "../helpers/waitFor.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FW = encodeFwVersionResponse({
  firmware: "6.06",
  major: 6,
  minor: 6,
  hardware: "VESC Express T",
  uuid: "aabbccddeeff000000000000",
  hwType: 2,
  paired: false,
  testVersion: 0,
});

const BMS = encodeBmsValuesResponse({
  packVoltage: 2147.483647,
  chargeVoltage: 0,
  current: 0,
  currentIc: 0.15,
  ampHours: 0,
  wattHours: 0,
  cells: [4.1, -32.768, 4.1],
  balancing: [false, false, false],
  temperatures: [30, 25, 26, -281, 22],
  icTemperature: 30,
  humidityTemperature: 0,
  humidity: 0,
  maxCellTemperature: 26,
  soc: -3276.8,
  soh: 100,
  canId: 10,
  ampHoursChargedTotal: 0,
  wattHoursChargedTotal: 0,
  ampHoursDischargedTotal: 0,
  wattHoursDischargedTotal: 0,
  pressure: 0,
  dataVersion: 1,
  status: "OK",
});

async function device(): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind !== "frame") continue;
        const id = ev.payload[0];
        if (id === CommandId.FwVersion) socket.write(encodeFrame(FW));
        else if (id === CommandId.BmsGetValues) socket.write(encodeFrame(BMS));
      }
    });
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { port: address.port };
}

describe("implausible BMS values over a real socket", () => {
  test("are published as null, never as numbers, and counted in the device status", async () => {
    const { port } = await device();
    const p = new Poller({
      deviceId: "pack",
      transport: tcpTransport({ host: "127.0.0.1", port }),
      url: `tcp://127.0.0.1:${port}`,
      intervalMs: 100,
      requestTimeoutMs: 500,
      backoffInitialMs: 20,
      backoffMaxMs: 200,
    });
    const readings: Reading[] = [];
    p.on("reading", (r) => readings.push(r));
    cleanups.push(() => p.stop());
    p.start();
    await waitFor(() => readings.length >= 2, { what: "two readings" });
    const bms = readings[0]?.bms;
    expect(bms?.packVoltage).toBeNull();
    expect(bms?.cells).toEqual([4.1, null, 4.1]);
    expect(bms?.soc).toBeNull();
    expect(bms?.temperatures).toEqual([30, 25, 26, null, 22]);
    expect(bms?.packCurrent).toBe(0.15);
    expect(bms?.packPower).toBeNull();
    expect(bms?.implausible).toEqual(["packVoltage", "cells[1]", "soc"]);
    const json = JSON.stringify(readings[0]);
    expect(json).not.toMatch(/2147|32\.768|3276|-281/);
    const status = p.status();
    expect(status.link).toBe("online");
    expect(status.implausibleValues).toBe(3 * p.counters.readings);
    expect(status.implausibleValues).toBeGreaterThanOrEqual(6);
  });
});
