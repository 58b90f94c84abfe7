import { afterEach, describe, expect, test } from "vitest";
import { CommandId } from "../protocol/commandId.js";
import { encodeFrame } from "../protocol/frame.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { framesIn } from "../../test/helpers/hubPeers.js";
import { DeviceSharing, telemetryRequest } from "./sharing.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const BMS = Uint8Array.of(CommandId.BmsGetValues);
const VALUES = Uint8Array.of(CommandId.GetValues);
const FW = Uint8Array.of(CommandId.FwVersion);

function rig(options: { toolRecentMs?: number; shadowWaitMs?: number; stallMs?: number } = {}) {
  const toDevice: Uint8Array[] = [];
  const toBridge: Uint8Array[] = [];
  let tool = false;
  const sharing = new DeviceSharing(
    {
      writeToDevice: (b) => toDevice.push(b),
      deliverToBridge: (p) => toBridge.push(p),
      toolAttached: () => tool,
    },
    { toolRecentMs: 2000, shadowWaitMs: 200, stallMs: 200, ...options },
  );
  const deviceRequests = () => toDevice.flatMap((b) => framesIn(b)).map(hex);
  return {
    sharing,
    toDevice,
    toBridge,
    deviceRequests,
    setTool: (on: boolean) => {
      tool = on;
      sharing.toolChanged();
    },
  };
}

let rigs: DeviceSharing[] = [];
afterEach(() => {
  for (const s of rigs) s.close();
  rigs = [];
});
function make(options?: Parameters<typeof rig>[0]) {
  const r = rig(options);
  rigs.push(r.sharing);
  return r;
}

describe("what the bridge may send", () => {
  test.each([
    ["FW_VERSION", [0], true],
    ["GET_VALUES", [4], true],
    ["GET_VALUES_SELECTIVE", [50, 0, 0, 0xff, 0xff], true],
    ["BMS_GET_VALUES", [96], true],
    ["FORWARD_CAN(10, GET_VALUES)", [34, 10, 4], true],
    ["FORWARD_CAN(10, BMS_GET_VALUES)", [34, 10, 96], true],
    ["SET_CURRENT", [6, 0, 0, 0x10, 0], false],
    ["SET_MCCONF", [13, 1, 2, 3], false],
    ["GET_CUSTOM_CONFIG", [93, 0], false],
    ["FORWARD_CAN(10, SET_DUTY)", [34, 10, 5, 0, 0, 0, 0], false],
    ["FORWARD_CAN(10, FORWARD_CAN(…))", [34, 10, 34, 11, 4], false],
    ["REBOOT", [29], false],
    ["BMS_RESET_COUNTERS", [99], false],
  ])("%s → allowed %s", (_name, bytes, allowed) => {
    expect(telemetryRequest(Uint8Array.from(bytes)) !== undefined).toBe(allowed);
  });

  test("anything but read-only telemetry is dropped, never written to the device", () => {
    const r = make();
    r.sharing.fromBridge(encodeFrame(Uint8Array.of(CommandId.SetCurrent, 0, 0, 0x10, 0)));
    r.sharing.fromBridge(encodeFrame(Uint8Array.of(CommandId.Reboot)));
    r.sharing.fromBridge(encodeFrame(BMS));
    expect(r.deviceRequests()).toEqual([hex(BMS)]);
    expect(r.sharing.stats.blocked).toBe(2);
  });
});

describe("without a tool", () => {
  test("bridge requests go straight out and replies come back to it, in order", () => {
    const r = make();
    r.sharing.fromBridge(Buffer.concat([encodeFrame(FW), encodeFrame(BMS)]));
    expect(r.deviceRequests()).toEqual([hex(FW), hex(BMS)]);
    const unclaimed = r.sharing.fromDevice(
      Buffer.concat([
        encodeFrame(Uint8Array.of(0, 6, 5)),
        encodeFrame(Uint8Array.of(21, 1)),
        encodeFrame(Uint8Array.of(96, 7)),
      ]),
    );
    expect(r.toBridge.map(hex)).toEqual(["000605", "6007"]);
    // The unsolicited COMM_PRINT is not the bridge's: it is kept for the next tool.
    expect(unclaimed.map(hex)).toEqual(["1501"]);
  });
});

describe("with a tool attached", () => {
  test("the bridge reads the tool's telemetry replies instead of asking itself", async () => {
    const r = make();
    r.setTool(true);
    r.sharing.fromTool(encodeFrame(BMS)); // the tool polls BMS
    r.sharing.fromDevice(encodeFrame(Uint8Array.of(96, 1)));
    r.sharing.fromBridge(encodeFrame(BMS)); // asked lately by the tool → not sent
    expect(r.deviceRequests()).toEqual([]);
    r.sharing.fromTool(encodeFrame(BMS));
    r.sharing.fromDevice(encodeFrame(Uint8Array.of(96, 2)));
    expect(r.toBridge.map(hex)).toEqual(["6002"]);
    expect(r.sharing.stats.shadowed).toBe(1);
    expect(r.sharing.stats.forwarded).toBe(0);
  });

  test("what the tool has not asked lately is asked by the bridge", () => {
    const r = make();
    r.setTool(true);
    r.sharing.fromTool(encodeFrame(BMS));
    r.sharing.fromBridge(encodeFrame(VALUES));
    expect(r.deviceRequests()).toEqual([hex(VALUES)]);
    // Replies come back in order: the tool's BMS reply, then ours.
    r.sharing.fromDevice(
      Buffer.concat([encodeFrame(Uint8Array.of(96, 1)), encodeFrame(Uint8Array.of(4, 9))]),
    );
    expect(r.toBridge.map(hex)).toEqual(["0409"]);
  });

  test("if the tool stops asking, the waiting bridge request goes out itself", async () => {
    const r = make({ shadowWaitMs: 100 });
    r.setTool(true);
    r.sharing.fromTool(encodeFrame(BMS));
    r.sharing.fromDevice(encodeFrame(Uint8Array.of(96, 1)));
    r.sharing.fromBridge(encodeFrame(BMS));
    expect(r.deviceRequests()).toEqual([]);
    await waitFor(() => r.deviceRequests().length === 1);
    r.sharing.fromDevice(encodeFrame(Uint8Array.of(96, 3)));
    expect(r.toBridge.map(hex)).toEqual(["6003"]);
  });

  test("bridge frames are injected only between the tool's frames", async () => {
    const r = make({ stallMs: 60_000 });
    r.setTool(true);
    const toolFrame = encodeFrame(Uint8Array.of(CommandId.GetMcconf));
    r.sharing.fromTool(toolFrame.subarray(0, 3)); // the tool's frame is cut in two
    r.sharing.fromBridge(encodeFrame(VALUES));
    expect(r.toDevice).toEqual([]);
    r.sharing.fromTool(toolFrame.subarray(3));
    expect(r.deviceRequests()).toEqual([hex(VALUES)]);
  });

  test("a stuck partial tool frame does not hold the bridge back for ever", async () => {
    const r = make({ stallMs: 100 });
    r.setTool(true);
    r.sharing.fromTool(Uint8Array.of(0x02, 0x40, 0x01)); // a header promising 64 bytes that never come
    r.sharing.fromBridge(encodeFrame(VALUES));
    expect(r.toDevice).toEqual([]);
    await waitFor(() => r.deviceRequests().length === 1);
  });
});
