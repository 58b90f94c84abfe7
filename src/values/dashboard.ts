/**
 * The catalogue as the dashboard reads it (`/api/values`): per value its place in a reading,
 * its label and unit, and how a tile or row shows it. The browser code lays values out but
 * takes every name, unit and digit count from here. Link and poll values are listed only
 * once they have a `dashboard` section: the views show the link from the status themselves.
 */
import { CATALOGUE, type Catalogue, SOURCES } from "./index.js";
import type { ValueSource } from "./types.js";

export interface DashboardValue {
  readonly id: string;
  readonly source: ValueSource;
  readonly field: string;
  /** Path from the part a view holds (`bms`, a motor node's `values`) to the object holding `field`. */
  readonly within: readonly string[];
  readonly label: string;
  readonly unit: string;
  /** How the dashboard shows it; null: the dashboard does not show this value. */
  readonly dashboard: {
    readonly label: string;
    readonly digits: number;
    readonly scale: number;
    readonly unit: string;
  } | null;
}

const OFF_READING = new Set(["status", "reading"]);

export function dashboardValues(cat: Catalogue = CATALOGUE): DashboardValue[] {
  const listed = cat.values.filter((v) => v.dashboard || !OFF_READING.has(SOURCES[v.source].part));
  return listed.map((v) => ({
    id: v.id,
    source: v.source,
    field: v.field,
    within: SOURCES[v.source].within,
    label: v.label,
    unit: v.unit ?? "",
    dashboard: v.dashboard
      ? {
          label: v.dashboard.label ?? v.label,
          digits: v.dashboard.digits,
          scale: v.dashboard.scale ?? 1,
          unit: v.dashboard.unit ?? v.unit ?? "",
        }
      : null,
  }));
}
