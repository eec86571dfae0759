/* Offline clients per cycle over the last 24 h, drawn as inline SVG (no library). */
"use strict";

const OfflineChart = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 640;
  const H = 190;
  const PAD = { left: 44, right: 10, top: 10, bottom: 24 };

  function node(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function niceMax(value) {
    if (value <= 4) return 4;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * magnitude >= value) return step * magnitude;
    }
    return value;
  }

  function render(container, cycles, summary) {
    container.replaceChildren();
    if (!cycles.length) {
      container.append(Object.assign(document.createElement("div"), {
        className: "chart-empty", textContent: "Sem ciclos nas últimas 24 h.",
      }));
      if (summary) summary.textContent = "";
      return;
    }
    const now = Date.now() / 1000;
    const x0 = Math.min(cycles[0].started_at, now - 24 * 3600);
    const x1 = now;
    const peak = Math.max(...cycles.map((c) => c.offline || 0));
    const yMax = niceMax(peak);
    const sx = (t) => PAD.left + ((t - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
    const sy = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);

    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "aria-hidden": "true" });
    const defs = node("defs");
    const grad = node("linearGradient", { id: "chart-fill", x1: 0, y1: 0, x2: 0, y2: 1 });
    grad.append(node("stop", { offset: "0%", "stop-color": "#38bdf8", "stop-opacity": 0.45 }));
    grad.append(node("stop", { offset: "100%", "stop-color": "#38bdf8", "stop-opacity": 0 }));
    defs.append(grad);
    svg.append(defs);

    for (let i = 0; i <= 4; i += 1) {
      const v = (yMax / 4) * i;
      const y = sy(v);
      svg.append(node("line", { class: "grid-line", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
      svg.append(node("text", { class: "axis", x: PAD.left - 6, y: y + 3.5, "text-anchor": "end" },
        Math.round(v).toLocaleString("pt-BR")));
    }
    for (let h = 0; h <= 24; h += 6) {
      const t = x1 - (24 - h) * 3600;
      const d = new Date(t * 1000);
      const label = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
      svg.append(node("text", { class: "axis", x: sx(t), y: H - 6, "text-anchor": h === 0 ? "start" : h === 24 ? "end" : "middle" }, label));
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
    const text = `${cycles.length} ciclos · pico ${peak.toLocaleString("pt-BR")} · agora ${(last.offline || 0).toLocaleString("pt-BR")}` +
      (failed ? ` · ${failed} com falha (pontos vermelhos)` : "");
    if (summary) summary.textContent = text;
    container.setAttribute("aria-label", `Clientes offline por ciclo nas últimas 24 horas: ${text}`);
  }

  async function load(container, summary) {
    const data = await App.api("GET", "/api/ciclos?horas=24");
    render(container, data.ciclos || [], summary);
  }

  return { render, load };
})();
