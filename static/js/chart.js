/* Offline clients per cycle over up to the last 24 h, drawn as inline SVG (no library).
 * The time axis spans the history there is (at least an hour), so a short history fills the
 * chart; the SVG is drawn at the container's pixel width, so its text keeps its size. */
"use strict";

const OfflineChart = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const H = 190;
  const DAY = 24 * 3600;
  const MIN_SPAN = 3600;
  const TIME_STEPS = [5, 10, 15, 30, 60, 120, 180, 360].map((m) => m * 60);
  const PAD = { left: 44, right: 10, top: 10, bottom: 24 };

  function node(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /** A round step (1, 2 or 5 × 10^k) giving at most 4 intervals up to `peak`. */
  function niceStep(peak) {
    if (peak <= 4) return 1;
    const magnitude = 10 ** Math.floor(Math.log10(peak / 4));
    return [1, 2, 5, 10].map((m) => m * magnitude).find((step) => step * 4 >= peak);
  }

  /** Clock-aligned tick times between x0 and x1, at most `most` of them. */
  function timeTicks(x0, x1, most) {
    const step = TIME_STEPS.find((st) => (x1 - x0) / st <= most) || TIME_STEPS[TIME_STEPS.length - 1];
    const offset = new Date().getTimezoneOffset() * 60;
    const first = Math.ceil((x0 - offset) / step) * step + offset;
    const ticks = [];
    for (let t = first; t <= x1; t += step) ticks.push(t);
    return ticks;
  }

  function spanWords(seconds) {
    const hours = Math.round(seconds / 3600);
    return hours >= 24 ? "últimas 24 h" : hours >= 1 ? `últimas ${hours} h` : "última hora";
  }

  function render(container, cycles, summary) {
    container.replaceChildren();
    if (!cycles.length) {
      container.append(Object.assign(document.createElement("div"), {
        className: "chart-empty", textContent: "Nenhum ciclo nas últimas 24 h.",
      }));
      if (summary) summary.textContent = "";
      return;
    }
    const W = Math.max(280, Math.round(container.clientWidth || 640));
    const now = Date.now() / 1000;
    const x1 = now;
    const x0 = Math.max(now - DAY, Math.min(cycles[0].started_at, now - MIN_SPAN));
    const peak = Math.max(...cycles.map((c) => c.offline || 0));
    const step = niceStep(peak);
    const yMax = Math.max(step, Math.ceil(peak / step) * step);
    const sx = (t) => PAD.left + ((t - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
    const sy = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);

    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "aria-hidden": "true" });
    const defs = node("defs");
    const grad = node("linearGradient", { id: "chart-fill", x1: 0, y1: 0, x2: 0, y2: 1 });
    grad.append(node("stop", { offset: "0%", "stop-color": "#38bdf8", "stop-opacity": 0.45 }));
    grad.append(node("stop", { offset: "100%", "stop-color": "#38bdf8", "stop-opacity": 0 }));
    defs.append(grad);
    svg.append(defs);

    for (let v = 0; v <= yMax; v += step) {
      const y = sy(v);
      svg.append(node("line", { class: "grid-line", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
      svg.append(node("text", { class: "axis", x: PAD.left - 6, y: y + 3.5, "text-anchor": "end" }, v.toLocaleString("pt-BR")));
    }
    const most = Math.max(2, Math.min(6, Math.floor((W - PAD.left - PAD.right) / 70)));
    for (const t of timeTicks(x0, x1, most)) {
      const x = sx(t);
      if (x - PAD.left < 16 || W - PAD.right - x < 16) continue; // a label half outside the chart
      svg.append(node("text", { class: "axis", x, y: H - 6, "text-anchor": "middle" }, App.fmtTime(t)));
    }

    const points = cycles.map((c) => [sx(c.started_at), sy(c.offline || 0)]);
    const line = points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
    const base = sy(0).toFixed(1);
    svg.append(node("path", { class: "area", d: `${line} L${points[points.length - 1][0].toFixed(1)},${base} L${points[0][0].toFixed(1)},${base} Z` }));
    svg.append(node("path", { class: "line", d: line }));
    cycles.forEach((c, i) => {
      if (!c.ok) svg.append(node("circle", { class: "fail", cx: points[i][0], cy: points[i][1], r: 3 }));
    });
    container.append(svg);

    const last = cycles[cycles.length - 1];
    const failed = cycles.filter((c) => !c.ok).length;
    const text = `${spanWords(x1 - x0)} · ${App.plural(cycles.length, "ciclo", "ciclos")} · pico ${App.fmtInt(peak)} · agora ${App.fmtInt(last.offline || 0)}` +
      (failed ? ` · ${App.plural(failed, "com falha", "com falha")} (pontos vermelhos)` : "");
    if (summary) summary.textContent = text;
    container.setAttribute("aria-label", `Clientes offline por ciclo, ${text}`);
  }

  async function load(container, summary) {
    const data = await App.api("GET", "/api/ciclos?horas=24");
    render(container, data.ciclos || [], summary);
  }

  return { render, load };
})();
