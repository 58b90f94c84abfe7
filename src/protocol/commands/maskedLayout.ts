/**
 * A mask-selected bldc reply: one table of mask bits in wire order. MaskedFields reads and
 * writes the masked fields (GET_STATS and GET_IMU_DATA frame them themselves); MaskedLayout
 * adds the framing GET_VALUES and GET_VALUES_SETUP share, the plain command (every bit) and
 * its SELECTIVE form (the request's uint32 mask, echoed ahead of the fields). Bits with a
 * `since` were appended by later firmware; they must be a suffix of the table, so an older
 * reply simply ends before them (decoded by remaining size, SELECTIVE still echoes the whole
 * mask) and an encoded reply ends at the first absent one.
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import type { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";
import { faultCodeName } from "../faultCode.js";
import { type FieldKind, readField, sizeOf, writeField } from "./fieldKind.js";

/** One mask bit: the fields it carries, all of one kind (GET_VALUES bit 18 carries three). */
export interface MaskedBit<F extends string> {
  readonly bit: number;
  readonly fields: readonly F[];
  readonly kind: FieldKind;
  /** Bytes this bit occupies on the wire. */
  readonly size: number;
  /** The fwNumber (major·100 + minor) that appended this bit; undefined = always sent. */
  readonly since?: number;
}

export const maskedBit = <F extends string>(
  bit: number,
  fields: readonly F[],
  kind: FieldKind,
  since?: number,
): MaskedBit<F> => ({ bit, fields, kind, size: sizeOf(kind) * fields.length, since });

/** The decoded fields; `faultName` is added when the layout has a fault field. */
export type MaskedValues<F extends string> = { [K in F]?: number } & { faultName?: string };

export interface SelectiveReply<V> {
  readonly mask: number;
  readonly values: V;
}

interface Command {
  readonly id: CommandId;
  /** Firmware name, e.g. "COMM_GET_VALUES". */
  readonly name: string;
}

export interface MaskedFieldsSpec<F extends string> {
  /** Firmware name of the command, for error messages. */
  readonly name: string;
  readonly bits: readonly MaskedBit<F>[];
  /** The mc_fault_code field, named as `faultName` too. */
  readonly faultField?: NoInfer<F>;
  /** Encode an absent always-sent field as 0 instead of refusing the values. */
  readonly absentAsZero?: boolean;
}

export interface MaskedLayoutSpec<F extends string> extends Pick<MaskedFieldsSpec<F>, "bits" | "faultField"> {
  readonly full: Command;
  readonly selective: Command;
}

export const ALL_BITS_MASK = 0xffffffff;

/** A bit as the hot loops read it: one object shape for every layout, so their reads stay monomorphic. */
interface Slot<F extends string> {
  readonly bit: number;
  readonly fields: readonly F[];
  readonly kind: FieldKind;
  readonly size: number;
  /** Older firmware may end its reply before this bit. */
  readonly optional: boolean;
  /** One of `fields` is the mc_fault_code. */
  readonly hasFault: boolean;
}

/** What decoding one mask needs, worked out once per mask. */
interface Plan<F extends string> {
  /** The masked slots in wire order. */
  readonly slots: readonly Slot<F>[];
  /** Index in `slots` of the first optional one (`slots.length` if none). */
  readonly firstOptional: number;
  /** Bytes of the slots before `firstOptional`. */
  readonly fixedSize: number;
  /** Index in `slots` of the one carrying the fault field, −1 if none. */
  readonly faultAt: number;
  /** shapes[end − firstOptional]: an object with exactly the keys of a reply of the first `end` slots. */
  readonly shapes: readonly MaskedValues<F>[];
}

/** Masks planned per table: a few in practice, but SELECTIVE masks come from the device. */
const MAX_PLANS = 64;

function hasAll<F extends string>(values: { readonly [K in F]?: number }, fields: readonly F[]): boolean {
  for (const f of fields) if (values[f] === undefined) return false;
  return true;
}

/** The masked fields alone, for a command that frames them itself (mask width, trailer). */
export class MaskedFields<F extends string> {
  readonly bits: readonly MaskedBit<F>[];
  private readonly name: string;
  private readonly absentAsZero: boolean;
  private readonly slots: readonly Slot<F>[];
  private readonly faultField: F | undefined;
  private readonly plans = new Map<number, Plan<F>>();
  /** The mask bits this table has (a mask's other bits select nothing). */
  private readonly usedBits: number;

  constructor(spec: MaskedFieldsSpec<F>) {
    this.bits = spec.bits;
    this.name = spec.name;
    this.absentAsZero = spec.absentAsZero ?? false;
    this.faultField = spec.faultField;
    const first = spec.bits.findIndex((b) => b.since !== undefined);
    if (first >= 0 && spec.bits.slice(first).some((b) => b.since === undefined)) {
      throw new Error(`${spec.name} layout: bits with a since must be a suffix`);
    }
    this.slots = spec.bits.map(({ bit, fields, kind, size, since }) => ({
      bit,
      fields,
      kind,
      size,
      optional: since !== undefined,
      hasFault: spec.faultField !== undefined && fields.includes(spec.faultField),
    }));
    this.usedBits = this.slots.reduce((m, entry) => (m | (1 << entry.bit)) >>> 0, 0);
  }

  /** The fields of the masked bits; a reply that ends before an optional bit ends there. */
  decode(r: ByteReader, mask: number): MaskedValues<F> {
    const { slots, firstOptional, fixedSize, faultAt, shapes } = this.planOf(mask);
    // Where the reply ends follows from its size; a short always-sent part throws as it is read.
    let end = slots.length;
    let left = r.remaining - fixedSize;
    for (let i = firstOptional; i < slots.length; i++) {
      const size = (slots[i] as Slot<F>).size;
      if (left < size) {
        end = i;
        break;
      }
      left -= size;
    }
    // Filling a copy of a ready-made shape skips growing a fresh object key by key.
    const out: MaskedValues<F> = { ...(shapes[end - firstOptional] as MaskedValues<F>) };
    const nums: { [K in F]?: number } = out;
    for (let i = 0; i < end; i++) {
      const { fields, kind } = slots[i] as Slot<F>;
      for (let j = 0; j < fields.length; j++) {
        const field = fields[j] as F;
        nums[field] = readField(r, kind, field);
      }
    }
    if (faultAt >= 0 && faultAt < end) out.faultName = faultCodeName(nums[this.faultField as F] as number);
    return out;
  }

  private planOf(mask: number): Plan<F> {
    const key = mask & this.usedBits;
    const known = this.plans.get(key);
    if (known) return known;
    const slots = this.slots.filter((entry) => (mask >>> entry.bit) & 1);
    const optionalAt = slots.findIndex((entry) => entry.optional);
    const firstOptional = optionalAt < 0 ? slots.length : optionalAt;
    const shapes: MaskedValues<F>[] = [];
    for (let end = firstOptional; end <= slots.length; end++) {
      const blank: MaskedValues<F> = {};
      const nums: { [K in F]?: number } = blank;
      for (const entry of slots.slice(0, end)) for (const f of entry.fields) nums[f] = 0;
      if (slots.slice(0, end).some((entry) => entry.hasFault)) blank.faultName = "";
      // The spread turns the key-by-key object (slow "dictionary" properties) into a fast one.
      shapes.push({ ...blank });
    }
    const plan: Plan<F> = {
      slots,
      firstOptional,
      fixedSize: slots.slice(0, firstOptional).reduce((n, entry) => n + entry.size, 0),
      faultAt: slots.findIndex((entry) => entry.hasFault),
      shapes,
    };
    // Bounded: start over when full, keeping the all-bits plan every plain reply uses, so a
    // device cycling through masks cannot make the others rebuild theirs.
    if (this.plans.size >= MAX_PLANS) {
      const all = this.plans.get(this.usedBits);
      this.plans.clear();
      if (all) this.plans.set(this.usedBits, all);
    }
    this.plans.set(key, plan);
    return plan;
  }

  /** Masked fields in order; an absent optional bit ends the reply, as older firmware's does. */
  encode(w: ByteWriter, values: MaskedValues<F>, mask: number): void {
    const fields: { readonly [K in F]?: number } = values;
    for (const entry of this.slots) {
      if (!((mask >>> entry.bit) & 1)) continue;
      // Absent fields matter only where they end the reply or are refused, not where they are 0.
      if ((entry.optional || !this.absentAsZero) && !hasAll(fields, entry.fields)) {
        if (entry.optional) return;
        throw new ProtocolError("ValueOutOfRange", `${this.name} field ${entry.fields.join("/")} missing`);
      }
      for (const f of entry.fields) writeField(w, entry.kind, fields[f] ?? 0);
    }
  }

  /** The mask selecting the named fields. */
  mask(fields: readonly F[]): number {
    let mask = 0;
    for (const entry of this.slots) if (entry.fields.some((f) => fields.includes(f))) mask |= 1 << entry.bit;
    return mask >>> 0;
  }

  /** The fwNumber that appended each optional bit, by bit. */
  sinceByBit(): Readonly<Record<number, number>> {
    const out: Record<number, number> = {};
    for (const entry of this.bits) if (entry.since !== undefined) out[entry.bit] = entry.since;
    return out;
  }
}

export class MaskedLayout<F extends string> {
  readonly bits: readonly MaskedBit<F>[];
  private readonly table: MaskedFields<F>;

  constructor(private readonly spec: MaskedLayoutSpec<F>) {
    this.bits = spec.bits;
    this.table = new MaskedFields({ name: spec.full.name, bits: spec.bits, faultField: spec.faultField });
  }

  decodeFull(payload: Uint8Array): MaskedValues<F> {
    const r = new ByteReader(payload);
    expectCommand(r, this.spec.full.id, this.spec.full.name);
    return this.table.decode(r, ALL_BITS_MASK);
  }

  /** The plain reply; optional bits are written up to the first absent one. */
  encodeFull(values: MaskedValues<F>): Uint8Array {
    const w = new ByteWriter().uint8(this.spec.full.id);
    this.table.encode(w, values, ALL_BITS_MASK);
    return w.finish();
  }

  decodeSelective(payload: Uint8Array): SelectiveReply<MaskedValues<F>> {
    const { id, name } = this.spec.selective;
    const r = new ByteReader(payload);
    expectCommand(r, id, name);
    const mask = r.uint32("mask");
    return { mask, values: this.table.decode(r, mask) };
  }

  encodeSelective(response: SelectiveReply<MaskedValues<F>>): Uint8Array {
    const mask = response.mask >>> 0;
    const w = new ByteWriter().uint8(this.spec.selective.id).uint32(mask);
    this.table.encode(w, response.values, mask);
    return w.finish();
  }

  /** The mask selecting the named fields. */
  mask(fields: readonly F[]): number {
    return this.table.mask(fields);
  }

  /** The fwNumber that appended each optional bit, by bit. */
  sinceByBit(): Readonly<Record<number, number>> {
    return this.table.sinceByBit();
  }

  /** The plain command's codec (the request is the bare id). */
  fullCodec(): CommandCodec<void, MaskedValues<F>> {
    const { id, name } = this.spec.full;
    return {
      id,
      name,
      encodeRequest: () => Uint8Array.of(id),
      decodeRequest: (payload) => {
        expectCommand(new ByteReader(payload), id, name);
      },
      encodeResponse: (values) => this.encodeFull(values),
      decodeResponse: (payload) => this.decodeFull(payload),
    };
  }

  /** The SELECTIVE command's codec (the request is the id and the uint32 mask). */
  selectiveCodec(): CommandCodec<number, SelectiveReply<MaskedValues<F>>> {
    const { id, name } = this.spec.selective;
    return {
      id,
      name,
      encodeRequest: (mask) =>
        new ByteWriter()
          .uint8(id)
          .uint32(mask >>> 0)
          .finish(),
      decodeRequest: (payload) => {
        const r = new ByteReader(payload);
        expectCommand(r, id, name);
        return r.uint32("mask");
      },
      encodeResponse: (response) => this.encodeSelective(response),
      decodeResponse: (payload) => this.decodeSelective(payload),
    };
  }
}
