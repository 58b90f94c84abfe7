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

export const batteryConfigSchema = z
  .strictObject({
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
  })
  .superRefine((c, ctx) => {
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
  });

export type BatteryConfig = z.output<typeof batteryConfigSchema>;
export type BatteryConfigInput = z.input<typeof batteryConfigSchema>;

/** The defaults when a device has no `battery:` section: NMC, capacity learned. */
export const DEFAULT_BATTERY_CONFIG: BatteryConfig = batteryConfigSchema.parse({});
