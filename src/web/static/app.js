// vesc2mqtt dashboard: plain browser JS modules, no build step. Live data over Server-Sent
// Events (api/events), history from api/history and api/devices/:id/cell-drift, charts with
// uPlot (from node_modules).
// This module holds the state and the wiring; views.js renders, charts.js draws.
// Every URL is relative to the page, so the dashboard also works under a path prefix
// (Home Assistant ingress, a reverse proxy's sub-path).
import { appendReading, rebuildCharts, setDrift, setHistory } from "./charts.js";
import { $, h, num } from "./dom.js";
import { loadValues } from "./values.js";
import { renderAlerts, renderDevice, renderDeviceList, renderHub } from "./views.js";

const RANGES = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };

// --- token: taken from ?token= once, kept for this tab, removed from the address bar ---
const params = new URLSearchParams(location.search);
let token = sessionStorage.getItem("vesc2mqtt.token");
if (params.has("token")) {
  token = params.get("token");
  sessionStorage.setItem("vesc2mqtt.token", token);
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}
const withToken = (path) =>
  token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;

/** deviceId → { status, reading, alerts: Map(alertKey → alert) } */
const devices = new Map();
/** A CAN BMS node's alerts (canId set) are its own, not the device's rule of the same name. */
const alertKey = (a) => (a.canId === undefined ? a.rule : `can${a.canId}/${a.rule}`);
let selected = decodeURIComponent((location.hash.match(/device=([^&]+)/) || [])[1] || "") || null;
let range = "1h";
let renderQueued = false;

function entry(id) {
  if (!devices.has(id)) devices.set(id, { alerts: new Map() });
  return devices.get(id);
}

// --- live events ---
function setLive(state) {
  const el = document.querySelector("[data-testid=live-indicator]");
  el.dataset.state = state;
  el.querySelector(".label").textContent = state;
}

// Beyond this many devices the stream carries readings of the shown device only
// (statuses and alerts of all): a fleet of thousands would otherwise flood the browser.
const FLEET = 25;
let fleet = false;
let source = null;
let retryMs = 1000;
function connect() {
  if (source) source.close();
  const only = fleet && selected ? `?device=${encodeURIComponent(selected)}` : "";
  const es = new EventSource(withToken(`api/events${only}`));
  source = es;
  es.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    devices.clear();
    for (const d of snap.devices) {
      const en = entry(d.deviceId);
      en.status = d.status;
      en.reading = d.reading;
      for (const a of d.alerts) en.alerts.set(alertKey(a), a);
    }
    retryMs = 1000;
    setLive("live");
    queueRender();
    if (!fleet && devices.size > FLEET) {
      fleet = true;
      connect();
    }
  });
  es.addEventListener("reading", (e) => {
    const r = JSON.parse(e.data);
    entry(r.deviceId).reading = r;
    // The 1 h range follows live; longer ranges refresh each minute.
    if (r.deviceId === selected && range === "1h" && !appendReading(r, RANGES["1h"])) loadHistory();
    queueRender();
  });
  es.addEventListener("status", (e) => {
    const s = JSON.parse(e.data);
    entry(s.deviceId).status = s;
    queueRender();
  });
  es.addEventListener("alert", (e) => {
    const a = JSON.parse(e.data);
    const en = entry(a.deviceId);
    if (a.active) en.alerts.set(alertKey(a), a);
    else en.alerts.delete(alertKey(a));
    queueRender();
  });
  es.onopen = () => setLive("live");
  es.onerror = () => {
    setLive("reconnecting");
    // EventSource retries by itself after a dropped stream, but gives up for good on an
    // HTTP error (server restarting behind a proxy, 401): then we retry with backoff.
    if (es.readyState === EventSource.CLOSED && source === es) {
      setTimeout(() => {
        if (source === es) connect();
      }, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
      checkAuth();
    }
  };
}

async function checkAuth() {
  const res = await fetch(withToken("api/devices")).catch(() => undefined);
  if (res && res.status === 401) {
    $("empty").hidden = false;
    $("empty").textContent = "Access token required: open this page as /?token=YOUR_TOKEN";
  }
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

// --- rendering ---
function render() {
  const ids = [...devices.keys()].sort();
  if (!selected || !devices.has(selected)) {
    const first = ids[0] || null;
    if (first !== selected) select(first, false);
  }
  renderAlerts(devices);
  renderDeviceList(devices, ids, selected, (id) => select(id, true));
  const en = selected && devices.get(selected);
  $("empty").hidden = Boolean(en);
  $("device").hidden = !en;
  if (en) renderDevice(selected, en);
}

function select(id, user) {
  if (id === selected && !user) return;
  const changed = id !== selected;
  selected = id;
  if (user)
    history.replaceState(
      null,
      "",
      `${location.pathname}${location.search}${id ? `#device=${encodeURIComponent(id)}` : ""}`,
    );
  if (changed) {
    loadHistory();
    loadDrift();
    if (fleet) connect();
  }
  queueRender();
}

let historySeq = 0;
async function loadHistory() {
  const id = selected;
  const seq = ++historySeq;
  if (!id) return;
  const to = Date.now();
  const from = to - RANGES[range];
  const q = `device=${encodeURIComponent(id)}&from=${from}&to=${to}`;
  $("csv").href = withToken(`api/history.csv?${q}`);
  const res = await fetch(withToken(`api/history?${q}&maxPoints=720`)).catch(() => undefined);
  if (seq !== historySeq) return;
  if (!res?.ok) {
    const body = res ? await res.json().catch(() => ({})) : {};
    $("chart-note").textContent = `History unavailable${body.error ? `: ${body.error}` : ""}`;
    setHistory(null);
  } else {
    const hist = await res.json();
    setHistory(hist);
    $("chart-note").textContent =
      hist.bucketMs > 0
        ? `${hist.rows} readings, averaged over ${Math.round(hist.bucketMs / 1000)} s`
        : `${hist.rows} readings`;
  }
}

for (const btn of document.querySelectorAll(".ranges button[data-range]")) {
  btn.addEventListener("click", () => {
    range = btn.dataset.range;
    for (const b of document.querySelectorAll(".ranges button[data-range]"))
      b.setAttribute("aria-pressed", String(b === btn));
    loadHistory();
  });
}

// --- cell drift at rest over days (api/devices/:id/cell-drift): slow, so reloaded every 5 min ---
let driftDays = 30;
let driftSeq = 0;
async function loadDrift() {
  const id = selected;
  const seq = ++driftSeq;
  if (!id) return;
  const url = `api/devices/${encodeURIComponent(id)}/cell-drift?days=${driftDays}`;
  const res = await fetch(withToken(url)).catch(() => undefined);
  if (seq !== driftSeq) return;
  const note = $("drift-note");
  if (!res?.ok) {
    const body = res ? await res.json().catch(() => ({})) : {};
    note.textContent = `Drift unavailable${body.error ? `: ${body.error}` : ""}`;
    setDrift(null);
    return;
  }
  const d = await res.json();
  setDrift(d);
  const rest = `at rest (|I| ≤ ${d.restCurrentA} A)`;
  const span = `${d.days} day${d.days === 1 ? "" : "s"}`;
  const m = d.mostDrifting;
  const mv = (v) => `${v > 0 ? "+" : ""}${num(v, 1)} mV`;
  if (d.points.length === 0) note.textContent = `No readings ${rest} in the last ${span}`;
  else if (!m) note.textContent = `Every cell within 1 mV of the pack mean ${rest} · last ${span}`;
  else
    note.replaceChildren(
      "Most drifting: ",
      h("b", { "data-testid": "drift-cell", "data-cell": m.cell }, `cell ${m.cell}`),
      ` ${mv(m.driftMv)} from the pack mean (${mv(m.changeMv)} over ${span}) · ${d.points.length} ${
        d.bucketMs >= 86400e3 ? "days" : "hours"
      } with readings ${rest}`,
    );
}
for (const btn of document.querySelectorAll("[data-drift-days]")) {
  btn.addEventListener("click", () => {
    driftDays = Number(btn.dataset.driftDays);
    for (const b of document.querySelectorAll("[data-drift-days]"))
      b.setAttribute("aria-pressed", String(b === btn));
    loadDrift();
  });
}
setInterval(loadDrift, 5 * 60000);
setInterval(() => {
  if (range !== "1h") loadHistory();
}, 60000);
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  rebuildCharts();
});

// The hosted VESC Hub (if any): devices registered, VESC Tool attached, bytes relayed.
async function loadHub() {
  const res = await fetch(withToken("api/hub")).catch(() => undefined);
  if (res?.ok) renderHub(await res.json());
}
setInterval(loadHub, 5000);

// Labels and units first: every tile, row and chart legend reads them.
await loadValues(withToken("api/values"));
connect();
loadHistory();
loadDrift();
loadHub();
