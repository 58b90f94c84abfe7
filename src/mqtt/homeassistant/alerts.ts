/**
 * Alerts in Home Assistant, pure: one retained JSON document per device on
 * `<base>/<device>/alerts` (and per CAN BMS node on `<base>/<device>/can/<id>/alerts`, read
 * by the node's own HA device), one `binary_sensor` (device_class problem) per alert rule and
 * one text sensor with the current message. Written by the alerts owner for the HA sink to
 * import; the entities read the alerts topic (source "alerts").
 *
 * The entities follow only the bridge's availability, not the device's: the "Data stale"
 * problem must stay visible exactly while the device is unavailable.
 */
import type { Alert } from "../../model/bus.js";
import { ALERT_RULES, ALERT_TITLES, type AlertRule } from "../../alerts/alerts.js";
import type { EntityDef } from "./entities.js";

/** The device's alerts document, or a CAN BMS node's (`<base>/<device>/can/<id>/alerts`). */
export const alertsTopic = (base: string, deviceId: string, canId?: number): string =>
  canId === undefined ? `${base}/${deviceId}/alerts` : `${base}/${deviceId}/can/${canId}/alerts`;

/** An entity that reads the alerts document instead of the state or connection topic. */
export type AlertEntityDef = Omit<EntityDef, "source"> & { readonly source: "alerts" };

/** HA caps a sensor state at 255 characters. */
const MAX_STATE = 255;

export interface AlertsDoc {
  /** True while any rule is active. */
  readonly problem: boolean;
  /** Active messages joined with "; " (≤ 255 chars), "" when none. */
  readonly message: string;
  /** Every rule, active or not, so templates never hit an undefined key. */
  readonly rules: Record<
    AlertRule,
    { readonly active: boolean; readonly message: string; readonly since?: string }
  >;
}

/** The document for a device's currently active alerts (as AlertSink.active() returns them). */
export function alertsDoc(active: readonly Alert[]): AlertsDoc {
  const byRule = new Map(active.filter((a) => a.active).map((a) => [a.rule, a]));
  const rules = Object.fromEntries(
    ALERT_RULES.map((rule) => {
      const a = byRule.get(rule);
      return [rule, a ? { active: true, message: a.message, since: a.time } : { active: false, message: "" }];
    }),
  ) as AlertsDoc["rules"];
  let message = ALERT_RULES.filter((r) => rules[r].active)
    .map((r) => `${ALERT_TITLES[r]}: ${rules[r].message}`)
    .join("; ");
  if (message.length > MAX_STATE) message = `${message.slice(0, MAX_STATE - 1)}…`;
  return { problem: byRule.size > 0, message, rules };
}

/** Entities of the alerts document: one problem binary_sensor per rule + the message. */
export function alertEntities(): AlertEntityDef[] {
  const common = { source: "alerts" as const, bridgeAvailabilityOnly: true };
  return [
    ...ALERT_RULES.map(
      (rule): AlertEntityDef => ({
        key: `alert_${rule}`,
        platform: "binary_sensor",
        name: ALERT_TITLES[rule],
        deviceClass: "problem",
        template: `{{ 'ON' if value_json.rules.${rule}.active else 'OFF' }}`,
        ...common,
      }),
    ),
    {
      key: "alert_message",
      platform: "sensor",
      name: "Alert",
      template: "{{ value_json.message if value_json.problem else 'none' }}",
      icon: "mdi:battery-alert",
      ...common,
    },
  ];
}
