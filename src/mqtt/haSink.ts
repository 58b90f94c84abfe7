/**
 * The MQTT / Home Assistant sink: composes the publishers (discovery, state, availability,
 * alerts) over one broker connection and feeds them from the bus. Everything retained goes
 * out again on every (re)connect and when HA's birth message (`<prefix>/status` = online)
 * arrives; the first connect first scans for and removes stale discovery configs.
 */
import type { Alert, Bus } from "../model/bus.js";
import type { DeviceStatus, Reading } from "../model/reading.js";
import { BusSink } from "../model/sink.js";
import type { Log } from "../model/log.js";
import { AlertPublisher, type AlertMemory } from "./alertPublisher.js";
import { type AvailabilityMemory, AvailabilityPublisher } from "./availabilityPublisher.js";
import { logConnection } from "./connectionLog.js";
import { type DiscoveryMemory, DiscoveryPublisher, discoveryMemory } from "./discoveryPublisher.js";
import { type DeviceDescription, updatePresence } from "./homeassistant/devices.js";
import type { Origin } from "./homeassistant/discovery.js";
import { type LinkMemory, logStatusChange } from "./linkLog.js";
import { MqttOutbox } from "./outbox.js";
import { type ConnectFn, Publisher, type PublisherStats } from "./publisher.js";
import { PacedRepublish, type Republishable } from "./republish.js";
import { RetainedScan } from "./retainedScan.js";
import { connectionDoc } from "./state.js";
import { type StateMemory, StatePublisher } from "./statePublisher.js";
import { bridgeStateTopic, deviceConnectionTopic, haStatusTopic } from "./topics.js";

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
  readonly log?: Partial<Log>;
  readonly connect?: ConnectFn;
}

/** One device's memory: a single object holding what each publisher keeps. */
interface DeviceMemory
  extends DiscoveryMemory,
    StateMemory,
    AvailabilityMemory,
    AlertMemory,
    LinkMemory,
    Republishable {
  readonly desc: HaSinkDevice;
}

/** What #discover returns when nothing went out: most readings, so not a new array each. */
const NO_ACKS: readonly Promise<unknown>[] = [];
/** How long stop() waits for QoS 1 acknowledgements before disconnecting anyway. */
const STOP_FLUSH_TIMEOUT_MS = 5000;

export class HaSink extends BusSink {
  readonly name = "mqtt";
  readonly #mem = new Map<string, DeviceMemory>();
  readonly #out = new MqttOutbox();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #discovery: DiscoveryPublisher;
  readonly #states: StatePublisher;
  readonly #availability: AvailabilityPublisher;
  readonly #alerts: AlertPublisher;
  readonly #scan: RetainedScan;
  readonly #republish = new PacedRepublish();

  constructor(readonly options: HaSinkOptions) {
    super(options.bus, options.log);
    const m = options.mqtt;
    this.#discovery = new DiscoveryPublisher(this.#out, m.baseTopic, {
      prefix: m.discoveryPrefix,
      mode: m.discoveryMode,
      origin: options.origin,
      bridgeTopic: bridgeStateTopic(m.baseTopic),
    });
    this.#states = new StatePublisher(this.#out, m);
    this.#availability = new AvailabilityPublisher(this.#out, m.baseTopic);
    this.#alerts = new AlertPublisher(this.#out, m.baseTopic);
    this.#scan = new RetainedScan(this.#out, {
      prefix: m.discoveryPrefix,
      baseTopic: m.baseTopic,
      mode: m.discoveryMode,
      log: this.log,
    });
  }

  get stats(): PublisherStats | undefined {
    return this.#out.publisher?.stats;
  }

  get connected(): boolean {
    return this.#out.connected;
  }

  /** Devices whose discovery has yet to go out in the current republish (all of them before the first). */
  get discoveryBacklog(): number {
    if (!this.options.mqtt.discovery) return 0;
    if (this.#scan.state !== "done") return this.#mem.size;
    let n = 0;
    for (const mem of this.#mem.values()) if (mem.republishPending) n++;
    return n;
  }

  protected async onStart(): Promise<void> {
    const m = this.options.mqtt;
    for (const d of this.options.devices) {
      // Every field in one literal, the optional ones too: a spread and fields added later put
      // most devices' memories in dictionary mode (a property hash table each, for life).
      const discovery = discoveryMemory(d);
      this.#mem.set(d.id, {
        desc: d,
        presence: discovery.presence,
        published: discovery.published,
        shapeKey: discovery.shapeKey,
        presenceKey: discovery.presenceKey,
        keyedPresence: discovery.keyedPresence,
        candidateShape: discovery.candidateShape,
        candidateReadings: discovery.candidateReadings,
        republishPending: false,
        lastReadingAt: 0,
        status: undefined,
        availability: undefined,
        states: new Map(),
        alerts: new Map(),
        alertsKnown: false,
        canAlerts: undefined,
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
    this.#out.publisher = pub;
    logConnection(pub, {
      url: m.url,
      reconnectPeriodMs: this.options.reconnectPeriodMs,
      log: this.log,
      current: () => this.#out.publisher === pub,
    });
    pub.on(
      "connect",
      this.guarded("connect", () => {
        if (this.#scan.state === "pending" && m.discovery && (this.options.retainedScanMs ?? 2000) > 0)
          return this.#scanRetained(pub);
        if (this.#scan.state !== "running") {
          this.#scan.state = "done";
          this.#republishAllTracked();
        }
      }),
    );
    pub.on(
      "message",
      this.guarded("message", (topic: string, payload: Buffer) => {
        if (topic === haStatusTopic(m.discoveryPrefix)) {
          if (payload.toString() === "online") this.#haBirth();
        } else this.#scan.offer(topic, payload);
      }),
    );
    if (m.discovery) void pub.subscribe(haStatusTopic(m.discoveryPrefix));
    this.listen("reading", (r) => this.#reading(r));
    this.listen("status", (s) => this.#status(s));
    this.listen("alert", (a) => this.#alert(a));
    this.#availability.startStaleChecks(
      () => this.#mem.values(),
      (check) => this.guarded("stale check", check),
    );
    pub.start();
  }

  protected override async onStop(): Promise<void> {
    this.#availability.stopStaleChecks();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#republish.cancel(); // a republish under way stops after its current slice
    // QoS 1 messages in flight when the broker went away are only acknowledged after a
    // reconnect that a stop will not wait for.
    await this.#out.settle(STOP_FLUSH_TIMEOUT_MS);
    const pub = this.#out.publisher;
    this.#out.publisher = undefined; // first: the disconnect of a clean stop is not an outage
    await pub?.stop();
  }

  /** A timer that stop() cancels (the promise then never settles: nothing waits on it past stop). */
  #delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }

  async #scanRetained(pub: Publisher): Promise<void> {
    const found = await this.#scan.run(
      pub,
      () => this.#delay(this.options.retainedScanMs ?? 2000),
      () => [...this.#mem.values()].map((d) => ({ id: d.desc.id, canIds: d.desc.can.map((c) => c.id) })),
    );
    if (!found) return;
    for (const mem of this.#mem.values()) this.#discovery.seed(mem, found);
    this.#scan.state = "done";
    this.#republishAllTracked();
  }

  /** Discovery once the scan is done, unless a republish of everything will get to this device anyway. */
  #discover(mem: DeviceMemory, force: boolean): readonly Promise<unknown>[] {
    if (!this.options.mqtt.discovery || this.#scan.state !== "done") return NO_ACKS;
    if (!force && mem.republishPending) return NO_ACKS;
    return this.#discovery.publish(mem, force);
  }

  #republishAllTracked(): void {
    const run = this.#republish.run([...this.#mem.values()], {
      proceed: () => this.#out.connected,
      current: (mem) => this.#mem.get(mem.desc.id) === mem,
      publish: (mem) => this.#republishDevice(mem),
    });
    void this.#out.track(run).catch((e: unknown) => this.report("republish", e));
  }

  /** Discovery, availability, connection, states, BMS availability and alerts of one device. */
  #republishDevice(mem: DeviceMemory): Promise<unknown>[] {
    const acks = [...this.#discover(mem, true)];
    const availability = this.#availability.publish(mem, true);
    if (availability) acks.push(availability);
    if (mem.status) {
      const ack = this.#out.send(
        deviceConnectionTopic(this.options.mqtt.baseTopic, mem.desc.id),
        connectionDoc(mem.status),
      );
      if (ack) acks.push(ack);
    }
    this.#states.republish(mem);
    this.#availability.republishBms(mem, acks);
    // Raised or cleared while the broker was away, or lost with a broker that keeps nothing retained.
    const alerts = this.#alerts.republish(mem);
    if (alerts) acks.push(alerts);
    return acks;
  }

  #haBirth(): void {
    const delay = this.options.birthDelayMs?.() ?? 1000 + Math.random() * 2000;
    this.log.info(`home assistant came online: re-publishing discovery in ${Math.round(delay)} ms`);
    void this.#delay(delay).then(this.guarded("HA birth", () => this.#republishAllTracked()));
  }

  #reading(r: Reading): void {
    const mem = this.#mem.get(r.deviceId);
    if (!mem) return;
    mem.lastReadingAt = Date.now();
    this.#alerts.reading(mem, r);
    mem.presence = updatePresence(mem.presence, r);
    this.#discover(mem, false);
    this.#states.publishReading(mem, r);
    this.#availability.publish(mem, false);
    this.#availability.publishBms(mem, r);
  }

  #status(s: DeviceStatus): void {
    const mem = this.#mem.get(s.deviceId);
    if (!mem) return;
    const prev = mem.status;
    mem.status = s;
    logStatusChange(this.log, mem, s, prev);
    this.#out.send(deviceConnectionTopic(this.options.mqtt.baseTopic, s.deviceId), connectionDoc(s));
    this.#availability.publish(mem, false);
  }

  #alert(a: Alert): void {
    const mem = this.#mem.get(a.deviceId);
    if (mem) this.#alerts.alert(mem, a);
  }
}
