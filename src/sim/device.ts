/**
 * SimDevice: one simulated VESC Express (fw 6.05, "VESC Express T") with its BMS and the
 * motor controllers on its CAN bus. It turns request payloads into reply payloads through
 * the shared protocol codecs (behaviours first, then firmware-like defaults) and serves any
 * number of Duplex streams. State is computed from the clock on demand: no timers.
 */
import type { Duplex } from "node:stream";
import type { BmsValues, MotorValues } from "../model/reading.js";
import {
  decodeBmsValues,
  decodeFwVersion,
  decodeValues,
  type ExpressMainConfig,
  type FwVersion,
  isProtocolError,
} from "../protocol/index.js";
import {
  answerLikeFirmware,
  type BehaviorResult,
  type ConnectionInfo,
  type RequestContext,
  requestName,
  type SimBehavior,
} from "./behaviors.js";
import { type ServeOptions, SimConnection } from "./connection.js";
import { type FaultCounters, type FaultSettings, type PlannedReply, planReply } from "./faults.js";
import { bldcFwVersionReply, bldcValuesReply, bldcValuesSelectiveReply } from "./firmware/bldc.js";
import type { BmsRecord } from "./firmware/bmsRecord.js";
import { RideNodes } from "./firmware/bldcRide.js";
import { expressBmsReply, expressCustomConfigReply, expressFwVersionReply } from "./firmware/express.js";
import { type Firmware, fwNumber } from "./firmware/version.js";
import { vescBmsFwVersionReply, vescBmsReply } from "./firmware/vescBms.js";
import { BmsModel, type Scenario } from "./model/bms.js";
import { asReceivedOverCan } from "./model/canHop.js";
import { asCapturedExpress, CAPTURED_TEMP_SLOTS } from "./model/capturedExpress.js";
import { expressIdentity, macUuid, motorIdentity, stmUuid } from "./model/identity.js";
import { MotorModel } from "./model/motor.js";
import type { PackModel } from "./model/pack.js";
import { type BalancePackageSpec, DEFAULT_BALANCE_PACKAGE } from "./model/refloat.js";
import { Prng, randomSeed } from "./prng.js";
import { SIM_SECRETS } from "./secrets.js";

export interface SimDeviceOptions {
  /** 1..32 series cells (default 20). */
  cells?: number;
  /** CAN ids of motor controllers (default none). */
  canIds?: number[];
  /** Hardware name per CAN id (default "ADV500"). */
  canHardware?: string[];
  scenario?: Scenario;
  seed?: number;
  /** ms; default Date.now. */
  clock?: () => number;
  /**
   * Firmware of the Express and its motor controllers (default 6.05); each reply has that
   * version's layout (docs/simulator.md). A VESC BMS on CAN runs its own 6.00.
   */
  firmware?: Firmware;
  /**
   * "model" (default): the simulated pack, every field meaningful. "express-6.05": the BMS
   * values the way a captured real Express 6.05 reports them (i_in 0, SOC/SOH/totals 0, 24
   * temperature slots with one stuck at 99.00 °C, no CAN BMS); see model/capturedExpress.ts.
   */
  profile?: SimProfile;
  /**
   * BMS reply payloads answered in order, looping (replay mode): each COMM_BMS_GET_VALUES
   * gets the next one. Everything else is simulated, with the express-6.05 profile's defaults.
   */
  replay?: readonly Uint8Array[];
  /** 24 hex chars; default 6-byte MAC from the seed + 6 zero bytes. */
  uuid?: string;
  /** NTC sensors with readings (default 4). */
  tempSensors?: number;
  /** Temperature slots reported, at least the sensors present (a captured Express reports 24). */
  tempSlots?: number;
  /** CAN id of the BMS (default 10; 255 = BMS not on CAN, like a Lisp-fed BMS). */
  bmsCanId?: number;
  /** Pack capacity (default 12 Ah). */
  capacityAh?: number;
  /** Initial state of charge 0..1. */
  startSoc?: number;
  /**
   * A ground-truth pack (model/pack.ts, created with this clock's `now`) instead of the
   * built-in BMS model: the BMS reports its state (the express-6.05 profile as the real
   * device would) and tests read the truth from it.
   */
  pack?: PackModel;
  faults?: FaultSettings;
  /** The balance package on every motor controller (default Refloat 1.2.3); null = none. */
  balancePackage?: BalancePackageSpec | null;
}

export interface SimStats {
  /** Connections served since start. */
  connections: number;
  /** Requests by command name; forwarded ones also as "COMM_GET_VALUES@84". */
  requests: Record<string, number>;
  replies: number;
  /** Requests whose payload did not decode (no reply, like firmware). */
  malformed: number;
  /** Bytes the device's decoders threw away (garbage from the client side). */
  discardedBytes: number;
  loginFailures: number;
  resets: number;
  faults: FaultCounters;
}

export interface HandledRequest {
  readonly replies: PlannedReply[];
  readonly raw?: Uint8Array;
  readonly close?: boolean;
}

export type SimProfile = "model" | "express-6.05";
export const SIM_PROFILES: readonly SimProfile[] = ["model", "express-6.05"];

export const DEFAULT_CAN_HARDWARE = "ADV500";
const BMS_HARDWARE = "VESC BMS";
const DEFAULT_FIRMWARE: Firmware = { major: 6, minor: 5 };

export class SimDevice {
  readonly seed: number;
  readonly clock: () => number;
  readonly firmware: Firmware;
  readonly profile: SimProfile;
  readonly uuid: string;
  readonly bmsCanId: number;
  faults: FaultSettings;
  readonly faultRng: Prng;
  readonly stats: SimStats = {
    connections: 0,
    requests: {},
    replies: 0,
    malformed: 0,
    discardedBytes: 0,
    loginFailures: 0,
    resets: 0,
    faults: { dropped: 0, corrupted: 0, garbage: 0, resets: 0 },
  };
  private readonly bms: BmsModel;
  readonly pack: PackModel | undefined;
  private readonly motors = new Map<number, MotorModel>();
  private readonly rideNodes: RideNodes;
  private behaviors: SimBehavior[] = [];
  private readonly replay: readonly Uint8Array[] | undefined;
  private replayNext = 0;
  private readonly open = new Set<SimConnection>();
  private nextConnectionId = 1;

  constructor(options: SimDeviceOptions = {}) {
    this.seed = (options.seed ?? randomSeed()) >>> 0;
    this.clock = options.clock ?? Date.now;
    this.replay = options.replay && options.replay.length > 0 ? options.replay : undefined;
    this.profile = options.profile ?? (this.replay ? "express-6.05" : "model");
    const captured = this.profile === "express-6.05";
    this.firmware = options.firmware ?? DEFAULT_FIRMWARE;
    this.uuid = options.uuid ?? macUuid(this.seed);
    // The captured Express's BMS is fed by a script: can id 255, no BMS node on CAN.
    this.bmsCanId = options.bmsCanId ?? (captured ? 255 : 10);
    this.faults = { ...(options.faults ?? {}) };
    this.pack = options.pack;
    this.faultRng = new Prng(this.seed ^ 0xfa017);
    const now = this.clock();
    // The captured pack is full and on its charger (84 V charge voltage, no charge current).
    const scenario = options.scenario ?? "charging";
    const startSoc = options.startSoc ?? (captured ? 1 : undefined);
    const tempSensors = options.tempSensors ?? (captured ? 3 : undefined);
    const tempSlots = options.tempSlots ?? (captured ? CAPTURED_TEMP_SLOTS : undefined);
    this.bms = new BmsModel({
      seed: this.seed,
      cells: checkCells(options.cells ?? 20),
      scenario,
      now,
      canId: this.bmsCanId,
      ...(tempSensors === undefined ? {} : { tempSensors }),
      ...(tempSlots === undefined ? {} : { tempSlots }),
      ...(options.capacityAh === undefined ? {} : { capacityAh: options.capacityAh }),
      ...(startSoc === undefined ? {} : { startSoc }),
    });
    this.rideNodes = new RideNodes(
      this.seed,
      options.balancePackage === undefined ? DEFAULT_BALANCE_PACKAGE : options.balancePackage,
    );
    (options.canIds ?? []).forEach((canId, i) => {
      const hardware = options.canHardware?.[i] ?? DEFAULT_CAN_HARDWARE;
      const motor = new MotorModel({ canId, hardware, seed: this.seed, now });
      motor.setScenario(scenario, now);
      this.motors.set(canId, motor);
    });
  }

  get cells(): number {
    return this.pack?.cellCount ?? this.bms.cells;
  }

  /** Motor controller CAN ids, ascending. */
  get canIds(): number[] {
    return [...this.motors.keys()].sort((a, b) => a - b);
  }

  /** Connections open right now. */
  get connections(): number {
    return this.open.size;
  }

  hasMotor(canId: number): boolean {
    return this.motors.has(canId);
  }

  /** What COMM_PING_CAN lists: every node that pongs, i.e. the motor controllers and a CAN BMS. */
  canNodeIds(): number[] {
    const ids = new Set(this.motors.keys());
    if (this.bmsCanId !== 255) ids.add(this.bmsCanId);
    return [...ids].sort((a, b) => a - b);
  }

  /** The firmware the replies are laid out for: the oldFirmware fault stands for one older than any Express. */
  private get layoutFirmware(): Firmware {
    return this.faults.oldFirmware ? OLDEST_FIRMWARE : this.firmware;
  }

  /**
   * The Express's BMS cache now (bms_values), as its firmware version and the profile
   * have it: data version 1 temperature slots from 6.06 on, unless the profile's script-fed
   * BMS (which sets no data version) is simulated. A BMS on CAN reaches the cache through
   * its CAN frames, quantised on the way; a script-fed one (can id 255) sets floats.
   */
  bmsState(): BmsRecord {
    const now = this.clock();
    if (this.pack) return this.pack.record(now, this.profile === "express-6.05" ? "express-6.05" : "model");
    if (this.profile === "express-6.05")
      return asCapturedExpress(this.bms.record(now, 0), this.seed, this.bms.ticks);
    const own = this.bmsOwnState();
    return this.bmsCanId === 255 ? own : asReceivedOverCan(own);
  }

  /** The BMS's own state, before any CAN frame: what it answers itself when asked over CAN. */
  bmsOwnState(): BmsRecord {
    if (this.pack) return this.pack.record(this.clock(), "model");
    return this.bms.record(this.clock(), fwNumber(this.firmware) >= 606 ? 1 : 0);
  }

  /** The payload the next COMM_BMS_GET_VALUES gets (reading it changes nothing). */
  bmsReply(): Uint8Array {
    if (this.replay) return this.replay[this.replayNext % this.replay.length] as Uint8Array;
    return expressBmsReply(this.bmsState(), this.layoutFirmware);
  }

  /** Answers one COMM_BMS_GET_VALUES: in replay mode it moves on to the next recorded reply. */
  takeBmsReply(): Uint8Array {
    const reply = this.bmsReply();
    if (this.replay) this.replayNext = (this.replayNext + 1) % this.replay.length;
    return reply;
  }

  /** What a COMM_BMS_GET_VALUES returns now, as the project's decoder reads the firmware's bytes. */
  bmsValues(): BmsValues {
    return decodeBmsValues(this.bmsReply());
  }

  /** The reply of the VESC BMS itself to a BMS request forwarded to its CAN id (vesc_bms_fw). */
  canBmsReply(): Uint8Array {
    return vescBmsReply({ ...this.bmsOwnState(), canId: this.bmsCanId });
  }

  /** A motor controller's GET_VALUES reply in its firmware's layout. */
  motorReply(canId: number): Uint8Array {
    return bldcValuesReply(
      this.motorModel(canId).values(this.clock(), this.packVoltage()),
      this.layoutFirmware,
    );
  }

  /** Its GET_VALUES_SELECTIVE reply: the mask echoed, the known fields; undefined = none (pre-3.48). */
  motorSelectiveReply(canId: number, mask: number): Uint8Array | undefined {
    const values = this.motorModel(canId).values(this.clock(), this.packVoltage());
    return bldcValuesSelectiveReply(values, mask, this.layoutFirmware);
  }

  /**
   * A motor controller's reply to a ride telemetry request (GET_VALUES_SETUP, GET_STATS,
   * GET_IMU_DATA, GET_BATTERY_CUT, its balance package's data) in its firmware's layout;
   * undefined = no reply (a command newer than the firmware, or unknown).
   */
  motorRideReply(canId: number, inner: Uint8Array): Uint8Array | undefined {
    const motor = this.motorModel(canId);
    const now = this.clock();
    const bms = this.bmsOwnState();
    return this.rideNodes.reply(canId, inner, {
      now,
      values: motor.values(now, this.packVoltage()),
      cells: this.cells,
      capacityAh: this.bms.capacityAh,
      scenario: motor.currentScenario,
      firmware: this.layoutFirmware,
      charger: { voltage: bms.vCharge, current: bms.vCharge > 0 ? Math.max(0, bms.iIn) : 0 },
    });
  }

  /** A motor controller's GET_VALUES now, as the project's decoder reads it. */
  motorValues(canId: number): MotorValues {
    return decodeValues(this.motorReply(canId));
  }

  /** The Express's own FW_VERSION reply, or a CAN node's when canId is given. */
  fwVersionReply(canId?: number): Uint8Array {
    const layout = this.layoutFirmware;
    if (canId === undefined) {
      return expressFwVersionReply(expressIdentity(this.seed, this.uuid), this.firmware, fwNumber(layout));
    }
    const motor = this.motors.get(canId);
    if (motor) {
      const id = motorIdentity(this.seed, canId, motor.hardware);
      return bldcFwVersionReply(id, this.firmware, fwNumber(layout));
    }
    if (this.hasCanBms(canId)) return vescBmsFwVersionReply(BMS_HARDWARE, stmUuid(this.seed, canId));
    throw new RangeError(`no simulated CAN node with id ${canId}`);
  }

  /** The Express's own FW_VERSION, or a CAN node's when canId is given, as decoded. */
  fwVersion(canId?: number): FwVersion {
    return decodeFwVersion(this.fwVersionReply(canId));
  }

  /** The COMM_GET_CUSTOM_CONFIG reply for config 0 in this firmware's layout and signature. */
  customConfigReply(index = 0): Uint8Array {
    return expressCustomConfigReply(this.customConfig(), this.firmware, index);
  }

  /** Whether a VESC BMS answers on this CAN id (not when the BMS is fed by a script, id 255). */
  hasCanBms(canId: number): boolean {
    return canId === this.bmsCanId && this.bmsCanId !== 255;
  }

  private motorModel(canId: number): MotorModel {
    const motor = this.motors.get(canId);
    if (!motor) throw new RangeError(`no simulated motor controller on CAN id ${canId}`);
    return motor;
  }

  private packVoltage(): number {
    return this.bms.record(this.clock(), 0).vTot;
  }

  /** The stored main_config_t; its secrets are the recognisable SIM_SECRETS. */
  customConfig(): ExpressMainConfig {
    return {
      controllerId: 2,
      canBaudRate: 2, // CAN_BAUD_500K
      canStatusRateHz: 20,
      wifiMode: 1, // station
      wifiStaSsid: "sim-garage-wifi",
      wifiStaKey: SIM_SECRETS.wifiPassword,
      wifiApSsid: "VESC WiFi",
      wifiApKey: SIM_SECRETS.apPassword,
      useTcpLocal: true,
      useTcpHub: true,
      tcpHubUrl: "veschub.vedder.se",
      tcpHubPort: 65101,
      tcpHubId: `sim-${this.uuid.slice(0, 12)}`,
      tcpHubPass: SIM_SECRETS.hubPassword,
      bleMode: 1,
      bleName: "Express",
      blePin: SIM_SECRETS.blePin,
      bleServiceCapacity: 0,
      bleChrDescrCapacity: 0,
    };
  }

  setCellCount(n: number): void {
    this.bms.setCellCount(checkCells(n), this.clock());
  }

  setScenario(s: Scenario): void {
    const now = this.clock();
    this.bms.setScenario(s, now);
    for (const m of this.motors.values()) m.setScenario(s, now);
  }

  /** Adds a behaviour; the newest is asked first. Returns a function that removes it. */
  defineBehavior(b: SimBehavior): () => void {
    this.behaviors = [b, ...this.behaviors];
    return () => {
      this.behaviors = this.behaviors.filter((x) => x !== b);
    };
  }

  /** Serves one connection with its own decoder until it closes. */
  serve(stream: Duplex, options: ServeOptions = {}): SimConnection {
    const conn = new SimConnection(this, stream, this.nextConnectionId++, {
      ...options,
      onClose: () => {
        this.open.delete(conn);
        options.onClose?.();
      },
    });
    this.open.add(conn);
    this.stats.connections++;
    conn.start();
    return conn;
  }

  /** Resets every open connection (a reboot or WiFi drop). */
  dropConnections(): void {
    for (const c of [...this.open]) c.reset();
  }

  /** Turns one request payload into what goes on the wire, faults applied. */
  handleRequest(payload: Uint8Array, connection: ConnectionInfo): HandledRequest {
    const name = requestName(payload);
    const outer = payload[0] ?? -1;
    this.count(name);
    if (name.includes("@")) this.count("COMM_FORWARD_CAN");
    let result: BehaviorResult | undefined;
    let payloads: Uint8Array[];
    try {
      result = this.askBehaviors(payload, connection, outer, name);
      payloads = result ? toList(result.reply) : answerLikeFirmware(this, payload);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.stats.malformed++;
      return { replies: [] };
    }
    const replies: PlannedReply[] = [];
    if (!this.faults.stall) {
      for (const p of payloads) {
        const planned = planReply(p, this.faults, this.faultRng, this.stats.faults);
        if (planned) replies.push(planned);
      }
    }
    this.stats.replies += replies.length;
    return {
      replies,
      ...(result?.raw && !this.faults.stall ? { raw: result.raw } : {}),
      ...(result?.close ? { close: true } : {}),
    };
  }

  private askBehaviors(
    payload: Uint8Array,
    connection: ConnectionInfo,
    command: number,
    name: string,
  ): BehaviorResult | undefined {
    if (this.behaviors.length === 0) return undefined;
    const forward =
      command === 34 && payload.length >= 3 ? { canId: payload[1] ?? 0, inner: payload.slice(2) } : undefined;
    const ctx: RequestContext = {
      device: this,
      connection,
      now: this.clock(),
      command,
      commandName: forward ? "COMM_FORWARD_CAN" : name,
      ...(forward ? { forward } : {}),
      defaultReply: () => answerLikeFirmware(this, payload),
    };
    for (const b of this.behaviors) {
      const r = b.onRequest(payload, ctx);
      if (r.handled) return r;
    }
    return undefined;
  }

  private count(name: string): void {
    this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
  }
}

/** What the oldFirmware fault lays replies out as: FW_VERSION ends after the UUID, GET_VALUES after the fault code, the BMS reply after SOH. */
const OLDEST_FIRMWARE: Firmware = { major: 3, minor: 0 };

function toList(reply: BehaviorResult["reply"]): Uint8Array[] {
  if (!reply) return [];
  return Array.isArray(reply) ? reply : [reply];
}

function checkCells(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new RangeError(`cells must be 1..32, got ${n}`);
  return n;
}
