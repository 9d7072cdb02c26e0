// The daily bar chart's geometry (static/js/bar-chart.js), shared by Settings → Usage and
// Settings → Dashboard.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dailyBars, dayLabel } from "../../src/switchboard/web/static/js/bar-chart.js";
import { axisTicks } from "../../src/switchboard/web/static/js/chart-scale.js";

const days = (values) => values.map((v, i) => ({ day: `2025-01-${String(i + 1).padStart(2, "0")}`, v }));
const chart = (values, extra = {}) => dailyBars({
  width: 400, height: 236, left: 50, days: days(values),
  ticks: axisTicks(Math.max(0, ...values), { integer: true }),
  parts: (day) => [{ value: day.v, attrs: { fill: "red" } }],
  hasData: values.some((v) => v > 0), empty: "Nothing", ...extra,
});

test("bars stand on the axis and the tallest reaches the top tick", () => {
  // plot: 400 - 50 - 8 = 342 wide, 236 - 10 - 26 = 200 high; ticks 0..4 (max 4)
  const c = chart([1, 4, 0]);
  assert.deepEqual(c.grid.map((g) => g.y), [210, 160, 110, 60, 10]);
  assert.deepEqual(c.grid.map((g) => g.label), ["0", "1", "2", "3", "4"]);
  const [a, b, z] = c.bars.map((bar) => bar.rects[0]);
  assert.equal(a.y + a.height, 210);
  assert.equal(a.height, 50);
  assert.equal(b.y, 10);
  assert.equal(z.height, 0);
  assert.equal(c.bars[1].hit.x, 50 + 342 / 3);
  assert.equal(c.bars[1].hit.height, 200);
  assert.equal(a.width, 28); // a wide slot's bar is capped
  assert.equal(c.empty, null);
});

test("stacked parts sit on each other and a minimum height keeps tiny parts visible", () => {
  const c = chart([4], { parts: () => [{ value: 3 }, { value: 1 }, { value: 0.0001, minHeight: 0.5 }] });
  const [low, high, tiny] = c.bars[0].rects;
  assert.equal(low.y, 60);
  assert.equal(high.y + high.height, low.y);
  assert.equal(high.y, 10);
  assert.equal(tiny.height, 0.5);
});

test("dates are labelled every few bars so they never overlap", () => {
  const c = chart(Array.from({ length: 90 }, () => 1));
  const labelled = c.bars.filter((bar) => bar.label);
  // 342 px hold floor(342 / 64) = 5 labels: every 18th day
  assert.equal(labelled.length, 5);
  assert.equal(c.bars[18].label.text, dayLabel("2025-01-19"));
  assert.equal(c.bars[1].label, null);
});

test("a period without data says so in the middle of the plot", () => {
  const c = chart([0, 0]);
  assert.deepEqual(c.empty, { x: 50 + 342 / 2, y: 110, text: "Nothing" });
});

test("day labels are the UTC day whatever the time zone", () => {
  assert.match(dayLabel("2025-01-05"), /5/);
  assert.match(dayLabel("2025-12-31", { year: "numeric" }), /2025/);
});
