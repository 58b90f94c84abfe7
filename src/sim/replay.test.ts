import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { CommandId, encodeFrame } from "../protocol/index.js";
import { SimDevice } from "./device.js";
import { loadReplayFile, parseReplayText, ReplayFileError } from "./replay.js";

const CAPTURE = fileURLToPath(
  new URL("../../test/fixtures/frames/bms-express-fw605-sequence.txt", import.meta.url),
);
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const BMS = Uint8Array.of(CommandId.BmsGetValues);
const conn = { id: 1, label: "test" };

describe("replay files", () => {
  test("the real capture: 139 BMS reply payloads of 166 bytes", () => {
    const payloads = loadReplayFile(CAPTURE);
    expect(payloads).toHaveLength(139);
    for (const p of payloads) {
      expect(p[0]).toBe(CommandId.BmsGetValues);
      expect(p.length).toBe(166);
    }
  });

  test("comments, blank lines and a time column are skipped; spaces inside the hex are fine", () => {
    const frame = encodeFrame(Uint8Array.of(0x60, 1, 2, 3));
    const spaced = hexOf(frame).replace(/(..)/g, "$1 ");
    const text = `# a comment\n\n0.000 ${hexOf(frame)}\n${spaced}\n`;
    expect(parseReplayText(text).map(hexOf)).toEqual(["60010203", "60010203"]);
  });

  test.each([
    [
      "a bad CRC",
      (() => {
        const f = encodeFrame(Uint8Array.of(0x60, 1));
        f[f.length - 2] = (f[f.length - 2] ?? 0) ^ 1;
        return hexOf(f);
      })(),
      /line 1: not exactly one valid frame/,
    ],
    [
      "another command's reply",
      hexOf(encodeFrame(Uint8Array.of(0x00, 6, 5))),
      /line 1: not a COMM_BMS_GET_VALUES reply/,
    ],
    [
      "two frames on a line",
      hexOf(encodeFrame(Uint8Array.of(0x60))) + hexOf(encodeFrame(Uint8Array.of(0x60))),
      /not exactly one/,
    ],
    ["odd hex", "0.0 02016", /not a hex frame/],
  ])("rejects %s with the line number", (_name, line, message) => {
    expect(() => parseReplayText(`# header\n${line}`)).toThrow(ReplayFileError);
    expect(() => parseReplayText(line)).toThrow(message);
  });

  test("an empty or missing file is a ReplayFileError", () => {
    expect(() => parseReplayText("# nothing\n")).toThrow(/no frames/);
    const dir = mkdtempSync(join(tmpdir(), "replay-"));
    expect(() => loadReplayFile(join(dir, "missing.txt"))).toThrow(/cannot read .*missing\.txt \(ENOENT\)/);
    writeFileSync(join(dir, "empty.txt"), "");
    expect(() => loadReplayFile(join(dir, "empty.txt"))).toThrow(ReplayFileError);
  });
});

describe("a device in replay mode", () => {
  const payloads = loadReplayFile(CAPTURE);

  test("answers each BMS request with the next recorded reply, looping after the last", () => {
    const d = new SimDevice({ seed: 1, replay: payloads });
    const served: string[] = [];
    for (let i = 0; i < payloads.length + 2; i++) {
      const [reply] = d.handleRequest(BMS, conn).replies;
      expect(reply).toBeDefined();
      // a whole frame: payload between the 2-byte header and the CRC + end byte
      served.push(hexOf(reply?.bytes.subarray(2, -3) ?? new Uint8Array()));
    }
    expect(served.slice(0, payloads.length)).toEqual(payloads.map(hexOf));
    expect(served.slice(payloads.length)).toEqual([hexOf(payloads[0] ?? BMS), hexOf(payloads[1] ?? BMS)]);
  });

  test("reading bmsValues() does not move the replay on; everything else is an Express 6.05", () => {
    const d = new SimDevice({ seed: 1, replay: payloads, canIds: [84] });
    expect(d.bmsValues()).toEqual(d.bmsValues());
    expect(hexOf(d.bmsReply())).toBe(hexOf(payloads[0] ?? BMS));
    expect(d.profile).toBe("express-6.05");
    expect(d.fwVersion().firmware).toBe("6.05");
    expect(d.fwVersion().hardware).toBe("VESC Express T");
    expect(d.canNodeIds()).toEqual([84]); // the captured BMS is not on CAN
    expect(d.motorValues(84).controllerId).toBe(84);
  });
});
