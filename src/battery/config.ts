/**
 * The per-device `battery:` configuration. YAML keys are snake_case (capacity_ah,
 * rest_current_a, rest_minutes); the config loader converts them to camelCase before
 * parsing, so this schema is camelCase like the rest of the configuration.
 */
import { z } from "zod";
import { CHEMISTRIES, checkPoints, type Chemistry, type OcvPoint, OcvCurveError } from "./chemistry.js";

const positive = (what: string) => z.number({ error: what }).positive({ error: what });

const ocvPoint = z.tuple(
  [
    z.number({ error: "expected soc % 0–100" }).min(0, { error: "expected soc % 0–100" }).max(100, {
      error: "expected soc % 0–100",
    }),
    positive("expected cell volts > 0"),
  ],
  { error: "expected a [soc %, volts] pair" },
);

const batteryFields = {
  chemistry: z
    .enum(CHEMISTRIES as [Chemistry, ...Chemistry[]], { error: "expected nmc, lfp, lto or custom" })
    .default("nmc"),
  /** Rated capacity, Ah; learned from charge/discharge spans when absent. */
  capacityAh: positive("expected a capacity in Ah > 0").optional(),
  /** [soc %, cell volts at rest] points; required for custom, overrides the table otherwise. */
  ocv: z.array(ocvPoint, { error: "expected a list of [soc %, volts] pairs" }).optional(),
  /** |current| below this counts as rest, A (default 0.5, or C/50 when that is larger). */
  restCurrentA: positive("expected a current in A > 0").optional(),
  /** Rest this long before the OCV curve re-anchors the SOC, minutes (default 10). */
  restMinutes: positive("expected minutes > 0").default(10),
};

/** An ocv table must rise; custom needs one. */
function checkOcv(
  c: { chemistry: Chemistry; ocv?: [number, number][] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (c.chemistry === "custom" && c.ocv === undefined)
    ctx.addIssue({ code: "custom", path: ["ocv"], message: "chemistry custom needs an ocv table" });
  if (c.ocv !== undefined) {
    try {
      checkPoints(c.ocv as readonly OcvPoint[]);
    } catch (e) {
      if (!(e instanceof OcvCurveError)) throw e;
      ctx.addIssue({ code: "custom", path: ["ocv"], message: e.message });
    }
  }
}

export const batteryConfigSchema = z.strictObject(batteryFields).superRefine(checkOcv);

export type BatteryConfig = z.output<typeof batteryConfigSchema>;
export type BatteryConfigInput = z.input<typeof batteryConfigSchema>;

/**
 * A device's `battery:` key: the section above plus `enabled` (default true); `false` is
 * shorthand for `{ enabled: false }`, `true` for the defaults. Parsed to the section without
 * `enabled`, or to false when the estimates are off (no estimator, nothing stored or published).
 */
export const deviceBatterySchema = z
  .preprocess(
    (v) => (typeof v === "boolean" ? { enabled: v } : v),
    z
      .strictObject(
        {
          enabled: z.boolean({ error: "expected true or false" }).default(true),
          ...batteryFields,
        },
        {
          error: (issue) =>
            issue.code === "invalid_type"
              ? "expected true, false or a section { chemistry, capacity_ah, … }"
              : undefined,
        },
      )
      .superRefine(checkOcv),
  )
  .transform(({ enabled, ...section }): BatteryConfig | false => (enabled ? section : false));

export type DeviceBatteryConfig = z.output<typeof deviceBatterySchema>;

/** The defaults when a device has no `battery:` section: NMC, capacity learned. */
export const DEFAULT_BATTERY_CONFIG: BatteryConfig = batteryConfigSchema.parse({});

/** Rest when the config names no current, A: small enough that a BMS's own draw counts as rest. */
export const DEFAULT_REST_CURRENT_A = 0.5;

/** |current| at or below this is rest, A: the configured value, else 0.5 A or C/50 when larger. */
export function restCurrentAOf(c: Pick<BatteryConfig, "restCurrentA" | "capacityAh">): number {
  return (
    c.restCurrentA ?? Math.max(DEFAULT_REST_CURRENT_A, c.capacityAh === undefined ? 0 : c.capacityAh / 50)
  );
}
