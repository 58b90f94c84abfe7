/**
 * The hub's gatekeeping: password book (salted hashes compared in constant time), per-IP
 * failed-login limiter and connection counters. No sockets here, so all of it is testable
 * with a fake clock.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A password kept only as a salted SHA-256, so memory dumps and logs never hold it. */
export class PasswordBook {
  private readonly salt = randomBytes(16);

  hash(password: string): Buffer {
    return createHash("sha256").update(this.salt).update(password, "utf8").digest();
  }

  /** Constant-time: both sides are 32-byte digests, so length never leaks either. */
  matches(stored: Buffer, password: string): boolean {
    return timingSafeEqual(stored, this.hash(password));
  }
}

export interface FailureLimitOptions {
  /** Failed logins from one address within `windowMs` before it is blocked (default 10). */
  readonly max?: number;
  readonly windowMs?: number;
  /** How long a blocked address stays blocked (default 5 min). */
  readonly blockMs?: number;
}

/** Per-address failed-login counter with a sliding window and a block period. */
export class FailureLimiter {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly failures = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    options: FailureLimitOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.max = options.max ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.blockMs = options.blockMs ?? 300_000;
  }

  isBlocked(address: string): boolean {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.blockedUntil.delete(address);
    return false;
  }

  /** Records a failure; returns true when this failure got the address blocked. */
  fail(address: string): boolean {
    const t = this.now();
    const recent = (this.failures.get(address) ?? []).filter((x) => t - x < this.windowMs);
    recent.push(t);
    if (recent.length >= this.max) {
      this.failures.delete(address);
      this.blockedUntil.set(address, t + this.blockMs);
      return true;
    }
    this.failures.set(address, recent);
    this.prune(t);
    return false;
  }

  blockedCount(): number {
    const t = this.now();
    let n = 0;
    for (const until of this.blockedUntil.values()) if (t < until) n++;
    return n;
  }

  // Bounded memory under a spray of addresses: forget windows that have run out.
  private prune(t: number): void {
    if (this.failures.size < 10_000) return;
    for (const [addr, times] of this.failures) {
      if (times.every((x) => t - x >= this.windowMs)) this.failures.delete(addr);
    }
  }
}

/** Open connections per address and in total. */
export class ConnectionCounter {
  private readonly perIp = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerIp: number,
  ) {}

  /** Takes a slot, or says why not ("total" only when the address itself is under its cap). */
  acquire(address: string): "ok" | "total" | "perIp" {
    const n = this.perIp.get(address) ?? 0;
    if (n >= this.maxPerIp) return "perIp";
    if (this.total >= this.maxTotal) return "total";
    this.perIp.set(address, n + 1);
    this.total++;
    return "ok";
  }

  release(address: string): void {
    const n = this.perIp.get(address) ?? 0;
    if (n <= 1) this.perIp.delete(address);
    else this.perIp.set(address, n - 1);
    if (this.total > 0) this.total--;
  }

  get open(): number {
    return this.total;
  }
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are one address for limits. */
export function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
