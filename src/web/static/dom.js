// Small DOM helpers and labels shared by the dashboard modules.
// Every string from the server goes in through text nodes, never innerHTML.
export const LINK_TEXT = {
  online: "online",
  stale: "stale",
  offline: "offline",
  connecting: "connecting",
  yielded: "VESC Tool connected",
};
export const RULE_TITLES = {
  cell_under_voltage: "Cell under voltage",
  cell_over_voltage: "Cell over voltage",
  cell_delta: "Cell delta high",
  temperature_high: "Temperature high",
  soc_low: "SOC low",
  cell_drift: "Cell drifting",
  cell_resistance_high: "Cell resistance high",
  stale: "Data stale",
};

export const $ = (id) => document.getElementById(id);
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}
export const num = (v, digits) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–");
