// The usage chart's value axis (static/js/chart-scale.js): distinct, round labels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { axisTicks } from "../../src/switchboard/web/static/js/chart-scale.js";
import { formatCompact, formatCost, formatInt } from "../../src/switchboard/web/static/js/format.js";

const labels = (ticks) => ticks.map((t) => t.label);
const distinct = (ticks) => new Set(labels(ticks)).size === ticks.length;

test("small counts get whole-number ticks, never a repeated label", () => {
  for (const max of [1, 2, 3, 5, 7, 11]) {
    const ticks = axisTicks(max, { integer: true, format: formatInt });
    assert.ok(distinct(ticks), `${max}: ${labels(ticks)}`);
    assert.ok(ticks.every((t) => Number.isInteger(t.value)), `${max}: ${labels(ticks)}`);
    assert.ok(ticks.at(-1).value >= max);
  }
  assert.deepEqual(labels(axisTicks(2, { integer: true, format: formatInt })), ["0", "1", "2"]);
});

test("tiny costs keep distinct labels", () => {
  for (const max of [0.00012, 0.0004, 0.003, 0.012, 0.5, 3.7, 1234]) {
    const ticks = axisTicks(max, { format: formatCost });
    assert.ok(distinct(ticks), `${max}: ${labels(ticks)}`);
    assert.ok(ticks.at(-1).value >= max, `${max}: ${labels(ticks)}`);
    assert.equal(ticks[0].value, 0);
  }
});

test("round steps and a top close to the maximum", () => {
  assert.deepEqual(axisTicks(100, { format: formatInt }).map((t) => t.value), [0, 25, 50, 75, 100]);
  assert.deepEqual(axisTicks(1234567, { integer: true, format: formatCompact }).map((t) => t.value),
    [0, 500000, 1000000, 1500000]);
  assert.ok(distinct(axisTicks(1234567, { integer: true, format: formatCompact })));
});

test("an empty chart still has an axis", () => {
  assert.deepEqual(axisTicks(0, { integer: true, format: formatInt }).map((t) => t.value), [0, 1]);
  assert.ok(axisTicks(Number.NaN, { format: formatCost }).length >= 2);
});
