/**
 * SimDevice: one simulated VESC Express (fw 6.05, "VESC Express T") with its BMS and the
 * motor controllers on its CAN bus. It turns request payloads into reply payloads through
 * the shared protocol codecs (behaviours first, then firmware-like defaults) and serves any
 * number of Duplex streams. State is computed from the clock on demand: no timers.
 */
import type { Duplex } from "node:stream";
import type { BmsValues, MotorValues } from "../model/reading.js";
import { type ExpressMainConfig, type FwVersion, isProtocolError } from "../protocol/index.js";
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
import { BmsModel, type Scenario } from "./model/bms.js";
import { MotorModel } from "./model/motor.js";
import { canNodeFwVersion, expressFwVersion, fwNumber, macUuid, trimFwVersion } from "./model/identity.js";
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
  /** Default 6.05. Older versions answer with the shorter layouts of protocol.md §3/§5. */
  firmware?: { major: number; minor: number };
  /** 24 hex chars; default 6-byte MAC from the seed + 6 zero bytes. */
  uuid?: string;
  /** NTC sensors with readings (default 4). */
  tempSensors?: number;
  /** Sensor slots reported, absent ones at 0 °C (the recorded Express reports 24; default tempSensors). */
  tempSlots?: number;
  /** CAN id of the BMS (default 10; 255 = BMS not on CAN, like a Lisp-fed BMS). */
  bmsCanId?: number;
  /** Pack capacity (default 12 Ah). */
  capacityAh?: number;
  /** Initial state of charge 0..1. */
  startSoc?: number;
  faults?: FaultSettings;
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

export const DEFAULT_CAN_HARDWARE = "ADV500";
const BMS_HARDWARE = "VESC BMS";
const DEFAULT_FIRMWARE = { major: 6, minor: 5 } as const;

export class SimDevice {
  readonly seed: number;
  readonly clock: () => number;
  readonly firmware: { readonly major: number; readonly minor: number };
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
  private readonly motors = new Map<number, MotorModel>();
  private behaviors: SimBehavior[] = [];
  private readonly open = new Set<SimConnection>();
  private nextConnectionId = 1;

  constructor(options: SimDeviceOptions = {}) {
    this.seed = (options.seed ?? randomSeed()) >>> 0;
    this.clock = options.clock ?? Date.now;
    this.firmware = options.firmware ?? DEFAULT_FIRMWARE;
    this.uuid = options.uuid ?? macUuid(this.seed);
    this.bmsCanId = options.bmsCanId ?? 10;
    this.faults = { ...(options.faults ?? {}) };
    this.faultRng = new Prng(this.seed ^ 0xfa017);
    const now = this.clock();
    const scenario = options.scenario ?? "charging";
    this.bms = new BmsModel({
      seed: this.seed,
      cells: checkCells(options.cells ?? 20),
      scenario,
      now,
      canId: this.bmsCanId,
      ...(options.tempSensors === undefined ? {} : { tempSensors: options.tempSensors }),
      ...(options.tempSlots === undefined ? {} : { tempSlots: options.tempSlots }),
      ...(options.capacityAh === undefined ? {} : { capacityAh: options.capacityAh }),
      ...(options.startSoc === undefined ? {} : { startSoc: options.startSoc }),
    });
    (options.canIds ?? []).forEach((canId, i) => {
      const hardware = options.canHardware?.[i] ?? DEFAULT_CAN_HARDWARE;
      const motor = new MotorModel({ canId, hardware, seed: this.seed, now });
      motor.setScenario(scenario, now);
      this.motors.set(canId, motor);
    });
  }

  get cells(): number {
    return this.bms.cells;
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

  /** What a COMM_BMS_GET_VALUES returns now, trimmed to the firmware's layout. */
  bmsValues(): BmsValues {
    const full = this.bms.values(this.clock());
    const { dataVersion, status, ...through65 } = full;
    if (this.faults.oldFirmware || fwNumber(this.firmware) < 600) {
      const {
        ampHoursChargedTotal,
        wattHoursChargedTotal,
        ampHoursDischargedTotal,
        wattHoursDischargedTotal,
        pressure,
        ...old
      } = through65;
      return old;
    }
    // The recorded 6.05 Express stops after pressure; data_version + status came later.
    return fwNumber(this.firmware) >= 700 ? full : through65;
  }

  /** Every BMS value including the status string, whatever the firmware would send. */
  bmsState(): BmsValues {
    return this.bms.values(this.clock());
  }

  motorValues(canId: number): MotorValues {
    const motor = this.motors.get(canId);
    if (!motor) throw new RangeError(`no simulated motor controller on CAN id ${canId}`);
    const now = this.clock();
    const values = motor.values(now, this.bms.values(now).packVoltage);
    if (!this.faults.oldFirmware) return values;
    // Pre-5.x bldc stops after the fault code (bit 15).
    const { pidPosition, controllerId, tempMos1, tempMos2, tempMos3, voltageD, voltageQ, status, ...old } =
      values;
    return old;
  }

  /** The Express's own FW_VERSION, or a CAN node's when canId is given. */
  fwVersion(canId?: number): FwVersion {
    const version = this.faults.oldFirmware ? 0 : fwNumber(this.firmware);
    if (canId === undefined)
      return trimFwVersion(expressFwVersion(this.seed, this.uuid, this.firmware), version);
    const motor = this.motors.get(canId);
    const isBms = motor === undefined && canId === this.bmsCanId && canId !== 255;
    if (!motor && !isBms) throw new RangeError(`no simulated CAN node with id ${canId}`);
    const node = canNodeFwVersion(
      this.seed,
      canId,
      motor ? motor.hardware : BMS_HARDWARE,
      motor ? 0 : 1,
      this.firmware,
    );
    return trimFwVersion(node, version);
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

function toList(reply: BehaviorResult["reply"]): Uint8Array[] {
  if (!reply) return [];
  return Array.isArray(reply) ? reply : [reply];
}

function checkCells(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new RangeError(`cells must be 1..32, got ${n}`);
  return n;
}
