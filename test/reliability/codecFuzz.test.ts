/**
 * Codec fuzz: every reply decoder fed truncated, extended, bit-flipped and random payloads
 * built from valid replies (including old-firmware cuts, more than 50 cells, data_version 1).
 * Each call must return a value or throw ProtocolError (never a TypeError/RangeError or other
 * exception), every number in a returned value must be finite (nothing that could publish
 * NaN/Infinity), and the input must not be modified. BMS values that decode must also reach
 * the reading model as plausible numbers or null, never as anything else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bmsFrameVariants } from "../../bench/bmsStream.js";
import { Rng } from "../../bench/prng.js";
import { toBmsReading } from "../../src/model/bmsReading.js";
import { BMS_LIMITS } from "../../src/model/plausibility.js";
import type { BmsReading, MotorValues } from "../../src/model/reading.js";
import {
  CommandId,
  decodeBalanceAllData,
  decodeBalanceInfo,
  decodeBatteryCut,
  decodeBmsValues,
  decodeCustomAppData,
  decodeImuData,
  decodeRefloatAlerts,
  decodeRefloatRealtime,
  decodeStats,
  decodeValuesSetup,
  decodeValuesSetupSelective,
  encodeBalanceAllDataResponse,
  encodeBalanceInfoResponse,
  encodeBatteryCutResponse,
  encodeImuDataResponse,
  encodeRefloatAlertsResponse,
  encodeRefloatRealtimeResponse,
  encodeStatsResponse,
  encodeValuesSetupResponse,
  encodeValuesSetupSelectiveResponse,
  decodeCustomConfigRedacted,
  decodeFwVersion,
  decodePingCan,
  decodeReply,
  decodeValues,
  decodeValuesSelective,
  encodeCustomConfigResponse,
  encodeFwVersionResponse,
  encodeValuesResponse,
  encodeValuesSelectiveResponse,
  isProtocolError,
  KNOWN_REPLY_IDS,
  pingCan,
  tryDecodeReply,
  unwrapForwardCan,
  SETUP_LAYOUT,
  VALUES_LAYOUT,
  wrapForwardCan,
} from "../../src/protocol/index.js";
import { fixtureFrame, hex } from "../helpers/hex.js";
import { allDataValues } from "../helpers/refloatAllData.js";
import { REFLOAT_INFO_V2 } from "../helpers/refloatInfo.js";

/** Firmware 5.02's reply to mask 0x003fffff: no status byte (added in 5.03). */
const SELECTIVE_502 = hex(`32 00 3f ff ff 00 fa 01 2c ${"00 ".repeat(16)} 00 00 00 00 00 00 03 48
  ${"00 ".repeat(16)} 00 00 00 00 00 00 00 00 00 00 00 00 00 54 00 fa 00 fa 00 fa ${"00 ".repeat(8)}`);
/** 51 cells, no sensors, mandatory part only (the Express does not clamp counts). */
const BMS_51_CELLS = hex(
  `60 ${"00 ".repeat(24)} 33 ${"0e 74 ".repeat(51)} ${"00 ".repeat(51)} 00 ${"00 ".repeat(8)}`,
);
/** data_version 1 with the MOSFET slot "not applicable" (−281 °C). */
const BMS_V1 = hex(`60 02 fa f0 80 ${"00 ".repeat(20)}
  01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a
  ${"00 ".repeat(16)} 00 00 01 4f 4b 00`);

const SEED = 0xc0dec;
const RANDOM_PER_DECODER = 20_000;

/** Path of the first non-finite number inside `v`, if any. */
function nonFinite(v: unknown, path = "value", depth = 0): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : `${path} = ${v}`;
  if (typeof v !== "object" || v === null || depth > 8 || ArrayBuffer.isView(v)) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const bad = nonFinite(x, `${path}.${k}`, depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

interface Outcome {
  values: number;
  protocolErrors: number;
  failures: string[];
}

const hexOf = (b: Uint8Array) =>
  Array.from(b.subarray(0, 48), (x) => x.toString(16).padStart(2, "0")).join("");

function run(name: string, decode: (p: Uint8Array) => unknown, payload: Uint8Array, o: Outcome): void {
  const before = payload.slice();
  try {
    const bad = nonFinite(decode(payload));
    if (bad) o.failures.push(`${name}(${hexOf(payload)}): ${bad}`);
    o.values++;
  } catch (e) {
    if (isProtocolError(e) && typeof e.code === "string") o.protocolErrors++;
    else
      o.failures.push(
        `${name}(${hexOf(payload)}) threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      );
  }
  if (!before.every((b, i) => b === payload[i])) o.failures.push(`${name} modified its input`);
}

function motorValues(rng: Rng): MotorValues {
  const out: Record<string, number> = {};
  for (const entry of VALUES_LAYOUT) {
    for (const f of entry.fields) {
      const k = entry.kind;
      if (k.type === "u8") out[f] = rng.int(256);
      else if (k.type === "i32") out[f] = rng.u32() | 0;
      else if (k.type === "f16") out[f] = ((rng.u32() << 16) >> 16) / k.scale;
      else if (k.type === "f32") out[f] = (rng.u32() | 0) / k.scale;
    }
  }
  return out;
}

/** Ride telemetry replies at each firmware cut (bldc 3.48 / 5.02 / 5.03, Refloat INFO v1/v2, ALLDATA modes, REALTIME_DATA). */
function rideSamples(rng: Rng) {
  const setupValues: Record<string, number> = {};
  for (const l of SETUP_LAYOUT) {
    const k = l.kind;
    if (k.type === "u8") setupValues[l.field] = rng.int(256);
    else if (k.type === "u32") setupValues[l.field] = rng.u32();
    else if (k.type === "f16") setupValues[l.field] = ((rng.u32() << 16) >> 16) / k.scale;
    else if (k.type === "f32") setupValues[l.field] = (rng.u32() | 0) / k.scale;
  }
  const { uptimeMs: _u, ...v502 } = setupValues;
  const { odometerM: _o, ...v348 } = v502;
  // 222 on the wire: no FOC d-current.
  const { focId: _f, ...noFocId } = allDataValues(1);
  const realtime = (controlFlags: number, mask1: number, mask2: number) =>
    encodeRefloatRealtimeResponse({
      controlFlags,
      mask1,
      mask2,
      time: rng.u32(),
      values: { speedKmh: 20, gnssLat: 1.5 },
    });
  return {
    setup: [v348, v502, setupValues].map(encodeValuesSetupResponse),
    setupSelective: [0x1f61c0, 0x3fffff, 0x1].map((mask) =>
      encodeValuesSetupSelectiveResponse({ mask, values: setupValues }),
    ),
    stats: [0x7ff, 0x402].map((mask) =>
      encodeStatsResponse({ mask, stats: { speedMaxMps: 12.5, elapsedS: 3600 } }),
    ),
    imu: [
      encodeImuDataResponse({ mask: 0xffff, imu: { roll: 0.1 } }),
      encodeImuDataResponse({ mask: 7, imu: { roll: 0.1, controllerId: 84 } }),
    ],
    batteryCut: [encodeBatteryCutResponse({ startV: 62, endV: 60 })],
    info: [
      encodeBalanceInfoResponse({ infoVersion: 1, majorMinor: 20, build: 1, ledType: 0 }),
      encodeBalanceInfoResponse(REFLOAT_INFO_V2),
    ],
    allData: [
      ...[1, 2, 3, 4].map((mode) => encodeBalanceAllDataResponse({ ...allDataValues(4), mode })),
      encodeBalanceAllDataResponse(noFocId),
      encodeBalanceAllDataResponse({ fault: 3, faultName: "FAULT_CODE_DRV" }),
    ],
    realtime: [realtime(0, 0xffffffff, 0xffffffff), realtime(1, 0x3a1042, 0xd), realtime(0, 0, 0x601)],
    alerts: [
      encodeRefloatAlertsResponse({ activeMask: 0, activeMask2: 0, fwFaultCode: 0, log: [] }),
      encodeRefloatAlertsResponse({
        activeMask: 1,
        activeMask2: 0,
        fwFaultCode: 3,
        fwFaultName: "DRV",
        log: [
          { time: 5, id: 1, active: true, code: 3, faultName: "DRV" },
          { time: 9, id: 1, active: false, code: 0 },
        ],
      }),
    ],
  };
}

/** Valid replies for each decoder, from the captured frames and our encoders. */
function samples(rng: Rng): Map<string, { decode: (p: Uint8Array) => unknown; valid: Uint8Array[] }> {
  const fwFrame = fixtureFrame("fwVersion-express-fw65.hex");
  const fwPayload = fwFrame.subarray(2, fwFrame.length - 3);
  const fw = decodeFwVersion(fwPayload);
  const bms = [...bmsFrameVariants(12, SEED).map((f) => f.subarray(2, f.length - 3)), BMS_51_CELLS, BMS_V1];
  const motors = [motorValues(rng), motorValues(rng), { tempFet: 30.5, fault: 3 }];
  const valuesReplies = motors.slice(0, 2).map(encodeValuesResponse);
  const selective = [
    ...[0x1, 0x8105, 0x3fffff, 0xffffffff & 0x3fffff].map((mask) =>
      encodeValuesSelectiveResponse({ mask, values: motors[0] as MotorValues }),
    ),
    SELECTIVE_502,
  ];
  const config = encodeCustomConfigResponse({
    controllerId: 3,
    canBaudRate: 4,
    canStatusRateHz: 50,
    wifiMode: 1,
    wifiStaSsid: "fuzz-ssid",
    wifiStaKey: "fuzz-wifi-password",
    wifiApSsid: "fuzz-ap",
    wifiApKey: "fuzz-ap-password",
    useTcpLocal: true,
    useTcpHub: true,
    tcpHubUrl: "veschub.vedder.se",
    tcpHubPort: 65101,
    tcpHubId: "fuzz-hub-id",
    tcpHubPass: "fuzz-hub-password",
    bleMode: 1,
    bleName: "fuzz-ble",
    blePin: 123456,
    bleServiceCapacity: 10,
    bleChrDescrCapacity: 30,
  });
  const pings = [pingCan.encodeResponse([]), pingCan.encodeResponse([1, 2, 10, 254])];
  const forwards = [
    wrapForwardCan(10, Uint8Array.of(CommandId.GetValues)),
    wrapForwardCan(255, bms[0] as Uint8Array),
  ];
  const ride = rideSamples(rng);
  return new Map([
    ["decodeValuesSetup", { decode: decodeValuesSetup, valid: ride.setup }],
    ["decodeValuesSetupSelective", { decode: decodeValuesSetupSelective, valid: ride.setupSelective }],
    ["decodeStats", { decode: decodeStats, valid: ride.stats }],
    ["decodeImuData", { decode: decodeImuData, valid: ride.imu }],
    ["decodeBatteryCut", { decode: decodeBatteryCut, valid: ride.batteryCut }],
    ["decodeBalanceInfo", { decode: decodeBalanceInfo, valid: ride.info }],
    ["decodeBalanceAllData", { decode: decodeBalanceAllData, valid: ride.allData }],
    ["decodeRefloatRealtime", { decode: decodeRefloatRealtime, valid: ride.realtime }],
    [
      "decodeCustomAppData",
      {
        decode: decodeCustomAppData,
        valid: [...ride.info, ...ride.allData, ...ride.realtime, ...ride.alerts],
      },
    ],
    ["decodeRefloatAlerts", { decode: decodeRefloatAlerts, valid: ride.alerts }],
    ["decodeFwVersion", { decode: decodeFwVersion, valid: [fwPayload, encodeFwVersionResponse(fw)] }],
    ["decodeValues", { decode: decodeValues, valid: valuesReplies }],
    ["decodeValuesSelective", { decode: decodeValuesSelective, valid: selective }],
    ["decodeBmsValues", { decode: decodeBmsValues, valid: bms }],
    ["decodePingCan", { decode: decodePingCan, valid: pings }],
    ["unwrapForwardCan", { decode: unwrapForwardCan, valid: forwards }],
    ["decodeCustomConfigRedacted", { decode: decodeCustomConfigRedacted, valid: [config] }],
    [
      "decodeReply",
      {
        decode: decodeReply,
        valid: [
          fwPayload,
          ...valuesReplies,
          ...selective,
          ...bms,
          ...pings,
          config,
          ...Object.values(ride).flat(),
          Uint8Array.of(CommandId.Print, 104, 105),
        ],
      },
    ],
  ]);
}

/** Payloads derived from `valid`: truncations, extensions, bit flips, random rewrites. */
function* mutants(valid: readonly Uint8Array[], rng: Rng, randomCount: number): Generator<Uint8Array> {
  for (const v of valid) {
    for (let n = 0; n <= v.length; n++) yield v.subarray(0, n);
    for (let i = 0; i < 40; i++) {
      const ext = new Uint8Array(v.length + rng.range(1, 64));
      ext.set(v);
      ext.set(rng.bytes(ext.length - v.length), v.length);
      yield ext;
    }
    for (let bit = 0; bit < v.length * 8; bit++) {
      const f = v.slice();
      f[bit >> 3] = (f[bit >> 3] as number) ^ (1 << (bit & 7));
      yield f;
    }
  }
  for (let i = 0; i < randomCount; i++) {
    const base = rng.pick(valid);
    const r = rng.int(3);
    if (r === 0) {
      const p = rng.bytes(rng.int(300)); // random body behind the right id byte
      if (p.length > 0) p[0] = base[0] as number;
      yield p;
    } else if (r === 1) {
      const p = base.slice(); // several random bytes rewritten
      for (let k = rng.range(1, 8); k > 0 && p.length > 0; k--) p[rng.int(p.length)] = rng.int(256);
      yield p;
    } else {
      // a count field pushed to its extremes (cell/sensor counts, lengths)
      const p = base.slice(0, rng.int(base.length + 1));
      if (p.length > 1) p[rng.int(p.length - 1) + 1] = rng.pick([0, 1, 49, 50, 51, 127, 128, 254, 255]);
      yield p;
    }
  }
}

describe("codec fuzz: every reply decoder, malformed payloads", () => {
  const rng = new Rng(SEED);
  const all = samples(rng);

  for (const [name, { decode, valid }] of all) {
    it(`${name}: value or ProtocolError, finite numbers, input untouched`, () => {
      const o: Outcome = { values: 0, protocolErrors: 0, failures: [] };
      for (const v of valid) {
        run(name, decode, v, o);
        expect(o.failures, `${name} must decode its valid sample`).toEqual([]);
      }
      for (const p of mutants(valid, rng, RANDOM_PER_DECODER)) {
        run(name, decode, p, o);
        if (o.failures.length >= 5) break;
      }
      expect(o.failures).toEqual([]);
      // Both outcomes must actually occur, or the mutations are not reaching the decoder.
      expect(o.values).toBeGreaterThan(valid.length);
      expect(o.protocolErrors).toBeGreaterThan(0);
    });
  }

  it("BMS values that decode reach the reading model as plausible numbers or null", () => {
    const { valid } = all.get("decodeBmsValues") ?? { valid: [] };
    const problems: string[] = [];
    let readings = 0;
    let nulls = 0;
    const inside = (what: string, v: number | null | undefined, r: { min: number; max: number }) => {
      if (v === null) nulls++;
      else if (v !== undefined && !(Number.isFinite(v) && v >= r.min && v <= r.max))
        problems.push(`${what} = ${v}`);
    };
    for (const p of mutants(valid, rng, RANDOM_PER_DECODER)) {
      let bms: BmsReading;
      try {
        bms = toBmsReading(decodeBmsValues(p));
      } catch (e) {
        if (!isProtocolError(e)) problems.push(`threw ${String(e)}`);
        continue;
      }
      readings++;
      inside("packVoltage", bms.packVoltage, BMS_LIMITS.packVoltage);
      inside("packCurrent", bms.packCurrent, BMS_LIMITS.currentIc);
      for (const c of bms.cells) inside("cell", c, BMS_LIMITS.cell);
      for (const t of bms.temperatures) inside("temperature", t, BMS_LIMITS.temperature);
      inside("icTemperature", bms.icTemperature, BMS_LIMITS.temperature);
      inside("soc", bms.soc, BMS_LIMITS.soc);
      inside("pressure", bms.pressure, BMS_LIMITS.pressure);
      const bad = nonFinite(bms);
      if (bad) problems.push(bad);
      if (
        bms.stats &&
        !(bms.stats.cellMin >= BMS_LIMITS.cell.min && bms.stats.cellMax <= BMS_LIMITS.cell.max)
      )
        problems.push(`stats ${JSON.stringify(bms.stats)}`);
      if (problems.length >= 5) break;
    }
    expect(problems).toEqual([]);
    expect(readings).toBeGreaterThan(1000);
    // The mutations do produce implausible values, and they come out as null.
    expect(nulls).toBeGreaterThan(0);
  });

  it("decodeReply for every known id: random bodies give a value or ProtocolError", () => {
    const o: Outcome = { values: 0, protocolErrors: 0, failures: [] };
    for (const id of KNOWN_REPLY_IDS) {
      for (let i = 0; i < RANDOM_PER_DECODER && o.failures.length < 5; i++) {
        const p = rng.bytes(1 + rng.int(i % 10 === 0 ? 400 : 40));
        p[0] = id;
        run(`decodeReply[${id}]`, decodeReply, p, o);
      }
    }
    expect(o.failures).toEqual([]);
    expect(o.values).toBeGreaterThan(0);
    expect(o.protocolErrors).toBeGreaterThan(0);
  });

  it("decodeReply / tryDecodeReply on arbitrary bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (p) => {
        const tried = tryDecodeReply(p);
        if (tried.kind === "error") expect(isProtocolError(tried.error)).toBe(true);
        else expect(nonFinite(tried)).toBeUndefined();
        let threw: unknown;
        try {
          decodeReply(p);
        } catch (e) {
          threw = e;
        }
        expect(threw === undefined || isProtocolError(threw)).toBe(true);
        expect(tried.kind === "error").toBe(threw !== undefined);
      }),
      { numRuns: 3000 },
    );
  });
});
