/* Eventos: the monitor's events with filters; a click opens logins, evidence and alerts. */
"use strict";

(() => {
  const { el, td, api, badge, setText } = App;
  const form = document.getElementById("filtros");
  const tbody = document.querySelector("#eventos tbody");
  const table = document.getElementById("eventos");
  const more = document.getElementById("ev-mais");
  const empty = document.getElementById("ev-vazio");
  const errorBox = document.getElementById("ev-erro");
  const dialog = document.getElementById("evento");
  const actions = document.getElementById("evd-acoes");
  const closeButton = document.getElementById("evd-encerrar");
  const canDecide = App.canDecide;
  let page = 1;
  let shownId = null;

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (String(value).trim()) params.set(key, String(value).trim());
    params.set("limite", "50");
    params.set("pagina", String(page));
    return params;
  }

  function statusBadge(status) {
    return status === "ativo" ? App.statusBadge("ATIVO", "err") : App.statusBadge("RESOLVIDO", "ok");
  }

  function row(ev) {
    const open = () => openEvent(ev.id);
    return el("tr", { "data-id": ev.id, onclick: open },
      td("Status", statusBadge(ev.status)),
      td("Conexão", el("span", { class: "cell-main" }, ev.conexao)),
      td("Causa", badge(ev.motivo), ev.causa_status === "pendente" ? el("span", { class: "cell-sub" }, "analisando…") : null),
      td("Local", ev.local || "–"),
      td("Clientes", el("span", { class: "num" }, App.fmtInt(ev.total_logins))),
      td("Início", App.fmtDateTime(ev.timestamp)),
      td("Duração", App.fmtDuration(ev.duracao)),
      el("td", { class: "col-actions" }, el("button", { type: "button", class: "btn btn-ghost btn-sm",
        "aria-label": `Ver evento ${ev.conexao}`, onclick: (e) => { e.stopPropagation(); open(); } }, App.icon("i-eye"), "Ver")));
  }

  async function load(reset) {
    if (reset) page = 1;
    try {
      const data = await api("GET", `/eventos?${query()}`);
      App.showError(errorBox, null);
      const rows = (data.eventos || []).map(row);
      if (reset) tbody.replaceChildren(...rows);
      else tbody.append(...rows);
      const shown = tbody.children.length;
      setText(document.getElementById("ev-total"), `${App.fmtInt(shown)} de ${App.fmtInt(data.total)}`);
      more.hidden = shown >= data.total;
      empty.hidden = data.total > 0;
      table.hidden = data.total === 0;
    } catch (err) {
      App.showError(errorBox, err);
    }
  }

  function fact(label, value) {
    return el("div", { class: "fact" }, el("span", {}, label), el("strong", {}, value));
  }

  function evidenceText(item) {
    if (item === null || typeof item !== "object") return String(item);
    return Object.entries(item).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");
  }

  async function openEvent(id) {
    try {
      const ev = await api("GET", `/eventos/${encodeURIComponent(id)}`);
      setText(document.getElementById("evd-titulo"), ev.conexao);
      document.getElementById("evd-sub").replaceChildren(statusBadge(ev.status), " ", badge(ev.motivo), " ",
        `início ${App.fmtDateTime(ev.timestamp)} · duração ${App.fmtDuration(ev.duracao)}`);
      document.getElementById("evd-fatos").replaceChildren(
        fact("Clientes", App.fmtInt(ev.total_logins)),
        fact("Ainda offline", App.fmtInt((ev.logins_offline || []).length)),
        fact("Causa", App.causeText(ev.motivo)),
        fact("Local", ev.local || "–"));
      const evidence = ev.evidencias || [];
      document.getElementById("evd-evidencias").replaceChildren(...(evidence.length
        ? evidence.map((e) => el("li", {}, evidenceText(e)))
        : [el("li", { class: "muted" }, "Nenhuma evidência coletada.")]));
      const tone = { enviado: "ok", falhou: "err", pendente: "warn", enviando: "warn" };
      const alerts = ev.alertas || [];
      document.querySelector("#evd-alertas tbody").replaceChildren(...(alerts.length ? [] : [el("tr", {},
        el("td", { colspan: "6", class: "muted" }, "Nenhum alerta registrado para este evento."))]), ...alerts.map((a) => el("tr", {},
        td("Canal", el("span", { class: "mono" }, a.canal)), td("Tipo", a.tipo),
        td("Estado", App.statusBadge(String(a.status).toUpperCase(), tone[a.status] || "off")),
        td("Tentativas", App.fmtInt(a.tentativas)), td("Enviado em", App.fmtDateTime(a.enviado_em)),
        td("Erro", a.erro || "–"))));
      document.querySelector("#evd-logins tbody").replaceChildren(...(ev.clientes || []).map((c) => el("tr", {},
        td("Login", el("span", { class: "mono" }, c.login)), td("Cliente", c.id_cliente || "–"),
        td("Interface", c.interface_transmissao || "–"), td("Caiu em", App.fmtDateTime(c.caiu_em)),
        td("Voltou em", c.reconectou_em ? App.fmtDateTime(c.reconectou_em) : "–"))));
      shownId = ev.id;
      actions.hidden = !(canDecide && ev.status === "ativo");
      if (!dialog.open) App.openModal(dialog);
    } catch (err) {
      App.toast(`Não foi possível abrir o evento: ${err.message}`, "err");
    }
  }

  // Two steps instead of a native confirm(): the first click arms the button for 5 s.
  let armedUntil = 0;
  closeButton.addEventListener("click", async () => {
    if (!shownId) return;
    if (Date.now() > armedUntil) {
      armedUntil = Date.now() + 5000;
      setText(closeButton, "Confirmar encerramento");
      setTimeout(() => { if (Date.now() > armedUntil) setText(closeButton, "Encerrar evento"); }, 5100);
      return;
    }
    armedUntil = 0;
    setText(closeButton, "Encerrar evento");
    try {
      await api("POST", `/eventos/${encodeURIComponent(shownId)}/resolver`, {});
      App.toast("Evento encerrado.");
      await openEvent(shownId);
      load(true);
    } catch (err) {
      App.toast(`Não foi possível encerrar: ${err.message}`, "err");
    }
  });

  form.addEventListener("submit", (e) => { e.preventDefault(); load(true); });
  form.addEventListener("reset", () => setTimeout(() => load(true), 0));
  more.addEventListener("click", () => { page += 1; load(false); });
  load(true);
})();
