/**
 * Retained availability topics: the device's (online while its link is up and readings are
 * fresh; a stale timer catches a poller that went quiet) and one per BMS (offline while its
 * data is frozen). Each is sent when it changes and again on every republish.
 */
import type { DeviceStatus, Reading } from "../model/reading.js";
import type { MqttOutbox } from "./outbox.js";
import { availabilityOf } from "./state.js";
import { bmsAvailabilityTopic, deviceAvailabilityTopic } from "./topics.js";

export type Availability = "online" | "offline";

export interface AvailabilityMemory {
  readonly desc: {
    readonly id: string;
    /** No reading for this long → offline, even if the poller says nothing. */
    readonly staleAfterMs: number;
  };
  status?: DeviceStatus;
  /** What the availability topic says now (undefined before the first publish). */
  availability?: Availability;
  /** Date.now() of the newest reading (0 = none yet). */
  lastReadingAt: number;
  /** BMS availability topic → what it says (own BMS and CAN BMS nodes). */
  readonly bmsAvailability: Map<string, Availability>;
}

/** How often the stale check runs. */
const STALE_CHECK_MS = 1000;

export class AvailabilityPublisher {
  #staleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: MqttOutbox,
    private readonly baseTopic: string,
  ) {}

  /** Re-checks every device once a second (a reading that does not come changes nothing else); `guard` wraps the timer's callback. */
  startStaleChecks(
    devices: () => Iterable<AvailabilityMemory>,
    guard: (check: () => void) => () => void = (check) => check,
  ): void {
    this.#staleTimer = setInterval(
      guard(() => {
        for (const mem of devices()) this.publish(mem, false);
      }),
      STALE_CHECK_MS,
    );
  }

  stopStaleChecks(): void {
    clearInterval(this.#staleTimer);
  }

  /** Sends the device's availability if it changed (always, `force`) and the broker is there to take it. */
  publish(mem: AvailabilityMemory, force: boolean): Promise<boolean> | undefined {
    const fresh = Date.now() - mem.lastReadingAt <= mem.desc.staleAfterMs;
    const a: Availability =
      availabilityOf(mem.status) === "online" && (fresh || mem.lastReadingAt === 0) ? "online" : "offline";
    if (!force && a === mem.availability) return undefined;
    if (!this.out.connected) return undefined;
    mem.availability = a;
    return this.out.send(deviceAvailabilityTopic(this.baseTopic, mem.desc.id), a);
  }

  /** The reading's BMS (own, then CAN nodes): offline while its data is frozen. */
  publishBms(mem: AvailabilityMemory, r: Reading): void {
    if (r.bms) this.#bms(mem, bmsAvailabilityTopic(this.baseTopic, r.deviceId), r.bms.stale === true);
    if (r.can) {
      for (const node of Object.values(r.can))
        if (node.bms)
          this.#bms(
            mem,
            bmsAvailabilityTopic(this.baseTopic, r.deviceId, node.canId),
            node.bms.stale === true,
          );
    }
  }

  /** Every BMS topic again; adds the acks to `acks`. */
  republishBms(mem: AvailabilityMemory, acks: Promise<unknown>[]): void {
    for (const [topic, value] of mem.bmsAvailability) {
      const ack = this.out.send(topic, value);
      if (ack) acks.push(ack);
    }
  }

  /** Sent when it changes; one dropped while disconnected goes out with the republish on connect. */
  #bms(mem: AvailabilityMemory, topic: string, stale: boolean): void {
    const want: Availability = stale ? "offline" : "online";
    if (mem.bmsAvailability.get(topic) === want) return;
    mem.bmsAvailability.set(topic, want);
    this.out.send(topic, want);
  }
}
