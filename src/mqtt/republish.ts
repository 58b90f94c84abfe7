/**
 * Republishing everything (after a connect or HA's birth) a slice of devices at a time, each
 * slice once the broker acknowledged the one before, so polls never queue behind a fleet's
 * discovery (docs/performance.md, "Bridge heap").
 */

/** Devices whose messages go out between two waits for the broker. */
export const REPUBLISH_SLICE = 20;

export interface Republishable {
  /** A republish is under way and has not reached this device yet. */
  republishPending: boolean;
}

export interface RepublishSteps<T> {
  /** False stops the run before the next device (disconnected). */
  readonly proceed: () => boolean;
  /** False skips a device that was removed meanwhile. */
  readonly current: (item: T) => boolean;
  /** Sends everything of one device; returns the acks to wait for. */
  readonly publish: (item: T) => readonly Promise<unknown>[];
}

export class PacedRepublish {
  /** Bumped by every run and by cancel(): an older run still going stops. */
  #run = 0;

  cancel(): void {
    this.#run++;
  }

  async run<T extends Republishable>(items: readonly T[], steps: RepublishSteps<T>): Promise<void> {
    const run = ++this.#run;
    for (const item of items) item.republishPending = true;
    let acks: Promise<unknown>[] = [];
    for (const [i, item] of items.entries()) {
      if (run !== this.#run || !steps.proceed()) return;
      item.republishPending = false;
      if (!steps.current(item)) continue;
      acks.push(...steps.publish(item));
      if ((i + 1) % REPUBLISH_SLICE === 0 && i + 1 < items.length) {
        await Promise.all(acks);
        acks = [];
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(acks);
  }
}
