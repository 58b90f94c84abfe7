/**
 * One timer for the sleeps of every poller in the process. A poller sleeps about an interval
 * between polls; its own Timeout, closures and timer-list entry per sleep each lived that long,
 * outlived a young-generation GC and were promoted: per device per second at fleet scale. Here
 * each poller reuses one entry, the entries wait in a binary min-heap on their due time, and a
 * single Node timer is armed for the earliest.
 */

/**
 * Wake-ups per turn of the event loop. Normally a handful are due at a time; after the loop
 * was held up (a GC, a busy moment) hundreds can be, and firing them at once sent hundreds of
 * requests whose replies then queued behind each other.
 */
const WAKEUPS_PER_TURN = 16;

export interface ClockEntry {
  /** Date.now() at or after which `fire` is called. */
  due: number;
  /** Position in the heap; -1 when not scheduled. */
  index: number;
  readonly fire: () => void;
}

export function clockEntry(fire: () => void): ClockEntry {
  return { due: 0, index: -1, fire };
}

/** What a poller sleeps on: the shared PollClock in production, a ManualClock in tests. */
export interface Clock {
  /** Milliseconds, on the scale of Date.now(). */
  now(): number;
  schedule(entry: ClockEntry, due: number): void;
  cancel(entry: ClockEntry): void;
}

export class PollClock implements Clock {
  readonly #heap: ClockEntry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  readonly #onTimer = (): void => this.#run();

  /** Entries waiting. */
  get size(): number {
    return this.#heap.length;
  }

  now(): number {
    return Date.now();
  }

  /** Calls `entry.fire` once at `due` (Date.now() ms); an entry already waiting is moved. */
  schedule(entry: ClockEntry, due: number): void {
    if (entry.index >= 0) this.#remove(entry);
    entry.due = due;
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
    this.#arm();
  }

  /** Forgets a waiting entry (its `fire` is not called). */
  cancel(entry: ClockEntry): void {
    if (entry.index < 0) return;
    this.#remove(entry);
    this.#arm();
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#immediate = undefined;
    const now = Date.now();
    // Taken out first, then fired: a callback that schedules again waits for the next turn.
    const due: ClockEntry[] = [];
    let top = this.#heap[0];
    for (; top !== undefined && top.due <= now && due.length < WAKEUPS_PER_TURN; top = this.#heap[0]) {
      this.#remove(top);
      due.push(top);
    }
    if (top !== undefined && top.due <= now) {
      // More are due (the loop was held up): the rest after the I/O that is waiting, so the
      // replies to these polls are not queued behind a burst of hundreds of new requests.
      this.#immediate = setImmediate(this.#onTimer);
    } else {
      this.#arm();
    }
    for (const entry of due) entry.fire();
  }

  #arm(): void {
    if (this.#immediate) return; // the next turn re-arms
    const next = this.#heap[0];
    if (next?.due === this.#timerDue) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (!next) return;
    this.#timerDue = next.due;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, next.due - Date.now()));
  }

  #remove(entry: ClockEntry): void {
    const i = entry.index;
    const last = this.#heap.pop();
    entry.index = -1;
    if (last === undefined || last === entry) return;
    this.#heap[i] = last;
    last.index = i;
    this.#up(i);
    this.#down(last.index);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const e = heap[i];
    if (!e) return;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!parent || parent.due <= e.due) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const e = heap[i];
    if (!e) return;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let c = l;
      const left = heap[l];
      const right = heap[r];
      if (!left) break;
      if (right && right.due < left.due) c = r;
      const child = heap[c];
      if (!child || child.due >= e.due) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}

/** The process's clock: every Poller sleeps on it unless given another. */
export const pollClock = new PollClock();

/**
 * A clock that moves only when told (tests): no timer, `advance` fires what fell due, in due
 * order, each once.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #waiting = new Set<ClockEntry>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  get size(): number {
    return this.#waiting.size;
  }

  now(): number {
    return this.#now;
  }

  schedule(entry: ClockEntry, due: number): void {
    entry.due = due;
    entry.index = 0;
    this.#waiting.add(entry);
  }

  cancel(entry: ClockEntry): void {
    entry.index = -1;
    this.#waiting.delete(entry);
  }

  /** Moves time forward by `ms`, firing every entry due by then (earliest first). */
  advance(ms: number): void {
    this.#now += ms;
    const due = [...this.#waiting].filter((e) => e.due <= this.#now).sort((a, b) => a.due - b.due);
    for (const e of due) {
      this.cancel(e);
      e.fire();
    }
  }
}
