/**
 * Many simulated devices in one process: each on its own port, each answering with its own
 * identity, no timers while idle, and nothing left behind after close().
 */
import { expect, test } from "vitest";
import { CommandId, decodeFwVersion } from "../../src/protocol/index.js";
import { startSimulatorFleet } from "../../src/sim/index.js";
import { FrameClient } from "../helpers/simClient.js";
import { waitFor } from "../helpers/waitFor.js";

const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;

test("a fleet of 200 devices starts, answers on its own ports, idles without timers and closes cleanly", async () => {
  const tcpBefore = count("TCPServerWrap") + count("TCPSocketWrap");
  const timersBefore = count("Timeout");
  const fleet = await startSimulatorFleet(200, { seed: 1000, canIds: [84] });
  try {
    expect(fleet.sims).toHaveLength(200);
    expect(new Set(fleet.sims.map((s) => s.port)).size).toBe(200);
    expect(count("Timeout")).toBeLessThanOrEqual(timersBefore);
    const uuids = new Set<string>();
    for (let i = 0; i < fleet.sims.length; i += 20) {
      const batch = fleet.sims.slice(i, i + 20);
      const replies = await Promise.all(
        batch.map(async (s) => {
          const c = await FrameClient.tcp(s.port);
          try {
            return decodeFwVersion(await c.request(Uint8Array.of(CommandId.FwVersion)));
          } finally {
            await c.close();
          }
        }),
      );
      replies.forEach((fw, k) => {
        expect(fw.uuid).toBe(batch[k]?.device.uuid);
        uuids.add(fw.uuid);
      });
    }
    expect(uuids.size).toBe(200);
    // Seeds are base + i, so the fleet is reproducible.
    expect(fleet.sims[7]?.device.seed).toBe(1007);
  } finally {
    await fleet.close();
  }
  await waitFor(() => count("TCPServerWrap") + count("TCPSocketWrap") <= tcpBefore, {
    what: "all TCP handles released",
  });
});

test("a fleet on a taken base port fails cleanly and releases the ports it got", async () => {
  const first = await startSimulatorFleet(1, {});
  try {
    const before = count("TCPServerWrap");
    const port = first.sims[0]?.port ?? 0;
    await expect(startSimulatorFleet(3, { port: port - 1 })).rejects.toThrow();
    await waitFor(() => count("TCPServerWrap") <= before, { what: "partial fleet closed" });
  } finally {
    await first.close();
  }
});
