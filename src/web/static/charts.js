// History charts (uPlot, loaded as a classic script that defines the global uPlot).
import { $ } from "./dom.js";
import { label, unit } from "./values.js";

/** The chart set (rebuilt when the cell count or the colour scheme changes) and its data. */
let charts = null;
let historyData = null;
const EMPTY = () => ({
  t: [],
  packVoltage: [],
  current: [],
  soc: [],
  deltaMv: [],
  cells: [],
  speed: [],
  trip: [],
  speedId: "ride.speedKmh",
});

/** uPlot puts the cursor at a negative left while the pointer is off the plot. */
const cursorAway = (u) => !(u.cursor.left >= 0);

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function axis(scale, side, label) {
  return {
    scale,
    side,
    label,
    stroke: css("--muted"),
    grid: { stroke: css("--grid"), width: 1 },
    ticks: { stroke: css("--grid"), width: 1 },
    size: 52,
    labelSize: 18,
  };
}

function line(label, stroke, scale, unit, digits) {
  return {
    label,
    stroke,
    scale,
    width: 1.5,
    spanGaps: false,
    value: (_u, v) => (v === null || v === undefined ? "–" : `${v.toFixed(digits)} ${unit}`),
  };
}

function makeChart(el, series, axes, scales, height, watchers = observers) {
  const opts = {
    width: Math.max(el.clientWidth, 200),
    height,
    scales: { x: { time: true }, ...scales },
    series: [{}, ...series],
    axes: [
      {
        stroke: css("--muted"),
        grid: { stroke: css("--grid"), width: 1 },
        ticks: { stroke: css("--grid"), width: 1 },
      },
      ...axes,
    ],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
  };
  el.replaceChildren();
  const u = new uPlot(opts, [[]], el);
  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
  ro.observe(el);
  watchers.push(ro);
  return u;
}

const observers = [];
function buildCharts(cellCount, speedId) {
  if (typeof uPlot === "undefined") return null;
  for (const ro of observers.splice(0)) ro.disconnect();
  const accent = css("--accent");
  const warn = css("--warn");
  const ok = css("--ok");
  const bad = css("--bad");
  return {
    cellCount,
    speedId,
    pack: makeChart(
      $("chart-pack"),
      [
        line(label("packVoltage"), accent, "V", unit("packVoltage"), 2),
        line(label("packCurrent"), warn, "A", unit("packCurrent"), 2),
      ],
      [axis("V", 3, unit("packVoltage")), axis("A", 1, unit("packCurrent"))],
      { V: { auto: true }, A: { auto: true } },
      200,
    ),
    soc: makeChart(
      $("chart-soc"),
      [line(label("soc"), ok, "%", unit("soc"), 1)],
      [axis("%", 3, unit("soc"))],
      { "%": { range: [0, 100] } },
      200,
    ),
    delta: makeChart(
      $("chart-delta"),
      [line(label("cellDelta"), bad, "mV", unit("cellDelta"), 0)],
      [axis("mV", 3, unit("cellDelta"))],
      { mV: { auto: true } },
      200,
    ),
    cells: makeChart(
      $("chart-cells"),
      Array.from({ length: cellCount }, (_, i) =>
        line(`${i + 1}`, `hsl(${Math.round((i * 360) / Math.max(cellCount, 1))} 65% 52%)`, "V", "V", 3),
      ),
      [axis("V", 3, "V")],
      { V: { auto: true } },
      280,
    ),
    // A board's ride (src/values/ride.ts): speed and the trip since the controller booted.
    ride: makeChart(
      $("chart-ride"),
      [
        line(label(speedId), accent, "speed", unit(speedId), 1),
        line(label("ride.tripKm"), ok, "km", unit("ride.tripKm"), 2),
      ],
      [axis("speed", 3, unit(speedId)), axis("km", 1, unit("ride.tripKm"))],
      { speed: { auto: true }, km: { auto: true } },
      200,
    ),
  };
}

/** The ride series of a history answer, keyed by catalogue id; mph when the board sends mph. */
function rideSeries(s, n) {
  const none = () => new Array(n).fill(null);
  const mph = (s["ride.speedMph"] || []).some((v) => v !== null);
  const speedId = mph ? "ride.speedMph" : "ride.speedKmh";
  return { speedId, speed: s[speedId] || none(), trip: s["ride.tripKm"] || none() };
}

/** The ride values of a live reading: its first CAN node with any (as the history stores). */
const rideOf = (r) => Object.values(r.can || {}).find((n) => n.ride)?.ride;

function seriesFromHistory(hist) {
  if (!hist) return EMPTY();
  const t = hist.time.map((ms) => ms / 1000);
  const s = hist.series;
  return {
    t,
    packVoltage: s.packVoltage,
    // The current the BMS measures (model/bmsReading.ts packCurrent): i_in_ic unless only i_in reads.
    current: s.current.map((i, k) => {
      const ic = s.currentIc ? s.currentIc[k] : null;
      return (ic === null || ic === 0) && i !== null && i !== 0 ? i : ic;
    }),
    soc: s.soc,
    deltaMv: s.cellDelta.map((v) => (v === null ? null : v * 1000)),
    cells: hist.cells,
    ...rideSeries(s, t.length),
  };
}

export function drawCharts() {
  if (!historyData) return;
  const n = historyData.cells.length;
  if (!charts || charts.cellCount !== n || charts.speedId !== historyData.speedId)
    charts = buildCharts(n, historyData.speedId);
  if (!charts) return;
  const d = historyData;
  charts.pack.setData([d.t, d.packVoltage, d.current]);
  charts.soc.setData([d.t, d.soc]);
  charts.delta.setData([d.t, d.deltaMv]);
  charts.cells.setData([d.t, ...d.cells]);
  charts.ride.setData([d.t, d.speed, d.trip]);
  $("ride-figure").hidden = !d.speed.some((v) => v !== null) && !d.trip.some((v) => v !== null);
  // With the cursor away, legends show the newest values instead of dashes: set after
  // uPlot's commit of the new data (a microtask), which resets the legend to the cursor's.
  const last = d.t.length - 1;
  const shown = [charts.pack, charts.soc, charts.delta, charts.cells, charts.ride];
  if (last >= 0)
    queueMicrotask(() => {
      for (const u of shown) if (cursorAway(u)) u.setLegend({ idx: last });
    });
  for (const id of ["chart-pack", "chart-soc", "chart-delta", "chart-cells", "chart-ride"])
    $(id).dataset.points = String(d.t.length);
}

/** Shows a /api/history answer (null = none available). */
export function setHistory(hist) {
  historyData = seriesFromHistory(hist);
  drawCharts();
}

/** Colours come from CSS variables: rebuild after the colour scheme changed. */
export function rebuildCharts() {
  charts = null;
  drawCharts();
  drift = null;
  drawDrift();
}

// --- the cell drift chart: its own data (api/devices/:id/cell-drift) and reload rhythm ---
let drift = null;
let driftData = null;
const driftObservers = [];

/** One thin line per cell; the most drifting cell thick, in the alarm colour, and named in its label. */
function buildDrift(cellCount, hot) {
  if (typeof uPlot === "undefined") return null;
  for (const ro of driftObservers.splice(0)) ro.disconnect();
  const bad = css("--bad");
  const series = Array.from({ length: cellCount }, (_, i) => {
    const isHot = i + 1 === hot;
    const hue = Math.round((i * 360) / Math.max(cellCount, 1));
    return {
      ...line(
        isHot ? `${i + 1} (most drift)` : `${i + 1}`,
        isHot ? bad : `hsl(${hue} 55% 55% / 0.55)`,
        "mV",
        "mV",
        1,
      ),
      width: isHot ? 3 : 1,
    };
  });
  const u = makeChart(
    $("chart-drift"),
    series,
    [axis("mV", 3, "mV vs mean")],
    { mV: { auto: true } },
    220,
    driftObservers,
  );
  return { cellCount, hot, u };
}

function drawDrift() {
  const d = driftData;
  const n = d ? d.cells : 0;
  const hot = d?.mostDrifting ? d.mostDrifting.cell : 0;
  if (!drift || drift.cellCount !== n || drift.hot !== hot) drift = buildDrift(n, hot);
  if (!drift) return;
  const points = d ? d.points : [];
  const t = points.map((p) => p.t / 1000);
  drift.u.setData([t, ...Array.from({ length: n }, (_, i) => points.map((p) => p.driftMv[i]))]);
  // After uPlot's own commit of the new data (a microtask), which resets the legend to dashes.
  const u = drift.u;
  if (t.length > 0)
    queueMicrotask(() => {
      if (cursorAway(u)) u.setLegend({ idx: t.length - 1 });
    });
  const el = $("chart-drift");
  el.dataset.points = String(t.length);
  el.dataset.series = String(n);
  el.dataset.highlight = hot ? String(hot) : "";
}

/** Shows a cell-drift answer (null = none available). */
export function setDrift(answer) {
  driftData = answer;
  drawDrift();
}

/**
 * Appends a live reading to the shown range, dropping points older than `windowMs`.
 * Returns false when the data no longer fits (cell count changed): reload the history.
 */
export function appendReading(r, windowMs) {
  if (!historyData || !r.bms) return true;
  const d = historyData;
  const cells = r.bms.cells;
  if (d.cells.length !== cells.length) return false;
  const t = Date.parse(r.time) / 1000;
  if (d.t.length && t <= d.t[d.t.length - 1]) return true;
  d.t.push(t);
  d.packVoltage.push(r.bms.packVoltage);
  d.current.push(r.bms.packCurrent);
  d.soc.push(typeof r.bms.soc === "number" ? r.bms.soc : null);
  d.deltaMv.push(r.bms.stats ? r.bms.stats.cellDelta * 1000 : null);
  const ride = rideOf(r);
  d.speed.push(typeof ride?.[d.speedId.slice(5)] === "number" ? ride[d.speedId.slice(5)] : null);
  d.trip.push(typeof ride?.tripKm === "number" ? ride.tripKm : null);
  cells.forEach((v, i) => {
    d.cells[i].push(v);
  });
  const cutoff = t - windowMs / 1000;
  while (d.t.length && d.t[0] < cutoff) {
    d.t.shift();
    d.packVoltage.shift();
    d.current.shift();
    d.soc.shift();
    d.deltaMv.shift();
    d.speed.shift();
    d.trip.shift();
    for (const c of d.cells) c.shift();
  }
  drawCharts();
  return true;
}
