/**
 * The MQTT / Home Assistant sink: bus readings and statuses → retained state documents,
 * device availability, link diagnostics and HA discovery. Discovery is re-published on
 * every broker (re)connect, when the entity set changes, and when HA's birth message
 * (`<prefix>/status` = online) arrives. The mapping itself is pure (mqtt/homeassistant);
 * this class only keeps per-device memory and publishes.
 */
import { createHash } from "node:crypto";
import type { Alert, Bus, Sink } from "../model/bus.js";
import type { DeviceStatus, Reading } from "../model/reading.js";
import {
  type DevicePresence,
  type DeviceDescription,
  EMPTY_PRESENCE,
  haDevices,
  presenceKey,
  updatePresence,
} from "./homeassistant/devices.js";
import {
  type DiscoveryMessage,
  type DiscoveryOptions,
  type Origin,
  type PublishedComponents,
  discoveryMessages,
  haObjectId,
  removalMessages,
} from "./homeassistant/discovery.js";
import { alertsDoc, alertsTopic } from "./homeassistant/alerts.js";
import { planCleanup, type RetainedConfig, scanTopics } from "./homeassistant/cleanup.js";
import { type ConnectFn, Publisher, type PublisherStats } from "./publisher.js";
import type { Platform } from "./homeassistant/entities.js";
import { type StateDoc, availabilityOf, canStateDocs, connectionDoc, deviceStateDoc } from "./state.js";
import {
  bmsAvailabilityTopic,
  bridgeStateTopic,
  canStateTopic,
  deviceAvailabilityTopic,
  deviceConnectionTopic,
  deviceStateTopic,
  haStatusTopic,
} from "./topics.js";
import { type Log, silentLog } from "../model/log.js";
import { StateSlot } from "./stateSlot.js";

export interface HaSinkMqtt {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly baseTopic: string;
  readonly discoveryPrefix: string;
  readonly discoveryMode: "device" | "entity";
  readonly discovery: boolean;
  readonly publishOnChange: boolean;
  readonly heartbeatS: number;
}

export interface HaSinkDevice extends DeviceDescription {
  /** No reading for this long → availability offline, even if the poller says nothing. */
  readonly staleAfterMs: number;
}

export interface HaSinkOptions {
  readonly bus: Bus;
  readonly mqtt: HaSinkMqtt;
  readonly devices: readonly HaSinkDevice[];
  readonly origin: Origin;
  /** Delay before re-publishing after HA's birth message; default random 1–3 s so bridges do not stampede. */
  readonly birthDelayMs?: () => number;
  readonly reconnectPeriodMs?: number;
  /** How long to collect retained discovery configs at the first connect (default 2000; 0 = skip the cleanup). */
  readonly retainedScanMs?: number;
  readonly log?: Log;
  readonly connect?: ConnectFn;
}

interface DeviceMemory {
  readonly desc: HaSinkDevice;
  presence: DevicePresence;
  /** objectId → components last published (packed: see PackedComponents). */
  published: Map<string, PackedComponents>;
  /** Digest of the discovery input last published, to skip identical re-publishes (the input itself is ~20 KB a device). */
  shapeKey: string;
  /** presenceKey() of the presence last turned into discovery: most readings change nothing. */
  presenceKey: string;
  /** The presence object behind presenceKey (updatePresence returns the same object when nothing changed). */
  keyedPresence: DevicePresence | undefined;
  /** A republish of everything is under way and has not reached this device yet. */
  republishPending: boolean;
  status?: DeviceStatus;
  availability?: "online" | "offline";
  lastReadingAt: number;
  /** topic → its newest state payload and when one was last sent. */
  states: Map<string, StateSlot>;
  /** Active alerts by rule (from the bus, emitted by the alerts sink). */
  alerts: Map<string, Alert>;
  /** The alerts document is due on every (re)connect: set by the first reading or alert. */
  alertsKnown: boolean;
  /** A shape (shapeKey) that differs from the published one, and for how many readings in a row it held. */
  candidateShape: string;
  candidateReadings: number;
  /** When the link last changed (ms), for "online again after 12.3 s" lines. */
  linkSince: number;
  /** BMS availability topic → what it should say (own BMS and CAN BMS nodes; frozen data → offline). */
  bmsAvailability: Map<string, "online" | "offline">;
}

/**
 * PublishedComponents as one flat [key, platform, key, platform, …] array. A Map per HA device
 * was ~3.5 KB of hash table kept for the life of the process, per device of a fleet; it is
 * only needed when discovery goes out again, and unpacked then.
 */
type PackedComponents = readonly string[];

function pack(components: PublishedComponents): PackedComponents {
  const out: string[] = [];
  for (const [key, platform] of components) out.push(key, platform);
  return out;
}

function unpack(packed: PackedComponents): PublishedComponents {
  const out = new Map<string, Platform>();
  for (let i = 0; i + 1 < packed.length; i += 2) out.set(packed[i] as string, packed[i + 1] as Platform);
  return out;
}

/** What #publishDiscovery returns when nothing went out: most readings, so not a new array each. */
const NO_ACKS: readonly Promise<unknown>[] = [];

/** Devices whose discovery goes out between two waits for the broker in a republish. */
const REPUBLISH_SLICE = 20;
/**
 * A changed entity set is published once it held for this many readings in a row: a BMS whose
 * cell count flaps (1 ↔ 50) would otherwise send its whole discovery (~27 KB) every poll.
 */
export const DISCOVERY_SETTLE_READINGS = 3;
/** How long stop() waits for QoS 1 acknowledgements before disconnecting anyway. */
const STOP_FLUSH_TIMEOUT_MS = 5000;

export class HaSink implements Sink {
  readonly name = "mqtt";
  readonly #mem = new Map<string, DeviceMemory>();
  #publisher: Publisher | undefined;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #staleTimer: ReturnType<typeof setInterval> | undefined;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #log: Log;
  /** Bumped by every republish of everything: an older one still running stops. */
  #republishRun = 0;
  /** Until the first retained scan is done, discovery waits (it needs to know what is out there). */
  #scan: "pending" | "running" | "done" = "pending";
  readonly #retained: RetainedConfig[] = [];

  readonly #onReading = (r: Reading) => this.#reading(r);
  readonly #onStatus = (s: DeviceStatus) => this.#status(s);
  readonly #onRemoved = (id: string) => this.#removed(id);
  readonly #onAlert = (a: Alert) => this.#alert(a);

  constructor(readonly options: HaSinkOptions) {
    this.#log = options.log ?? silentLog;
  }

  get stats(): PublisherStats | undefined {
    return this.#publisher?.stats;
  }

  get connected(): boolean {
    return this.#publisher?.connected ?? false;
  }

  /** Devices whose discovery has yet to go out in the current republish (all of them before the first). */
  get discoveryBacklog(): number {
    if (!this.options.mqtt.discovery) return 0;
    if (this.#scan !== "done") return this.#mem.size;
    let n = 0;
    for (const mem of this.#mem.values()) if (mem.republishPending) n++;
    return n;
  }

  get #discovery(): DiscoveryOptions {
    const m = this.options.mqtt;
    return {
      prefix: m.discoveryPrefix,
      mode: m.discoveryMode,
      origin: this.options.origin,
      bridgeTopic: bridgeStateTopic(m.baseTopic),
    };
  }

  async start(): Promise<void> {
    const m = this.options.mqtt;
    for (const d of this.options.devices) {
      this.#mem.set(d.id, {
        desc: d,
        presence: EMPTY_PRESENCE,
        published: new Map(),
        shapeKey: "",
        presenceKey: "",
        keyedPresence: undefined,
        republishPending: false,
        lastReadingAt: 0,
        states: new Map(),
        alerts: new Map(),
        alertsKnown: false,
        candidateShape: "",
        candidateReadings: 0,
        linkSince: 0,
        bmsAvailability: new Map(),
      });
    }
    const pub = new Publisher({
      url: m.url,
      clientId: m.clientId,
      username: m.username,
      password: m.password,
      stateTopic: bridgeStateTopic(m.baseTopic),
      ...(this.options.reconnectPeriodMs !== undefined
        ? { reconnectPeriodMs: this.options.reconnectPeriodMs }
        : {}),
      ...(this.options.connect ? { connect: this.options.connect } : {}),
    });
    this.#publisher = pub;
    // Outage bookkeeping for the log: when it started and why (the first error MQTT.js gave).
    let downSince = 0;
    let downReason = "";
    pub.on("connect", () => {
      if (downSince === 0) this.#log.info(`mqtt: connected to ${redactUrl(m.url)}`);
      else
        this.#log.info(
          `mqtt: reconnected to ${redactUrl(m.url)} after ${seconds(Date.now() - downSince)} (${downReason || "connection closed"}); re-publishing everything retained`,
        );
      downSince = 0;
      downReason = "";
      if (this.#scan === "pending" && m.discovery && (this.options.retainedScanMs ?? 2000) > 0)
        void this.#scanRetained();
      else if (this.#scan !== "running") {
        this.#scan = "done";
        this.#republishAllTracked();
      }
    });
    // MQTT.js retries silently (ECONNREFUSED is no "error" event): say once that we are down.
    let down = false;
    pub.on("disconnect", () => {
      if (!down && this.#publisher === pub) {
        downSince = Date.now();
        const every = seconds(this.options.reconnectPeriodMs ?? 2000);
        this.#log.warn(`mqtt: connection to ${redactUrl(m.url)} lost (retrying every ${every})`);
      }
      down = true;
    });
    pub.on("connect", () => {
      down = false;
    });
    // MQTT.js error messages carry the broker's reason, never our credentials. Retries
    // repeat the same error every few seconds: log each distinct one once per outage.
    let lastError = "";
    pub.on("error", (e) => {
      if (e.message !== lastError) this.#log.warn(`mqtt: ${e.message} (retrying)`);
      lastError = e.message;
      if (downReason === "") downReason = e.message;
    });
    pub.on("connect", () => {
      lastError = "";
    });
    pub.on("message", (topic, payload) => {
      if (topic === haStatusTopic(m.discoveryPrefix)) {
        if (payload.toString() === "online") this.#haBirth();
      } else if (this.#scan === "running") this.#retained.push({ topic, payload: payload.toString() });
    });
    if (m.discovery) void pub.subscribe(haStatusTopic(m.discoveryPrefix));
    this.options.bus.on("reading", this.#onReading);
    this.options.bus.on("status", this.#onStatus);
    this.options.bus.on("deviceRemoved", this.#onRemoved);
    this.options.bus.on("alert", this.#onAlert);
    this.#staleTimer = setInterval(() => this.#checkStale(), 1000);
    pub.start();
  }

  async stop(): Promise<void> {
    this.options.bus.off("reading", this.#onReading);
    this.options.bus.off("status", this.#onStatus);
    this.options.bus.off("deviceRemoved", this.#onRemoved);
    this.options.bus.off("alert", this.#onAlert);
    clearInterval(this.#staleTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#republishRun++; // a republish under way stops after its current slice
    // QoS 1 messages in flight when the broker went away are only acknowledged after a
    // reconnect that a stop will not wait for.
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => {
        giveUp = setTimeout(resolve, STOP_FLUSH_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(giveUp);
    const pub = this.#publisher;
    this.#publisher = undefined; // first: the disconnect of a clean stop is not an outage
    await pub?.stop();
  }

  /** Collects retained discovery configs, then removes stale ones and seeds `published`. */
  async #scanRetained(): Promise<void> {
    const pub = this.#publisher;
    if (!pub) return;
    this.#scan = "running";
    const m = this.options.mqtt;
    const topics = scanTopics(m.discoveryPrefix);
    for (const t of topics) await pub.subscribe(t);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, this.options.retainedScanMs ?? 2000);
      this.#timers.add(t);
    });
    if (this.#publisher !== pub) return; // stopped meanwhile
    for (const t of topics) await pub.unsubscribe(t);
    const plan = planCleanup(
      m.discoveryPrefix,
      m.baseTopic,
      m.discoveryMode,
      [...this.#mem.values()].map((d) => ({ id: d.desc.id, canIds: d.desc.can.map((c) => c.id) })),
      this.#retained.splice(0),
    );
    if (plan.removals.length > 0)
      this.#log.info(`home assistant: removing ${plan.removals.length} stale discovery config(s)`);
    this.#sendAll(plan.removals);
    for (const mem of this.#mem.values()) {
      for (const objectId of this.#objectIds(mem)) {
        const comps = plan.published.get(objectId);
        if (comps) mem.published.set(objectId, pack(comps));
      }
    }
    this.#scan = "done";
    this.#republishAllTracked();
  }

  /** The Express's HA object id and those of its configured CAN nodes. */
  #objectIds(mem: DeviceMemory): string[] {
    const base = this.options.mqtt.baseTopic;
    return [haObjectId(base, mem.desc.id), ...mem.desc.can.map((c) => haObjectId(base, mem.desc.id, c.id))];
  }

  // ── publishing ─────────────────────────────────────────────────────────────

  /**
   * Everything but states: retained, QoS 1, tracked so stop() can wait for it and a republish
   * can pace itself on the broker's acknowledgements.
   */
  #send(topic: string, payload: string): Promise<boolean> | undefined {
    const p = this.#publisher;
    return p ? this.#track(p.publish(topic, payload, { retain: true, qos: 1 })) : undefined;
  }

  /** A state publish (retained, QoS 0, fire-and-forget); false when the publisher dropped it (disconnected or congested). */
  #sendState(topic: string, payload: string): boolean {
    return this.#publisher?.send(topic, payload, { retain: true, qos: 0 }) ?? false;
  }

  #track<T>(done: Promise<T>): Promise<T> {
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
    return done;
  }

  #sendAll(msgs: readonly DiscoveryMessage[], acks: Promise<unknown>[] = []): Promise<unknown>[] {
    for (const m of msgs) {
      const ack = this.#send(m.topic, m.payload);
      if (ack) acks.push(ack);
    }
    return acks;
  }

  /** Publishes this device's discovery if its shape changed (or always, `force`); returns the broker acks to wait for. */
  #publishDiscovery(mem: DeviceMemory, force: boolean): readonly Promise<unknown>[] {
    if (!this.options.mqtt.discovery || this.#scan !== "done") return NO_ACKS;
    // A republish of everything will get to this device (with force): no need to do it twice.
    if (!force && mem.republishPending) return NO_ACKS;
    // Building and comparing every entity per reading was a fifth of the bridge's CPU at
    // fleet scale; the presence decides the shape, so an unchanged presence skips it all:
    // first by identity (updatePresence returns the old object), then by its key.
    if (!force && mem.presence === mem.keyedPresence) return NO_ACKS;
    const presence = presenceKey(mem.presence);
    if (!force && presence === mem.presenceKey) {
      mem.keyedPresence = mem.presence;
      return NO_ACKS;
    }
    const devices = haDevices(this.options.mqtt.baseTopic, mem.desc, mem.presence);
    const shapeKey = createHash("sha1").update(JSON.stringify(devices)).digest("base64");
    if (!force && shapeKey === mem.shapeKey) {
      mem.presenceKey = presence;
      mem.keyedPresence = mem.presence;
      mem.candidateReadings = 0;
      return NO_ACKS;
    }
    // A new shape goes out once it held for a few readings (the first one at once). Its
    // presence is not remembered as seen, so the next reading checks again.
    if (!force && mem.shapeKey !== "") {
      if (shapeKey === mem.candidateShape) mem.candidateReadings++;
      else {
        mem.candidateShape = shapeKey;
        mem.candidateReadings = 1;
      }
      if (mem.candidateReadings < DISCOVERY_SETTLE_READINGS) return NO_ACKS;
    }
    mem.candidateReadings = 0;
    // Only count it as published when it actually went out: otherwise the next connect redoes it.
    if (!this.#publisher?.connected) return NO_ACKS;
    const acks: Promise<unknown>[] = [];
    mem.shapeKey = shapeKey;
    mem.presenceKey = presence;
    mem.keyedPresence = mem.presence;
    // Configured CAN nodes that have not answered yet keep their entities (no churn at startup).
    const live = new Set([...devices.map((d) => d.objectId), ...this.#objectIds(mem)]);
    for (const d of devices) {
      const prev = mem.published.get(d.objectId);
      const r = discoveryMessages(this.#discovery, d, prev && unpack(prev));
      this.#sendAll(r.messages, acks);
      mem.published.set(d.objectId, pack(r.published));
    }
    for (const [objectId, prev] of mem.published) {
      if (live.has(objectId)) continue;
      this.#sendAll(removalMessages(this.#discovery, objectId, unpack(prev)), acks);
      mem.published.delete(objectId);
    }
    return acks;
  }

  #publishAvailability(mem: DeviceMemory, force: boolean): Promise<boolean> | undefined {
    const fresh = Date.now() - mem.lastReadingAt <= mem.desc.staleAfterMs;
    const a =
      availabilityOf(mem.status) === "online" && (fresh || mem.lastReadingAt === 0) ? "online" : "offline";
    if (!force && a === mem.availability) return undefined;
    if (!this.#publisher?.connected) return undefined;
    mem.availability = a;
    return this.#send(deviceAvailabilityTopic(this.options.mqtt.baseTopic, mem.desc.id), a);
  }

  #publishState(topic: string, doc: StateDoc, mem: DeviceMemory): void {
    const now = Date.now();
    let slot = mem.states.get(topic);
    if (!slot) {
      slot = new StateSlot();
      mem.states.set(topic, slot);
    }
    // The newest payload is kept either way (a republish sends it); a dropped one is not
    // counted as sent, so publish_on_change sends the next reading even if it is the same.
    const unchanged = slot.replace(doc);
    const heartbeatDue = now - slot.sentAt >= this.options.mqtt.heartbeatS * 1000;
    if (this.options.mqtt.publishOnChange && unchanged && !slot.unsent && !heartbeatDue) return;
    const sent = this.#sendState(topic, doc.payload);
    slot.unsent = !sent;
    if (sent) slot.sentAt = now;
  }

  #republishAllTracked(): void {
    void this.#track(this.#republishAll());
  }

  /**
   * Everything again (after a connect or HA's birth): discovery, availability, connection and
   * the last states of every device. A fleet's discovery is tens of megabytes (~27 KB per
   * 20S device); sent in one go it held the event loop for a second and more and queued
   * behind it every poll. So it goes out a slice of devices at a time, each slice once the
   * broker has acknowledged the one before, with the event loop free in between.
   */
  async #republishAll(): Promise<void> {
    const run = ++this.#republishRun;
    const mems = [...this.#mem.values()];
    for (const mem of mems) mem.republishPending = true;
    let acks: Promise<unknown>[] = [];
    for (const [i, mem] of mems.entries()) {
      if (run !== this.#republishRun || !this.#publisher?.connected) return;
      mem.republishPending = false;
      if (this.#mem.get(mem.desc.id) !== mem) continue; // removed meanwhile
      acks.push(...this.#publishDiscovery(mem, true));
      const availability = this.#publishAvailability(mem, true);
      if (availability) acks.push(availability);
      if (mem.status) {
        const topic = deviceConnectionTopic(this.options.mqtt.baseTopic, mem.desc.id);
        const ack = this.#send(topic, connectionDoc(mem.status));
        if (ack) acks.push(ack);
      }
      for (const [topic, slot] of mem.states) {
        const payload = slot.payload;
        if (payload !== undefined) this.#sendState(topic, payload);
      }
      for (const [topic, value] of mem.bmsAvailability) {
        const ack = this.#send(topic, value);
        if (ack) acks.push(ack);
      }
      // The alert state as it is now: raised or cleared while the broker was away, or lost
      // with a broker that keeps no retained messages.
      if (mem.alertsKnown) {
        const ack = this.#publishAlerts(mem);
        if (ack) acks.push(ack);
      }
      if ((i + 1) % REPUBLISH_SLICE === 0 && i + 1 < mems.length) {
        await Promise.all(acks);
        acks = [];
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(acks);
  }

  #haBirth(): void {
    const delay = this.options.birthDelayMs?.() ?? 1000 + Math.random() * 2000;
    this.#log.info(`home assistant came online: re-publishing discovery in ${Math.round(delay)} ms`);
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#republishAllTracked();
    }, delay);
    this.#timers.add(t);
  }

  // ── bus events ─────────────────────────────────────────────────────────────

  #reading(r: Reading): void {
    const mem = this.#mem.get(r.deviceId);
    if (!mem) return;
    mem.lastReadingAt = Date.now();
    // Every alert entity has a state from the start ("off"), not "unknown" until the first alert.
    if (!mem.alertsKnown) {
      mem.alertsKnown = true;
      this.#publishAlerts(mem);
    }
    mem.presence = updatePresence(mem.presence, r);
    this.#publishDiscovery(mem, false);
    const base = this.options.mqtt.baseTopic;
    const doc = deviceStateDoc(r);
    this.#publishState(deviceStateTopic(base, r.deviceId), doc, mem);
    if (r.can) {
      const listed = new Set(mem.desc.can.map((c) => c.id));
      for (const c of canStateDocs(r)) {
        if (c.canId !== undefined && listed.has(c.canId))
          this.#publishState(canStateTopic(base, r.deviceId, c.canId), c, mem);
      }
    }
    this.#publishAvailability(mem, false);
    if (r.bms)
      this.#publishBmsAvailability(mem, bmsAvailabilityTopic(base, r.deviceId), r.bms.stale === true);
    if (r.can) {
      for (const node of Object.values(r.can))
        if (node.bms)
          this.#publishBmsAvailability(
            mem,
            bmsAvailabilityTopic(base, r.deviceId, node.canId),
            node.bms.stale === true,
          );
    }
  }

  /** Sent when it changes; a publish dropped while disconnected goes out with the republish on connect. */
  #publishBmsAvailability(mem: DeviceMemory, topic: string, stale: boolean): void {
    const want = stale ? "offline" : "online";
    if (mem.bmsAvailability.get(topic) === want) return;
    mem.bmsAvailability.set(topic, want);
    this.#send(topic, want);
  }

  #status(s: DeviceStatus): void {
    const mem = this.#mem.get(s.deviceId);
    if (!mem) return;
    const prev = mem.status;
    mem.status = s;
    if (prev?.link !== s.link) {
      // Going online/offline is news; the connecting ↔ offline churn of a retry loop is not.
      const news =
        s.link === "online" || prev?.link === "online" || prev === undefined || s.link === "yielded";
      const line = linkLine(s, prev, mem.linkSince, Date.now());
      if (s.link === "online" || prev?.link === "online") mem.linkSince = Date.now();
      if (news) this.#log.info(line);
      else this.#log.debug(line);
    } else if (prev?.bmsStale !== s.bmsStale) {
      this.#log.warn(
        s.bmsStale
          ? `device ${s.deviceId}: BMS data frozen (the reply has not changed; the Express may be repeating a cached reading): BMS entities unavailable`
          : `device ${s.deviceId}: BMS data changing again`,
      );
    }
    this.#send(deviceConnectionTopic(this.options.mqtt.baseTopic, s.deviceId), connectionDoc(s));
    this.#publishAvailability(mem, false);
  }

  #alert(a: Alert): void {
    const mem = this.#mem.get(a.deviceId);
    if (!mem) return;
    if (a.active) mem.alerts.set(a.rule, a);
    else mem.alerts.delete(a.rule);
    mem.alertsKnown = true;
    this.#publishAlerts(mem);
  }

  /** Dropped while disconnected: the republish on the next connect sends the state of then. */
  #publishAlerts(mem: DeviceMemory): Promise<boolean> | undefined {
    const doc = JSON.stringify(alertsDoc([...mem.alerts.values()]));
    return this.#send(alertsTopic(this.options.mqtt.baseTopic, mem.desc.id), doc);
  }

  #removed(id: string): void {
    const mem = this.#mem.get(id);
    if (!mem) return;
    for (const [objectId, prev] of mem.published)
      this.#sendAll(removalMessages(this.#discovery, objectId, unpack(prev)));
    const base = this.options.mqtt.baseTopic;
    // Empty retained payloads clear what a broker would otherwise replay forever.
    for (const topic of [
      ...mem.states.keys(),
      ...mem.bmsAvailability.keys(),
      deviceAvailabilityTopic(base, id),
      deviceConnectionTopic(base, id),
    ])
      this.#send(topic, "");
    this.#mem.delete(id);
  }

  #checkStale(): void {
    for (const mem of this.#mem.values()) this.#publishAvailability(mem, false);
  }
}

/** "4.2 s", "12 min". */
function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 120 ? `${Number(s.toFixed(1))} s` : `${Math.round(s / 60)} min`;
}

/**
 * One log line for a link change that says what happened, why and after how long. "online"
 * never carries an error: the poller keeps its last error, which is history by then.
 */
export function linkLine(
  s: DeviceStatus,
  prev: DeviceStatus | undefined,
  since: number,
  now: number,
): string {
  const id = `device ${s.deviceId}`;
  const why = s.lastError ? `: ${s.lastError}` : "";
  if (s.link === "online") {
    if (!prev || (prev.link === "connecting" && s.reconnects === 0)) return `${id}: online`;
    const after = since > 0 ? ` after ${seconds(now - since)} without data` : "";
    const how = prev.link === "connecting" ? `reconnect #${s.reconnects}` : `was ${prev.link}`;
    return `${id}: online again${after} (${how}${prev.lastError ? `; last error: ${prev.lastError}` : ""})`;
  }
  if (prev?.link === "online") {
    const up = since > 0 ? ` after ${seconds(now - since)} online` : "";
    return `${id}: ${s.link}${up}${why}`;
  }
  return `${id}: ${s.link}${why}`;
}

/** `mqtt://user:pass@host` → `mqtt://host`: URLs may embed credentials. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}
