// Rendering of the device list, alerts banner, tiles, cell bars and CAN nodes. A BMS on CAN
// gets the same tiles and cell bars as the device's own BMS (bmsTiles, renderCells).
import { $, h, LINK_TEXT, num, RULE_TITLES } from "./dom.js";
import { label, shownOf, text, unit, valueIn, withUnit } from "./values.js";

/** BMS values the tiles below lay out; any other catalogue value the dashboard shows gets a tile of its own. */
const LAID_OUT = new Set([
  // The bridge's battery estimates laid out below: SOC gauge with its source, one runtime tile.
  "socEstimate",
  "timeToFull",
  "timeToEmpty",
  "packVoltage",
  "chargeVoltage",
  "packCurrent",
  "packPower",
  "soc",
  "soh",
  "icTemperature",
  "ampHoursChargedTotal",
  "wattHoursChargedTotal",
  "ampHoursDischargedTotal",
  "wattHoursDischargedTotal",
  "ampHours",
  "wattHours",
  // The bridge's verdict: a tile only while the BMS data is frozen.
  "bmsStale",
]);

export function linkOf(en) {
  return en.status ? en.status.link : en.reading ? "online" : "connecting";
}

export function renderAlerts(devices) {
  const box = $("alerts");
  const items = [];
  for (const [id, en] of [...devices.entries()].sort()) {
    for (const a of en.alerts.values()) {
      items.push(
        h(
          "div",
          {
            class: "alert",
            "data-testid": "alert",
            "data-rule": a.rule,
            "data-device": id,
            "data-can-id": a.canId,
          },
          h(
            "b",
            {},
            `${id}${a.canId === undefined ? "" : ` · CAN ${a.canId}`} · ${RULE_TITLES[a.rule] || a.rule}:`,
          ),
          a.message,
          h("span", { class: "when" }, a.time ? `since ${new Date(a.time).toLocaleTimeString()}` : ""),
        ),
      );
    }
  }
  box.replaceChildren(...items);
  box.hidden = items.length === 0;
}

export function renderDeviceList(devices, ids, selected, onSelect) {
  const nav = $("devices");
  nav.replaceChildren(
    ...ids.map((id) => {
      const en = devices.get(id);
      const link = linkOf(en);
      const soc = en.reading?.bms?.soc;
      return h(
        "button",
        {
          type: "button",
          class: "device-item",
          "data-testid": "device-item",
          "data-device": id,
          "data-link": link,
          "aria-current": id === selected ? "true" : "false",
          onclick: () => onSelect(id),
        },
        h("span", { class: "link-dot", title: LINK_TEXT[link] || link }),
        h("span", { class: "name" }, id),
        h(
          "span",
          { class: "state" },
          typeof soc === "number" ? `${Math.round(soc)} %` : LINK_TEXT[link] || link,
        ),
      );
    }),
  );
}

function tile(key, label, value, unit, sub, extra) {
  return h(
    "div",
    { class: `tile ${key}`, "data-testid": `tile-${key}` },
    h("div", { class: "k" }, label),
    h("div", { class: "v", "data-testid": `value-${key}` }, value, unit ? h("small", {}, unit) : null),
    sub ? h("div", { class: "sub" }, sub) : null,
    extra,
  );
}

export function renderDevice(id, en) {
  const r = en.reading;
  const link = linkOf(en);
  $("device-name").textContent = id;
  const badge = $("device-link");
  badge.dataset.link = link;
  badge.textContent = LINK_TEXT[link] || link;
  const d = r?.device;
  $("device-meta").textContent = d ? `${d.hardware} · FW ${d.firmware}` : en.status ? en.status.url : "";
  const upd = $("last-update");
  upd.dataset.time = r ? r.time : "";
  upd.textContent = r ? `updated ${new Date(r.time).toLocaleTimeString()}` : "no reading yet";

  const b = r?.bms;
  $("tiles").replaceChildren(...(b ? bmsTiles(b) : []));
  renderCells(b, $("cells"), $("cell-summary"));
  renderBmsNodes(r);
  renderMotors(r);
}

/** The tiles of one BMS: the device's own (reading.bms) or a CAN node's (can[id].bms). */
function bmsTiles(b) {
  const tiles = [];
  // packCurrent/packPower: the current the BMS measures (i_in_ic unless only i_in reads).
  const current = b.packCurrent;
  const power = b.packPower;
  tiles.push(
    tile(
      "packVoltage",
      label("packVoltage"),
      text("packVoltage", b.packVoltage),
      unit("packVoltage"),
      `${label("chargeVoltage")} ${withUnit("chargeVoltage", b.chargeVoltage)}`,
    ),
  );
  tiles.push(
    tile(
      "current",
      label("packCurrent"),
      text("packCurrent", current),
      unit("packCurrent"),
      typeof current !== "number"
        ? ""
        : current > 0.05
          ? "charging"
          : current < -0.05
            ? "discharging"
            : "idle",
    ),
  );
  tiles.push(tile("power", label("packPower"), text("packPower", power), unit("packPower")));
  // The bridge says which sensors are measured and which are stuck (bms.fitted / bms.stuck).
  const fittedT = b.fitted ? b.fitted.temperatures : null;
  const stuckT = b.stuck ? b.stuck.temperatures : [];
  if (typeof b.soc === "number" && (!b.fitted || b.fitted.soc))
    tiles.push(
      tile(
        "soc",
        label("soc"),
        text("soc", b.soc),
        unit("soc"),
        null,
        h("div", { class: "gauge" }, h("i", { style: `width:${Math.max(0, Math.min(100, b.soc))}%` })),
      ),
    );
  const est = b.battery;
  // The BMS's own SOC when it measures one (above), else the bridge's estimate as the gauge.
  if (est && typeof est.socEstimatePercent === "number") {
    const bmsShown = typeof est.bmsSocPercent === "number";
    const soc = est.socEstimatePercent;
    const how = `${est.socMethod || "estimate"}${est.calibrated ? "" : ", not calibrated yet"}`;
    tiles.push(
      tile(
        "soc-estimate",
        label("socEstimate"),
        text("socEstimate", soc),
        unit("socEstimate"),
        bmsShown
          ? `bridge estimate (${how}) · BMS says ${text("soc", est.bmsSocPercent)} %`
          : `bridge estimate (${how})`,
        bmsShown
          ? null
          : h("div", { class: "gauge" }, h("i", { style: `width:${Math.max(0, Math.min(100, soc))}%` })),
      ),
    );
  }
  if (est && (est.charging || est.discharging)) {
    const id = est.charging ? "timeToFull" : "timeToEmpty";
    const s = est.charging ? est.timeToFullS : est.timeToEmptyS;
    tiles.push(tile("runtime", label(id), text(id, s), unit(id), est.charging ? "charging" : "discharging"));
  }
  if (typeof b.soh === "number") tiles.push(tile("soh", label("soh"), text("soh", b.soh), unit("soh")));
  const shown = b.temperatures.map((t, i) => [t, i + 1]).filter(([, n]) => !fittedT || fittedT.includes(n));
  const temps = shown
    .map(([t, n]) => `T${n} ${num(t, 1)}${stuckT.includes(n) ? " (stuck)" : ""}`)
    .join(" · ");
  // null = not applicable / implausible: shown as "–", never the maximum; nor is a stuck sensor.
  const known = shown.filter(([t, n]) => typeof t === "number" && !stuckT.includes(n)).map(([t]) => t);
  const tmax = known.length ? Math.max(...known) : b.icTemperature;
  tiles.push(
    tile(
      "temperature",
      "Temperature",
      num(tmax, 1),
      "°C",
      `${temps}${temps ? " · " : ""}${label("icTemperature")} ${text("icTemperature", b.icTemperature)}`,
    ),
  );
  if (b.stale)
    tiles.push(
      tile(
        "bms-stale",
        label("bmsStale"),
        "frozen",
        "",
        "reply unchanged: the Express repeats a cached reading",
      ),
    );
  if (typeof b.ampHoursChargedTotal === "number")
    tiles.push(
      tile(
        "charged",
        label("ampHoursChargedTotal"),
        text("ampHoursChargedTotal", b.ampHoursChargedTotal),
        unit("ampHoursChargedTotal"),
        withUnit("wattHoursChargedTotal", b.wattHoursChargedTotal || 0),
      ),
    );
  if (typeof b.ampHoursDischargedTotal === "number")
    tiles.push(
      tile(
        "discharged",
        label("ampHoursDischargedTotal"),
        text("ampHoursDischargedTotal", b.ampHoursDischargedTotal),
        unit("ampHoursDischargedTotal"),
        withUnit("wattHoursDischargedTotal", b.wattHoursDischargedTotal || 0),
      ),
    );
  tiles.push(
    tile(
      "counters",
      label("ampHours"),
      text("ampHours", b.ampHours),
      unit("ampHours"),
      withUnit("wattHours", b.wattHours),
    ),
  );
  // Every non-motor value reads from the BMS part (bms, bms.stats, bms.<group>).
  for (const v of shownOf().filter((x) => x.source !== "motor")) {
    if (LAID_OUT.has(v.id)) continue;
    const x = valueIn(v, b);
    if (x !== undefined) tiles.push(tile(v.id, label(v.id), text(v.id, x), unit(v.id)));
  }
  return tiles;
}

/**
 * Each BMS on CAN as its own panel: tiles and cell bars as for the device's BMS. Built, put in
 * the page, then filled: the bar layout reads the box's width.
 */
function renderBmsNodes(r) {
  const nodes = r?.can ? Object.values(r.can).filter((n) => n.kind === "bms") : [];
  $("bms-nodes-card").hidden = nodes.length === 0;
  const panels = nodes.map((n) => {
    const summary = h("div", { class: "cell-summary", "data-testid": "cell-summary" });
    const cells = h("div", { class: "cells", "data-testid": "cells" });
    const body = n.error
      ? [h("div", { class: "fault" }, n.error)]
      : [
          h("div", { class: "tiles", "data-testid": "tiles" }, ...(n.bms ? bmsTiles(n.bms) : [])),
          h("div", { class: "card-head" }, h("h3", {}, "Cells"), summary),
          cells,
        ];
    const el = h(
      "div",
      { class: "bms-node", "data-testid": "bms-node", "data-can-id": n.canId },
      h("h3", {}, `CAN ${n.canId}${n.device ? ` · ${n.device.hardware}` : ""}`),
      ...body,
    );
    return { el, fill: n.error ? null : () => renderCells(n.bms, cells, summary) };
  });
  $("bms-nodes").replaceChildren(...panels.map((p) => p.el));
  for (const p of panels) p.fill?.();
}

function renderCells(b, box, summary) {
  const cells = b?.cells || [];
  if (cells.length === 0) {
    box.replaceChildren(h("div", { class: "empty" }, "No cell data"));
    summary.textContent = "";
    return;
  }
  // A null cell is an implausible reading: no bar height, not in min/max/average.
  let lo = -1;
  let hi = -1;
  let sum = 0;
  let count = 0;
  cells.forEach((v, i) => {
    if (typeof v !== "number") return;
    if (lo < 0 || v < cells[lo]) lo = i;
    if (hi < 0 || v > cells[hi]) hi = i;
    sum += v;
    count++;
  });
  if (count === 0) {
    box.replaceChildren(h("div", { class: "empty" }, "No plausible cell data"));
    summary.textContent = "";
    return;
  }
  const min = cells[lo];
  const max = cells[hi];
  const delta = max - min;
  const avg = sum / count;
  // Scale around the pack's own spread so a 5 mV difference is visible, with a floor
  // so a perfectly balanced pack does not look like a wildly uneven one.
  const pad = Math.max(delta * 0.35, 0.004);
  const bottom = min - pad;
  const span = max + pad - bottom;
  const balancing = b.balancing || [];
  summary.replaceChildren(
    "Δ ",
    h("b", { "data-testid": "cell-delta" }, `${Math.round(delta * 1000)} mV`),
    ` · min cell ${lo + 1} ${num(min, 3)} V · max cell ${hi + 1} ${num(max, 3)} V · avg ${num(avg, 3)} V`,
    balancing.some(Boolean) ? ` · balancing ${balancing.filter(Boolean).length}` : "",
    b.battery?.weakestCell ? ` · ${label("weakestCell")} ${b.battery.weakestCell}` : "",
  );
  // The bridge's per-cell estimates (bms.battery): internal resistance and drift from the mean at rest.
  const ir = b.battery?.cellResistanceOhm || [];
  const drift = b.battery?.cellDriftV || [];
  const cellHealth = (i) =>
    [
      typeof ir[i] === "number" ? `${num(ir[i] * 1000, 1)} mΩ` : "",
      typeof drift[i] === "number" ? `drift ${Math.round(drift[i] * 1000)} mV` : "",
    ]
      .filter(Boolean)
      .join(", ");
  const bars = cells.map((v, i) => {
    const bal = Boolean(balancing[i]);
    const cls = [
      "cell",
      i === lo && delta > 0 ? "min" : "",
      i === hi && delta > 0 ? "max" : "",
      bal ? "bal" : "",
    ];
    const known = typeof v === "number";
    const pct = known ? 12 + 88 * ((v - bottom) / span) : 0;
    const mv = known ? Math.round(v * 1000) : "–";
    return h(
      "div",
      {
        class: cls.filter(Boolean).join(" "),
        "data-testid": "cell-bar",
        "data-cell": i + 1,
        "data-mv": mv,
        "data-balancing": bal ? "true" : "false",
        "data-resistance-mohm": typeof ir[i] === "number" ? num(ir[i] * 1000, 1) : "",
        "data-drift-mv": typeof drift[i] === "number" ? String(Math.round(drift[i] * 1000)) : "",
        title: `${
          known
            ? `cell ${i + 1}: ${num(v, 3)} V (${Math.round((v - avg) * 1000)} mV vs average)${bal ? ", balancing" : ""}`
            : `cell ${i + 1}: implausible reading`
        }${cellHealth(i) ? ` · ${cellHealth(i)}` : ""}`,
      },
      h(
        "div",
        { class: "bar" },
        h("div", { class: "fill", style: `height:${pct.toFixed(1)}%` }),
        bal ? h("span", { class: "badge" }, "⇅") : null,
      ),
      h("div", { class: "mv" }, String(mv)),
      h("div", { class: "n" }, `#${i + 1}`),
    );
  });
  box.replaceChildren(...bars);
  // Equal rows (20 cells on a phone: 2 × 10, not 9 + 9 + 2), each bar at least ~30 px wide.
  const perRow = Math.max(1, Math.floor((box.clientWidth || 800) / 30));
  const rows = Math.ceil(cells.length / perRow);
  box.style.gridTemplateColumns = `repeat(${Math.ceil(cells.length / rows)}, minmax(0, 1fr))`;
}

function renderMotors(r) {
  const nodes = r?.can ? Object.values(r.can).filter((n) => n.kind === "motor") : [];
  $("motors-card").hidden = nodes.length === 0;
  $("motors").replaceChildren(
    ...nodes.map((n) => {
      const v = n.values || {};
      const row = (k, val) => [h("dt", {}, k), h("dd", {}, val)];
      const fault = v.faultName && v.faultName !== "FAULT_CODE_NONE";
      return h(
        "div",
        { class: "motor", "data-testid": "motor-node", "data-can-id": n.canId },
        h("h3", {}, `CAN ${n.canId}${n.device ? ` · ${n.device.hardware}` : ""}`),
        n.error
          ? h("div", { class: "fault" }, n.error)
          : h(
              "dl",
              {},
              ...shownOf("motor").map((m) =>
                m.field === "faultName"
                  ? row(label(m.id), h("span", { class: fault ? "fault" : "" }, v.faultName || "–"))
                  : row(label(m.id), withUnit(m.id, valueIn(m, v))),
              ),
            ),
        n.error || !n.ride ? null : ridePanel(n),
      );
    }),
  );
}

/** A motor node's ride panel: speed, trip, odometer, state and the footpads, labelled by the catalogue. */
function ridePanel(n) {
  const byField = new Map(shownOf("ride").map((m) => [m.field, m]));
  const title = (field) => (byField.has(field) ? label(byField.get(field).id) : field);
  const shown = (field) => {
    const m = byField.get(field);
    return m ? withUnit(m.id, valueIn(m, n)) : "–";
  };
  const speed = n.ride.speedMph !== undefined ? "speedMph" : "speedKmh";
  const pad = (field, testid) =>
    h(
      "span",
      {
        class: n.ride[field] ? "pad on" : "pad",
        "data-testid": testid,
        "data-on": String(Boolean(n.ride[field])),
      },
      title(field),
    );
  return h(
    "div",
    { class: "ride", "data-testid": "ride-panel" },
    h("div", { class: "ride-speed", "data-testid": "ride-speed" }, shown(speed)),
    h(
      "dl",
      {},
      ...["tripKm", "odometerKm", "state", "batteryPercent", "whPerKm"].flatMap((f) => [
        h("dt", {}, title(f)),
        h("dd", { "data-testid": `ride-${f}` }, shown(f)),
      ]),
    ),
    h("div", { class: "pads" }, pad("footpadLeft", "footpad-left"), pad("footpadRight", "footpad-right")),
  );
}

/** The hub panel: hidden unless the bridge hosts a VESC Hub. */
export function renderHub(snap) {
  const el = $("hub");
  el.hidden = !snap?.enabled;
  if (!snap?.enabled) return;
  const kib = (n) => `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KiB`;
  const rows = snap.deviceList.map((d) =>
    h(
      "li",
      { "data-testid": "hub-device", "data-id": d.id },
      h("span", { class: "hub-id" }, d.id),
      h(
        "span",
        { class: `hub-tool ${d.clientAttached ? "on" : ""}` },
        d.clientAttached ? "VESC Tool attached" : "no tool",
      ),
      h("span", { class: "hub-bytes" }, `↓ ${kib(d.bytesToDevice)} · ↑ ${kib(d.bytesToClient)}`),
    ),
  );
  const at = snap.listening ? `port ${snap.listening.port}` : "not listening";
  el.replaceChildren(
    h("h2", {}, "VESC Hub"),
    h(
      "p",
      { class: "hub-summary" },
      `${at} · ${snap.devices} device${snap.devices === 1 ? "" : "s"} · ${snap.clients} tool${snap.clients === 1 ? "" : "s"}`,
    ),
    h("ul", {}, rows),
  );
}
