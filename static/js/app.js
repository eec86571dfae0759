/* Shared helpers of the NOC console. Vanilla JS, no dependencies.
 * Rule: data from the server is written with textContent (via el()), never as HTML. */
"use strict";

const App = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const body = document.body;
  const iconsUrl = body.dataset.icons || "/static/icons/icons.svg";
  const SVG = "http://www.w3.org/2000/svg";

  /** el("td", {class: "x", dataset: {label: "Cliente"}}, "text", otherNode) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function icon(name) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", `${iconsUrl}#${name}`);
    svg.append(use);
    return svg;
  }

  function setText(node, text) {
    const value = text === undefined || text === null || text === "" ? "–" : String(text);
    if (node && node.textContent !== value) node.textContent = value;
  }

  /** fetch JSON; throws Error(message in Portuguese) on failure. Sends the CSRF token on writes. */
  async function api(method, url, payload) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new Error("sem conexão com o servidor");
    }
    if (response.status === 401 && !url.startsWith("/api/demo")) {
      window.location.assign(`/entrar?proximo=${encodeURIComponent(location.pathname + location.search)}`);
      throw new Error("sessão encerrada");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok && !(response.status === 503 && data && url.startsWith("/healthz"))) {
      const message = (data && (data.erro || data.msg)) || `erro ${response.status}`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const pad = (n) => String(n).padStart(2, "0");
  function toDate(value) {
    if (value === undefined || value === null || value === "") return null;
    const number = Number(value);
    const date = Number.isFinite(number) ? new Date(number * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  function fmtTime(value) {
    const d = toDate(value);
    return d ? `${pad(d.getHours())}:${pad(d.getMinutes())}` : "–";
  }
  /** "hoje 03:10" today; "20/01/2026 03:10" any other day, with the year, so an old record
   * never looks current. */
  function fmtDateTime(value) {
    const d = toDate(value);
    if (!d) return "–";
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (d.toDateString() === new Date().toDateString()) return `hoje ${time}`;
    return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${time}`;
  }
  function fmtDuration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${pad(m % 60)} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }
  function fmtAgo(value) {
    const d = toDate(value);
    return d ? `há ${fmtDuration((Date.now() - d.getTime()) / 1000)}` : "–";
  }
  const fmtInt = (n) => (n === undefined || n === null ? "–" : Number(n).toLocaleString("pt-BR"));
  /** A number with `digits` decimals the Brazilian way: 0,0 · 1.234,5. */
  const fmtDecimal = (n, digits = 1) => Number(n || 0).toLocaleString("pt-BR",
    { minimumFractionDigits: digits, maximumFractionDigits: digits });
  /** `n` and the noun in singular or plural: "1 cliente", "2 clientes". */
  const plural = (n, one, many) => `${fmtInt(n)} ${Number(n) === 1 ? one : many}`;

  /** A Brazilian phone as people write it: (51) 99647-3637, (11) 3456-7890; the country code
   * 55 is dropped; anything that is not a Brazilian number is shown as it came. */
  function fmtPhone(value) {
    const raw = String(value ?? "").trim();
    let digits = raw.replace(/\D/g, "");
    if ((digits.length === 12 || digits.length === 13) && digits.startsWith("55")) digits = digits.slice(2);
    if (digits.length === 11) return `(${digits.slice(0, 2)}) ${digits.slice(2, 7)}-${digits.slice(7)}`;
    if (digits.length === 10) return `(${digits.slice(0, 2)}) ${digits.slice(2, 6)}-${digits.slice(6)}`;
    return raw;
  }
  function fmtDate(value) {
    const d = toDate(value);
    return d ? `${pad(d.getDate())}/${pad(d.getMonth() + 1)}` : "–";
  }

  const BADGES = {
    LOS: ["LOS", "badge-los", "Rompimento de fibra (LOS)"],
    loss: ["LOS", "badge-los", "Rompimento de fibra (LOS)"],
    POWER: ["ENERGIA", "badge-power", "Falta de energia"],
    energia: ["ENERGIA", "badge-power", "Falta de energia"],
    CONCENTRADOR: ["CONCENTRADOR", "badge-indeterminado", "Concentrador / transporte (ONUs online)"],
    concentrador: ["CONCENTRADOR", "badge-indeterminado", "Concentrador / transporte (ONUs online)"],
    MISTO: ["MISTA", "badge-indeterminado", "Causas mistas"],
    misto: ["MISTA", "badge-indeterminado", "Causas mistas"],
  };
  function badge(kind) {
    const [label, cls, title] = BADGES[kind] || ["INDETERMINADO", "badge-indeterminado", "Causa indeterminada"];
    return el("span", { class: `badge ${cls}`, title }, label);
  }
  function statusBadge(text, tone) {
    return el("span", { class: `badge badge-${tone}` }, text);
  }
  function causeText(kind) {
    return (BADGES[kind] || [null, null, "Causa indeterminada"])[2];
  }
  /** A customer template the way an operator names it: "modelo de rompimento (114)". */
  function templateLabel(kind, name) {
    const what = { POWER: "modelo de falta de energia", CONCENTRADOR: "modelo de concentrador/transporte" }[kind]
      || "modelo de rompimento";
    return name ? `${what} (${name})` : what;
  }

  function td(label, ...children) {
    return el("td", { dataset: { label } }, ...children);
  }

  /** Show a message for a few seconds; returns the toast (focusable, so focus can land on it). */
  function toast(message, kind = "ok") {
    const box = document.getElementById("toasts");
    if (!box) return null;
    const node = el("div", { class: `toast toast-${kind}`, tabindex: "-1" }, message);
    box.append(node);
    setTimeout(() => node.remove(), kind === "err" ? 12000 : 8000);
    return node;
  }

  function showError(node, err) {
    if (!node) return;
    if (err) {
      node.textContent = err.message || String(err);
      node.hidden = false;
    } else {
      node.hidden = true;
    }
  }

  /* ---- modal dialogs: Esc and backdrop close; focus trapped; focus restored --------- */
  const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  function setupModal(dialog) {
    if (dialog.dataset.ready) return;
    dialog.dataset.ready = "1";
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) closeModal(dialog); // a click on the backdrop
    });
    dialog.querySelectorAll("[data-fechar]").forEach((b) => b.addEventListener("click", () => closeModal(dialog)));
    dialog.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    dialog.addEventListener("close", () => {
      const back = dialog._returnFocus;
      dialog._returnFocus = null;
      if (back && document.contains(back)) back.focus();
    });
  }
  function openModal(dialog) {
    setupModal(dialog);
    dialog._returnFocus = document.activeElement;
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector("[autofocus]") || dialog.querySelector(FOCUSABLE);
    if (first) first.focus();
  }
  function closeModal(dialog) {
    if (dialog.open) dialog.close();
  }

  /** Run `task` now and every `ms`, skipping while the tab is hidden; marks the live badge. */
  function poll(task, ms) {
    let timer = null;
    const stamp = document.getElementById("atualizado");
    async function run() {
      clearTimeout(timer);
      try {
        await task();
        if (stamp) {
          stamp.textContent = `atualizado às ${new Date().toLocaleTimeString("pt-BR")}`;
          stamp.parentElement.classList.remove("is-stale");
        }
      } catch (err) {
        if (stamp) {
          stamp.textContent = `falha ao atualizar: ${err.message}`;
          stamp.parentElement.classList.add("is-stale");
        }
      }
      timer = setTimeout(run, ms);
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) run();
    });
    run();
    return run;
  }

  /** Keep `tbody` in the order of `items` keyed by `key`, updating rows in place (no flicker). */
  function reconcile(tbody, items, key, build, update) {
    const existing = new Map([...tbody.children].map((row) => [row.dataset.key, row]));
    let previous = null;
    for (const item of items) {
      const id = String(key(item));
      let row = existing.get(id);
      if (row) {
        existing.delete(id);
        update(row, item);
      } else {
        row = build(item);
        row.dataset.key = id;
        if (tbody.children.length) row.classList.add("row-new");
      }
      const expected = previous ? previous.nextSibling : tbody.firstChild;
      if (row !== expected) tbody.insertBefore(row, expected);
      previous = row;
    }
    existing.forEach((row) => row.remove());
  }

  return {
    el, append, icon, setText, api, fmtTime, fmtDate, fmtDateTime, fmtDuration, fmtAgo, fmtInt, fmtDecimal, fmtPhone,
    plural, badge, statusBadge, causeText, templateLabel, td, toast, showError, openModal, closeModal, poll, reconcile,
    canDecide: body.dataset.podeDecidir === "sim",
    user: body.dataset.usuario || "",
  };
})();
