// The daily bar chart of Settings → Usage and Settings → Dashboard: one bar a day, each a
// stack of parts, a value axis of round ticks (chart-scale.js), a date every few bars and
// a line in the middle when there is nothing to show. The two pages drew it with two
// copies of the same geometry; it lives here once. `dailyBars` is pure (plain shapes,
// unit-tested in tests/js); `drawDailyBars` turns them into inline SVG.

import { h, svg } from "./dom.js";

// Room for the date labels (bottom) and the ends of the grid lines (top, right).
const TOP = 10, RIGHT = 8, BOTTOM = 26;
const MIN_WIDTH = 280, FALLBACK_WIDTH = 900;
const drawnWidths = new WeakMap(); // chart box → the width it was last drawn at

/** A day's date ("2025-01-05") as a short label, the same in every time zone (UTC days). */
export function dayLabel(day, options = { month: "short", day: "numeric" }) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { ...options, timeZone: "UTC" });
}

/**
 * The shapes of a chart `width` × `height` with the value axis `left` pixels wide:
 * `ticks` from axisTicks, `days` (each with a `day` date), `parts(day, i)` the day's stack
 * from the bottom up as [{value, attrs, minHeight?, title?}], `empty` the line shown when
 * `hasData` is false. Returns {grid, bars, empty} in drawing coordinates.
 */
export function dailyBars({ width, height, left, days, ticks, parts, hasData, empty }) {
  const plotW = width - left - RIGHT, plotH = height - TOP - BOTTOM;
  const max = ticks[ticks.length - 1].value || 1;
  const base = TOP + plotH;
  const grid = ticks.map((tick) => ({ y: base - (plotH * tick.value) / max, label: tick.label }));
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.68));
  const labelEvery = Math.max(1, Math.ceil(days.length / Math.max(2, Math.floor(plotW / 64))));
  const bars = days.map((day, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    let y = base;
    const rects = parts(day, i).map((part) => {
      const hgt = (plotH * part.value) / max;
      y -= hgt;
      return { x, y, width: barW, height: Math.max(hgt, part.minHeight || 0), attrs: part.attrs, title: part.title };
    });
    return {
      day, index: i, rects,
      hit: { x: left + slot * i, y: TOP, width: slot, height: plotH },
      label: i % labelEvery === 0 ? { x: left + slot * i + slot / 2, y: height - 6, text: dayLabel(day.day) } : null,
    };
  });
  return {
    width, height, left, grid, bars,
    empty: hasData ? null : { x: left + plotW / 2, y: TOP + plotH / 2, text: empty },
  };
}

/** The width to draw a chart in `box` at: as wide as the box, so labels keep their size. */
export function chartWidth(box) {
  return Math.max(MIN_WIDTH, Math.round(box.clientWidth || FALLBACK_WIDTH));
}

/**
 * Draws `chart` (from dailyBars) into `box` as an SVG labelled `label`; `onBar(hit, bar)`,
 * when given, gets a transparent rectangle over each day's slot (for a tooltip).
 */
export function drawDailyBars(box, chart, { label, onBar } = {}) {
  const { width: W, height: H, left } = chart;
  drawnWidths.set(box, W);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  for (const line of chart.grid) {
    root.append(svg("line", { x1: left, x2: W - RIGHT, y1: line.y, y2: line.y, class: "grid-line" }),
      svg("text", { x: left - 8, y: line.y + 4, "text-anchor": "end", class: "axis-label value-label" }, line.label));
  }
  for (const bar of chart.bars) {
    for (const r of bar.rects) {
      root.append(svg("rect", { x: r.x, y: r.y, width: r.width, height: r.height, rx: 2, ...r.attrs },
        r.title ? svg("title", r.title) : null));
    }
    if (onBar) {
      const hit = svg("rect", { ...bar.hit, fill: "transparent" });
      onBar(hit, bar);
      root.append(hit);
    }
    if (bar.label) root.append(svg("text", { x: bar.label.x, y: bar.label.y, "text-anchor": "middle", class: "axis-label" }, bar.label.text));
  }
  if (chart.empty) {
    root.append(svg("text", { x: chart.empty.x, y: chart.empty.y, "text-anchor": "middle", class: "empty-chart" }, chart.empty.text));
  }
  box.replaceChildren(root);
}

/** The legend under a chart: a colour swatch and a name per [name, colour]. */
export function drawLegend(box, entries) {
  box.replaceChildren(...entries.map(([name, colour]) => h("span", h("i", { style: { background: colour } }), name)));
}

/** Re-draws the chart in `box` when the box changes width (and `ready()`: data is there). */
export function redrawOnResize(box, ready, redraw) {
  new ResizeObserver(([entry]) => {
    const width = Math.round(entry.contentRect.width);
    if (ready() && width && width !== drawnWidths.get(box)) { drawnWidths.set(box, width); redraw(); }
  }).observe(box);
}
