// Value axis of a bar chart: round tick values whose labels are all different. A plain
// "max / 4" scale printed the same label several times (requests 0, 1, 1, 2, 2; costs
// "$0.0001" twice), which reads as a broken chart. Pure, unit-tested (tests/js).

const MULTIPLIERS = [1, 2, 2.5, 5];

/** Candidate steps from the smallest that fits `raw` upwards: 1, 2, 2.5, 5, 10, 20… × 10^k. */
function* steps(raw, integer) {
  let exp = 10 ** Math.floor(Math.log10(raw));
  for (;;) {
    for (const m of MULTIPLIERS) {
      const step = m * exp;
      if (step < raw * (1 - 1e-9)) continue;
      if (integer && (step < 1 || !Number.isInteger(Math.round(step * 1e9) / 1e9))) continue;
      yield step;
    }
    exp *= 10;
  }
}

/**
 * Ticks {value, label} from 0 to a round top ≥ max, about `count` intervals, every label
 * different under `format`. `integer`: counts (requests, errors) never get 0.5 ticks.
 */
export function axisTicks(max, { integer = false, format = String, count = 4 } = {}) {
  const target = max > 0 && Number.isFinite(max) ? max : 1;
  let tries = 0;
  for (const step of steps(target / count, integer)) {
    const n = Math.max(1, Math.ceil(target / step - 1e-9));
    const ticks = [];
    for (let i = 0; i <= n; i += 1) {
      const value = Math.round(i * step * 1e12) / 1e12;
      ticks.push({ value, label: format(value) });
    }
    const labels = new Set(ticks.map((t) => t.label));
    if (labels.size === ticks.length || (tries += 1) > 40) return ticks;
  }
  return [];
}
