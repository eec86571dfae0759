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
  const actionsText = document.getElementById("evd-acoes-texto");
  const closeButton = document.getElementById("evd-encerrar");
  const confirmBox = document.getElementById("encerrar");
  const confirmOk = document.getElementById("enc-ok");
  const canDecide = App.canDecide;
  let page = 1;
  let shownId = null;
  let shownEvent = null;

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
      td("Status", statusBadge(ev.status), ev.alerta_suprimido ? el("span", { class: "cell-sub" }, "alerta retido") : null),
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

  const ALERT_KINDS = { abertura: "Abertura", recorrencia: "Recorrência", crescimento: "Ampliação", causa: "Causa",
    normalizacao: "Normalização", resumo: "Resumo" };
  const ALERT_STATES = { enviado: ["ENVIADO", "ok"], falhou: ["FALHOU", "err"], pendente: ["NA FILA", "warn"],
    enviando: ["ENVIANDO", "warn"], incerto: ["INCERTO", "warn"] };
  const CAUSES = { energia: "Falta de energia", loss: "Perda de sinal (LOS)" };

  /** Every alert of the event: what went out (or is queued), and each one held back with why. */
  function renderAlerts(ev) {
    const held = [...(ev.alertas_retidos || [])];
    if (ev.alerta_suprimido && !held.some((h) => h.motivo === ev.alerta_suprimido)) {
      held.unshift({ tipo: "abertura", motivo: ev.alerta_suprimido });
    }
    const heldList = document.getElementById("evd-retidos");
    heldList.hidden = held.length === 0;
    heldList.replaceChildren(...held.map((h) => el("li", {},
      el("strong", {}, h.tipo === "abertura" ? "Alerta retido" : `Alerta de ${(ALERT_KINDS[h.tipo] || h.tipo).toLowerCase()} retido`),
      `: ${h.motivo}`,
      h.criado_em ? el("span", { class: "cell-sub" }, `decidido às ${App.fmtDateTime(h.criado_em)}`) : null)));
    const alerts = ev.alertas || [];
    const none = held.length ? "Nenhum alerta enviado: veja acima por que foi retido." : "Nenhum alerta registrado para este evento.";
    document.querySelector("#evd-alertas tbody").replaceChildren(...(alerts.length ? alerts.map((a) => {
      const [label, tone] = ALERT_STATES[a.status] || [String(a.status).toUpperCase(), "off"];
      return el("tr", {},
        td("Canal", el("span", { class: "mono wrap-any" }, a.canal)), td("Alerta", ALERT_KINDS[a.tipo] || a.tipo),
        td("Estado", App.statusBadge(label, tone)), td("Tentativas", App.fmtInt(a.tentativas)),
        td("Enviado às", App.fmtDateTime(a.enviado_em)), td("Erro", a.erro ? el("span", { class: "wrap-any" }, a.erro) : "–"));
    }) : [el("tr", {}, el("td", { colspan: "6", class: "muted" }, none))]));
  }

  /** Where the evidence came from, in words (a vendor's CLI command is not for the operator). */
  function sourceText(evidence) {
    const sources = new Set(evidence.map((e) => String(e.fonte || "")).filter(Boolean));
    const words = [...sources].map((f) => (/^(display|show) /.test(f) ? "linha de comando da OLT (SSH)" : f));
    return [...new Set(words)].join(", ");
  }

  function onuOf(e) {
    if (e.onu_index) return e.onu_index;
    const pon = e.fsp || e.pon;
    if (pon && e.ont_id !== undefined && e.ont_id !== null && e.ont_id !== "") return `${pon}:${e.ont_id}`;
    return e.onu || "–";
  }

  function dropTime(value) {
    if (!value) return "–";
    const normalised = String(value).trim().replace(" ", "T").replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
    const text = App.fmtDateTime(normalised);
    return text === "–" ? String(value) : text;
  }

  /** The OLT's evidence as a table: ONU, client, PON, cause in Portuguese, when it dropped
   * (the OLT's time when it tells one, else when the monitor saw the login drop). */
  function renderEvidence(ev, nameOf) {
    const dropped = new Map((ev.clientes || []).map((c) => [c.login, c.caiu_em]));
    const evidence = (ev.evidencias || []).filter((e) => e && typeof e === "object");
    const source = document.getElementById("evd-fonte");
    const from = sourceText(evidence);
    source.hidden = !from;
    setText(source, `Consultado em: ${from}`);
    const tbody = document.querySelector("#evd-evidencias tbody");
    tbody.replaceChildren(...(evidence.length ? evidence.map((e) => el("tr", { "data-login": e.login || "" },
      td("ONU", el("span", { class: "mono" }, onuOf(e))),
      td("Cliente", el("span", { class: "c-nome" }, nameOf(e.login))),
      td("PON", el("span", { class: "mono" }, e.pon || e.fsp || "–")),
      td("Causa", CAUSES[e.classificacao] || "Indeterminada", e.causa_bruta ? el("span", { class: "cell-sub" }, e.causa_bruta) : null,
        e.conta === false ? el("span", { class: "cell-sub evidence-excluded" }, `não conta: ${e.motivo_exclusao || "sem registro desta queda"}`) : null),
      td("Caiu às", e.caiu_em ? dropTime(e.caiu_em) : App.fmtDateTime(dropped.get(e.login))))) : [el("tr", {}, el("td", { colspan: "5", class: "muted" }, "Nenhuma evidência coletada."))]));
  }

  /** Names of the event's customers from the dispatch enrichment (the ERP or OLT system);
   * until they arrive, or when they cannot be read, the client number is shown. */
  async function loadNames(ev) {
    try {
      const data = await api("GET", `/api/detalhes/${encodeURIComponent(`ev-${ev.id}`)}`);
      return new Map((data.clientes || []).filter((c) => c.client_name).map((c) => [String(c.client_id), String(c.client_name)]));
    } catch (err) {
      return new Map();
    }
  }

  function renderNames(ev, names) {
    const byLogin = new Map((ev.clientes || []).map((c) => [c.login, c]));
    const nameOf = (login) => {
      const c = byLogin.get(login);
      if (!c) return "–";
      return names.get(String(c.id_cliente)) || (c.id_cliente ? `cliente nº ${c.id_cliente}` : "–");
    };
    document.querySelectorAll("#evento .c-nome").forEach((node) => {
      const login = node.closest("tr").dataset.login;
      setText(node, nameOf(login));
    });
    return nameOf;
  }

  async function openEvent(id) {
    try {
      const ev = await api("GET", `/eventos/${encodeURIComponent(id)}`);
      setText(document.getElementById("evd-titulo"), ev.local || ev.conexao);
      document.getElementById("evd-sub").replaceChildren(statusBadge(ev.status), " ", badge(ev.motivo), " ",
        `${ev.conexao} · início ${App.fmtDateTime(ev.timestamp)} · duração ${App.fmtDuration(ev.duracao)}`);
      const offline = (ev.logins_offline || []).length;
      document.getElementById("evd-fatos").replaceChildren(...[
        fact("Clientes", App.fmtInt(ev.total_logins)),
        fact(ev.status === "ativo" ? "Ainda offline" : "Não voltaram", App.fmtInt(offline)),
        fact("Causa", ev.causa_explicacao ? `${App.causeText(ev.motivo)} — ${ev.causa_explicacao}` : App.causeText(ev.motivo)),
        fact("Local", ev.local || "–"),
        fact("Como soube", ev.origem === "alarme"
          ? `alarme da rede em ${App.fmtDuration(ev.percebido_em_s)}`
          : `consulta ao ERP${ev.percebido_em_s != null ? `, ${App.fmtDuration(ev.percebido_em_s)} depois da queda` : ""}`),
        ev.relacionado ? fact("Relacionado", "Começou com outro incidente aberto no mesmo local (OLT ou conexão): é uma queda nova, com aviso próprio") : null,
        ev.recorrencia > 1 ? fact("Recorrência", `${ev.recorrencia}ª queda no local`) : null].filter(Boolean));
      renderAlerts(ev);
      const nameOf = renderNames(ev, new Map());
      renderEvidence(ev, nameOf);
      document.querySelector("#evd-logins tbody").replaceChildren(...(ev.clientes || []).map((c) => el("tr", { "data-login": c.login },
        td("Login", el("span", { class: "mono" }, c.login)), td("Cliente", el("span", { class: "c-nome" }, nameOf(c.login))),
        td("Interface", c.interface_transmissao || "–"), td("Caiu às", App.fmtDateTime(c.caiu_em)),
        td("Voltou às", c.reconectou_em ? App.fmtDateTime(c.reconectou_em) : "–"))));
      shownId = ev.id;
      shownEvent = ev;
      showActions(ev);
      if (!dialog.open) App.openModal(dialog);
      const names = await loadNames(ev);
      if (shownId === ev.id && names.size) renderNames(ev, names);
    } catch (err) {
      App.toast(`Não foi possível abrir o evento: ${err.message}`, "err");
    }
  }

  if (window.matchMedia("(max-width: 780px)").matches) document.getElementById("filtros-box").open = false;

  /** Closing by hand is offered only for an event stuck open (`preso`: no change for an hour,
   * typically logins left without a status in the ERP); a fresh one normalizes by itself. */
  function showActions(ev) {
    actions.hidden = !(canDecide && ev.status === "ativo");
    closeButton.hidden = !ev.preso;
    setText(actionsText, ev.preso
      ? `Sem mudança há ${App.fmtDuration(Date.now() / 1000 - ev.atualizado_em)}: logins que ficaram sem status (SS) no ERP seguram o evento aberto, e o monitor não os vê voltar.`
      : "O monitor encerra este evento sozinho quando os clientes voltarem. Se ele ficar 1 h sem mudança (logins sem status, SS, no ERP), aparece aqui a opção de encerrá-lo.");
  }

  closeButton.addEventListener("click", () => {
    if (!shownEvent) return;
    const offline = (shownEvent.logins_offline || []).length;
    const parts = [`${shownEvent.local || shownEvent.conexao}: o evento passa a resolvido agora.`];
    if (offline) {
      parts.push(`${App.plural(offline, "login ainda offline sai", "logins ainda offline saem")} do evento e ${offline === 1 ? "passa" : "passam"} a contar como offline comum, nunca como queda nova.`);
    }
    parts.push("O alerta de normalização ao NOC diz quem encerrou.");
    setText(document.getElementById("enc-texto"), parts.join(" "));
    App.openModal(confirmBox);
  });

  confirmOk.addEventListener("click", async () => {
    if (!shownId) return;
    confirmOk.disabled = true;
    try {
      await api("POST", `/eventos/${encodeURIComponent(shownId)}/resolver`, {});
      App.closeModal(confirmBox);
      App.toast("Evento encerrado.");
      await openEvent(shownId);
      load(true);
    } catch (err) {
      App.closeModal(confirmBox);
      App.toast(`Não foi possível encerrar: ${err.message}`, "err");
    } finally {
      confirmOk.disabled = false;
    }
  });

  form.addEventListener("submit", (e) => { e.preventDefault(); load(true); });
  form.addEventListener("reset", () => setTimeout(() => load(true), 0));
  more.addEventListener("click", () => { page += 1; load(false); });
  load(true);
})();
