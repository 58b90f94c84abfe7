import { expect, test } from "vitest";
import { PacedRepublish, REPUBLISH_SLICE } from "./republish.js";

interface Item {
  readonly id: number;
  republishPending: boolean;
}

/** Acks that resolve only when the test says so (a broker that has not answered yet). */
function heldAcks() {
  const held: (() => void)[] = [];
  return {
    held,
    ack: () => new Promise<boolean>((resolve) => held.push(() => resolve(true))),
    release: () => {
      for (const r of held.splice(0)) r();
    },
  };
}
const tick = () => new Promise((r) => setTimeout(r, 20));

test("one slice at a time, each after the previous slice's acks; pending counts down", async () => {
  const items: Item[] = Array.from({ length: 2 * REPUBLISH_SLICE + 5 }, (_, id) => ({
    id,
    republishPending: false,
  }));
  const sent: number[] = [];
  const acks = heldAcks();
  const run = new PacedRepublish().run(items, {
    proceed: () => true,
    current: () => true,
    publish: (item) => {
      sent.push(item.id);
      return [acks.ack()];
    },
  });
  await tick();
  expect(sent).toHaveLength(REPUBLISH_SLICE);
  expect(items.filter((i) => i.republishPending)).toHaveLength(REPUBLISH_SLICE + 5);
  acks.release();
  await tick();
  expect(sent).toHaveLength(2 * REPUBLISH_SLICE);
  acks.release();
  await tick();
  expect(sent).toEqual(items.map((i) => i.id));
  let done = false;
  void run.then(() => {
    done = true;
  });
  await tick();
  expect(done).toBe(false); // the last slice's acks are awaited too
  acks.release();
  await run;
});

test("a newer run or cancel() stops an older one; removed items are skipped; no broker stops it", async () => {
  const items: Item[] = Array.from({ length: 3 * REPUBLISH_SLICE }, (_, id) => ({
    id,
    republishPending: false,
  }));
  const acks = heldAcks();
  const sent: number[] = [];
  const pacer = new PacedRepublish();
  const first = pacer.run(items, {
    proceed: () => true,
    current: (i) => i.id !== 3,
    publish: (i) => {
      sent.push(i.id);
      return [acks.ack()];
    },
  });
  await tick();
  expect(sent).not.toContain(3);
  expect(sent).toHaveLength(REPUBLISH_SLICE - 1);
  pacer.cancel();
  acks.release();
  await first;
  expect(sent).toHaveLength(REPUBLISH_SLICE - 1);
  let connected = true;
  const second = pacer.run(items, {
    proceed: () => connected,
    current: () => true,
    publish: (i) => {
      sent.push(i.id);
      if (i.id === 4) connected = false;
      return [];
    },
  });
  await second;
  expect(sent.slice(REPUBLISH_SLICE - 1)).toEqual([0, 1, 2, 3, 4]);
});
