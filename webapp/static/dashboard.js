// The 督导室 home's charts: each .chart[data-src] fetches its figure (JSON) and draws it with
// Apache ECharts (vendored: echarts-<version>.min.js, loaded only on this page). The table beside
// each chart holds the same numbers for screen readers and print; SVG rendering prints sharply.

const COLOURS = ["#1f5f8b", "#c0392b", "#8a5a00", "#1e7b34", "#6b4c9a", "#46525e"];

function options(figure) {
  const labels = figure.rows.map((row) => row[0]);
  const percent = figure.unit === "%";
  const series = figure.series.map((index) => ({
    name: figure.columns[index],
    type: figure.chart === "line" ? "line" : "bar",
    stack: figure.chart === "stack" ? "all" : undefined,
    data: figure.rows.map((row) => row[index]),
    label: {
      show: figure.chart !== "line" && figure.rows.length <= 12,
      position: figure.chart === "hbar" ? "right" : figure.chart === "stack" ? "inside" : "top",
      formatter: (p) => (p.value ? String(p.value) : ""),
    },
  }));
  const every = figure.chart === "line" ? "auto" : 0; // dates thin out; names are all shown (truncated)
  const category = { type: "category", data: labels, axisLabel: { interval: every, width: 96, overflow: "truncate" } };
  const value = { type: "value", max: percent ? 100 : undefined, minInterval: 1, name: figure.unit };
  const horizontal = figure.chart === "hbar";
  return {
    animation: false,
    color: COLOURS,
    tooltip: { trigger: "axis" },
    legend: { show: series.length > 1, top: 0 },
    grid: { left: 8, right: 24, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series,
  };
}

async function draw(el) {
  const response = await fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const figure = await response.json();
  if (figure.chart === "hbar") el.style.height = `${Math.max(240, 28 * figure.rows.length + 40)}px`;
  const chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption(options(figure));
  el.dataset.drawn = "true";
  new ResizeObserver(() => chart.resize()).observe(el);
}

function start() {
  if (!window.echarts) return; // the tables still say everything
  for (const el of document.querySelectorAll(".chart[data-src]")) draw(el);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
