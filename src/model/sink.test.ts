import { expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { Bus } from "./bus.js";
import type { Reading } from "./reading.js";
import { BusSink } from "./sink.js";

class Recorder extends BusSink {
  readonly readings: Reading[] = [];
  stopped = 0;
  constructor(
    readonly name: string,
    bus: Bus,
    readonly throws = false,
  ) {
    super(bus, { warn: (m) => this.warnings.push(m) });
  }
  readonly warnings: string[] = [];
  protected async onStart(): Promise<void> {
    this.listen("reading", (r) => {
      if (this.throws) throw new Error(`${this.name} broke`);
      this.readings.push(r);
    });
    this.listen("alert", (a) => this.log.warn(a.message));
  }
  protected override async onStop(): Promise<void> {
    this.stopped++;
  }
}

test("stop() removes every subscription the sink made, then runs its own teardown once", async () => {
  const bus = new Bus();
  const sink = new Recorder("rec", bus);
  await sink.start();
  expect(sink.subscriptions).toBe(2);
  expect(bus.listenerCount("reading")).toBe(1);
  await sink.stop();
  await sink.stop();
  expect(sink.subscriptions).toBe(0);
  expect(bus.listenerCount("reading")).toBe(0);
  expect(bus.listenerCount("alert")).toBe(0);
  expect(sink.stopped).toBe(1);
  bus.emit("reading", syntheticReading({ time: 0 }));
  expect(sink.readings).toHaveLength(0);
});

test("a sink's throwing listener is reported under its name and the next sink still gets the event", async () => {
  const bus = new Bus();
  const errors: string[] = [];
  bus.onListenerError = (owner, event, e) => errors.push(`${owner}/${event}: ${(e as Error).message}`);
  const broken = new Recorder("broken", bus, true);
  const fine = new Recorder("fine", bus);
  await broken.start();
  await fine.start();
  expect(() => bus.emit("reading", syntheticReading({ time: 0 }))).not.toThrow();
  expect(errors).toEqual(["broken/reading: broken broke"]);
  expect(fine.readings).toHaveLength(1);
});

test("a partial logger is completed: the levels it lacks are silent, the ones it has are used", async () => {
  const bus = new Bus();
  const sink = new Recorder("rec", bus);
  await sink.start();
  bus.emit("alert", { deviceId: "pack", rule: "stale", active: true, message: "no data", time: "" });
  expect(sink.warnings).toEqual(["no data"]);
  await sink.stop();
});

class Ticker extends BusSink {
  readonly name = "ticker";
  fire: (() => void) | undefined;
  fireAsync: (() => void) | undefined;
  protected async onStart(): Promise<void> {
    this.fire = this.guarded("timer", () => {
      throw new Error("tick broke");
    });
    this.fireAsync = this.guarded("async timer", async () => {
      throw new Error("async tick broke");
    });
  }
}

test("guarded callbacks (timers, other emitters) report a throw or rejection as the sink's, never throw", async () => {
  const bus = new Bus();
  const errors: string[] = [];
  bus.onListenerError = (owner, what, e) => errors.push(`${owner}/${what}: ${(e as Error).message}`);
  const sink = new Ticker(bus);
  await sink.start();
  expect(() => sink.fire?.()).not.toThrow();
  sink.fireAsync?.();
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual(["ticker/timer: tick broke", "ticker/async timer: async tick broke"]);
  await sink.stop();
});
