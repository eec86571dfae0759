/* Monitoramento: incidents pending a decision, live; details modal; approve / deny. */
"use strict";

(() => {
  const { el, td, api, badge, setText } = App;
  const tbody = document.querySelector("#incidentes tbody");
  const table = document.getElementById("incidentes");
  const empty = document.getElementById("vazio");
  const errorBox = document.getElementById("erro-incidentes");
  const cooldownList = document.getElementById("cooldown");
  const cooldownEmpty = document.getElementById("cooldown-vazio");
  const templates = document.getElementById("modelos")?.dataset || {};
  const details = document.getElementById("detalhes");
  const confirmBox = document.getElementById("confirmar");
  let incidents = new Map();
  let current = null; // { incident, clientes }

  /* ---- the list ------------------------------------------------------------------ */
  /* Our own route: `incidente` is the console's id for our calls (`id` is `disparo_hsm`'s number). */
  function split(data) {
    const ours = (i) => ({ ...i, id: String(i.incidente ?? i.id) });
    return { pending: (data.incidentes || []).map(ours), blocks: data.bloqueios || [] };
  }

  const uncertainBox = document.getElementById("incertos");
  const resendBtn = document.getElementById("incertos-reenviar");
  function renderUncertain(info) {
    const total = Number(info?.total) || 0;
    const waiting = Math.min(total, Number(info?.aguardando_confirmacao) || 0);
    uncertainBox.hidden = total === 0;
    resendBtn.hidden = !App.canDecide || waiting === total;
    const waitingText = waiting
      ? `; ${App.fmtInt(waiting)} ${waiting === 1 ? "aguarda" : "aguardam"} a confirmação do WhatsApp`
      : "";
    setText(document.getElementById("incertos-texto"),
      `${App.fmtInt(total)} ${total === 1 ? "aviso pode não ter saído" : "avisos podem não ter saído"}` +
      waitingText + (waiting === total ? "." : " — reenviar?"));
  }
  resendBtn.addEventListener("click", async () => {
    resendBtn.disabled = true;
    try {
      const result = await api("POST", "/api/painel/incertos/reenviar", {});
      App.toast(result.msg, "ok");
      await refresh();
    } catch (err) {
      App.toast(`Não foi possível reenviar: ${err.message}`, "err");
    } finally {
      resendBtn.disabled = false;
    }
  });

  /** The PONs of an incident (a whole-OLT outage lists many, comma-separated). */
  function ponsOf(i) {
    return String(i.slot_pon || "").split(",").map((p) => p.trim()).filter(Boolean);
  }

  /** Where the outage is, in words: "CTO-12 · OLT-SUL PON 0/1/1"; an outage of several PONs
   * by its OLT and how many ("OLT-NORTE — 11 PONs", or the monitor's "OLT-NORTE inteira — 11
   * PONs"), never the list itself (that is on demand). */
  function place(i) {
    const pons = ponsOf(i);
    const local = String(i.local || "");
    if (pons.length > 1) return /inteira/.test(local) ? local : `${i.olt} — ${pons.length} PONs`;
    const where = [i.olt, pons[0] && `PON ${pons[0]}`].filter(Boolean).join(" ");
    const named = local && local.includes(i.olt) && (!pons[0] || local.includes(pons[0]));
    if (local && !named) return [local, where].filter(Boolean).join(" · ");
    return local || where || "–";
  }

  /** The PON list on demand, for outages of more than one PON. */
  function ponList(i) {
    const pons = ponsOf(i);
    if (pons.length < 2) return null;
    return el("details", { class: "pon-list" }, el("summary", {}, `ver as ${pons.length} PONs`),
      el("span", { class: "mono" }, pons.join(", ")));
  }

  function actionButtons(incident) {
    const buttons = [];
    if (App.canDecide) {
      buttons.push(el("button", { type: "button", class: "btn btn-primary btn-sm", "data-acao": "aprovar",
        "aria-label": `Aprovar disparo do incidente ${incident.id}`, onclick: () => openDetails(incident.id, true) },
        App.icon("i-send"), "Aprovar"));
      buttons.push(el("button", { type: "button", class: "btn btn-danger btn-sm", "data-acao": "negar",
        "aria-label": `Negar disparo do incidente ${incident.id}`, onclick: () => askDeny(incidents.get(incident.id)) },
        App.icon("i-ban"), "Negar"));
    }
    buttons.push(el("button", { type: "button", class: "btn btn-ghost btn-sm btn-square", "data-acao": "detalhes",
      "aria-label": `Detalhes do incidente ${incident.id}`, title: "Detalhes", onclick: () => openDetails(incident.id, false) },
      App.icon("i-eye"), el("span", { class: "label-narrow" }, "Detalhes")));
    return el("div", { class: "actions" }, buttons);
  }

  function buildRow(i) {
    return el("tr", { "data-id": i.id, "data-tipo": i.tipo },
      td("Tipo", el("span", { class: "slot-badge" }, badge(i.tipo))),
      td("Início", el("span", { class: "cell-main nowrap c-inicio" }), el("span", { class: "cell-sub c-ha" })),
      td("Impacto", el("span", { class: "num c-afetados" }), el("span", { class: "cell-sub c-clientes" })),
      td("Local", el("span", { class: "cell-main c-lugar" }), el("span", { class: "cell-sub c-pons" })),
      td("Causa provável", el("span", { class: "c-causa" }), el("span", { class: "cell-sub c-nota" })),
      el("td", { class: "col-actions" }, actionButtons(i)));
  }

  function updateRow(row, i) {
    const slot = row.querySelector(".slot-badge");
    if (row.dataset.tipo !== i.tipo) {
      slot.replaceChildren(badge(i.tipo));
      row.dataset.tipo = i.tipo;
    }
    setText(row.querySelector(".c-inicio"), App.fmtDateTime(i.inicio));
    setText(row.querySelector(".c-ha"), App.fmtAgo(i.inicio));
    setText(row.querySelector(".c-afetados"), App.fmtInt(i.afetados));
    setText(row.querySelector(".c-clientes"), share(i));
    setText(row.querySelector(".c-lugar"), place(i));
    if (row.dataset.pons !== i.slot_pon) {
      row.querySelector(".c-pons").replaceChildren(ponList(i) || "");
      row.dataset.pons = i.slot_pon || "";
    }
    setText(row.querySelector(".c-causa"), i.causa_provavel || App.causeText(i.tipo));
    setText(row.querySelector(".c-nota"), note(i));
  }

  /** "clientes", or "de 48 no local" when the place's active logins are known. */
  function share(i) {
    const n = Number(i.afetados) || 0;
    if (Number(i.ativos) > 0) return `de ${App.fmtInt(i.ativos)} no local`;
    return n === 1 ? "cliente" : "clientes";
  }

  /** How the monitor learned it: "alarme da rede em 4 s", "ERP, 3 min após a queda". */
  function learned(i) {
    if (i.origem === "alarme") return `alarme da rede em ${App.fmtDuration(i.percebido_em_s ?? 0)}`;
    if (i.origem === "erp") return i.percebido_em_s != null ? `ERP, ${App.fmtDuration(i.percebido_em_s)} após a queda` : "ERP";
    return "";
  }

  /** What else the operator should know about the row: how it was learned, normalizing, related to another. */
  function note(i) {
    const parts = [];
    if (learned(i)) parts.push(learned(i));
    if (i.normalizando) parts.push("normalizando: a maioria já voltou");
    if (Number(i.relacionado)) parts.push(`a OLT já tinha um incidente aberto (nº ${i.relacionado}): esta é outra queda`);
    return parts.join(" · ");
  }

  /** The places blocked now (an approval blocks its place for 24 h), the one just approved too. */
  function renderCooldown(blocks) {
    cooldownEmpty.hidden = blocks.length > 0;
    cooldownList.replaceChildren(...blocks.map((b) => el("li", {},
      el("span", {}, b.local),
      el("span", { class: "until" }, "Bloqueado até ", el("strong", {}, App.fmtDateTime(b.liberado_em))))));
    setText(document.getElementById("st-cooldown"), App.fmtInt(blocks.length));
  }

  async function refresh() {
    let data;
    try {
      data = await api("GET", "/api/painel/incidentes");
      const warnings = data.avisos || [];
      App.showError(errorBox, warnings.length ? new Error(warnings.join(" · ")) : null);
    } catch (err) {
      App.showError(errorBox, err);
      throw err;
    }
    const { pending, blocks } = split(data);
    incidents = new Map(pending.map((i) => [i.id, i]));
    const list = [...incidents.values()];
    App.reconcile(tbody, list, (i) => i.id, (i) => { const row = buildRow(i); updateRow(row, i); return row; }, updateRow);
    table.hidden = list.length === 0;
    empty.hidden = list.length > 0;
    setText(document.getElementById("st-pendentes"), App.fmtInt(list.length));
    setText(document.getElementById("st-afetados"), App.fmtInt(data.clientes_afetados ?? 0));
    renderCooldown(blocks);
    renderUncertain(data.incertos);
  }

  async function refreshSide() {
    const [events] = await Promise.allSettled([api("GET", "/eventos/ativos"),
      OfflineChart.load(document.getElementById("grafico"), document.getElementById("grafico-resumo"))]);
    if (events.status === "fulfilled") {
      setText(document.getElementById("st-eventos"), App.fmtInt((events.value.eventos_ativos || []).length));
    }
  }

  /* ---- details modal ------------------------------------------------------------- */
  const dTbody = document.querySelector("#det-clientes tbody");
  const dLoading = document.getElementById("det-carregando");
  const dError = document.getElementById("det-erro");
  const templateBox = document.getElementById("det-template-box");
  const templateSelect = document.getElementById("det-template");
  const approveBtn = document.getElementById("det-aprovar");
  const denyBtn = document.getElementById("det-negar");
  document.getElementById("det-acoes").hidden = !App.canDecide;

  function clientRow(c) {
    const status = String(c.status || "").toLowerCase();
    const tone = status.includes("on") && !status.includes("off") ? "ok" : status ? "err" : "off";
    return el("tr", {},
      td("SN ONU", el("span", { class: "mono" }, c.sn_onu || "–")),
      td("Cliente", el("span", { class: "cell-main c-nome" }, c.client_name || "–")),
      td("Status", c.status ? App.statusBadge(String(c.status), tone) : "–"),
      td("PON", c.slot_pon || "–"),
      td("Contato", c.contact ? el("span", { class: "nowrap" }, App.fmtPhone(c.contact)) : el("span", { class: "muted" }, "sem telefone")),
      td("Último aviso", c.ultimo_aviso ? App.fmtDateTime(c.ultimo_aviso) : "–"));
  }

  /** The template choice, only where the cause does not decide it: an unknown cause (or a
   * mixed incident's part of unknown cause) picks fiber, power or the concentrator's; a
   * concentrator failure is never offered the power or fiber template. */
  function fillTemplates(incident) {
    const parts = incident.partes || [];
    const unknown = incident.tipo === "INDETERMINADO" || parts.some((p) => p.tipo === "INDETERMINADO");
    templateBox.hidden = !unknown;
    const options = [el("option", { value: "" }, "Escolha…"),
      el("option", { value: "LOS" }, App.templateLabel("LOS", templates.los)),
      el("option", { value: "POWER" }, App.templateLabel("POWER", templates.power))];
    if (templates.concentrador) options.push(el("option", { value: "CONCENTRADOR" }, App.templateLabel("CONCENTRADOR", templates.concentrador)));
    templateSelect.replaceChildren(...options);
  }

  const TEMPLATE_OF = { LOS: () => templates.los, POWER: () => templates.power, CONCENTRADOR: () => templates.concentrador };

  async function openDetails(id, thenApprove) {
    const incident = incidents.get(String(id));
    if (!incident) return;
    current = { incident, clientes: null };
    setText(document.getElementById("det-titulo"), `Incidente ${place(incident)}`);
    document.getElementById("det-sub").replaceChildren(badge(incident.tipo), " ",
      `início ${App.fmtDateTime(incident.inicio)} · ${incident.fonte === "monitor" ? "monitor" : "sistema da OLT"}`);
    setText(document.getElementById("det-afetados"), App.fmtInt(incident.afetados));
    setText(document.getElementById("det-diagnostico"), [incident.causa_provavel || App.causeText(incident.tipo), note(incident)].filter(Boolean).join(" · "));
    setText(document.getElementById("det-local"), incident.local || place(incident));
    dTbody.replaceChildren();
    dLoading.hidden = false;
    App.showError(dError, null);
    approveBtn.disabled = true;
    fillTemplates(incident);
    App.openModal(details);
    try {
      const data = await api("GET", `/api/detalhes/${encodeURIComponent(incident.id)}`);
      if (!current || current.incident !== incident) return;
      current.clientes = data.clientes || [];
      setText(document.getElementById("det-afetados"), App.fmtInt(current.clientes.length));
      dTbody.replaceChildren(...current.clientes.map(clientRow));
      if (data.info && data.info.local) setText(document.getElementById("det-local"), data.info.local);
      approveBtn.disabled = false;
      if (thenApprove) askApprove();
    } catch (err) {
      App.showError(dError, err);
    } finally {
      dLoading.hidden = true;
    }
  }

  /* ---- decisions ----------------------------------------------------------------- */
  /** What an approval will do, with counts that add up: every affected client either gets
   * a notice on their phone, shares a phone with another client (one notice per phone) or
   * has no phone. */
  function approvalSummary(incident, clientes, choice) {
    const withPhone = clientes.filter((c) => c.contact);
    const phones = new Set(withPhone.map((c) => c.contact)).size;
    const shared = withPhone.length - phones;
    const noPhone = clientes.length - withPhone.length;
    const whom = `${App.plural(phones, "telefone", "telefones distintos")} dos ${App.plural(clientes.length, "cliente afetado", "clientes afetados")}`;
    const mixed = incident.tipo === "MISTO" && (incident.partes || []).length;
    const parts = [mixed ? `Enviar a ${whom}: ${templatesText(incident, choice)}.` : `Enviar ${templatesText(incident, choice)} a ${whom}.`];
    if (shared) parts.push(`${App.plural(shared, "cliente divide", "clientes dividem")} telefone com outro e ${shared === 1 ? "recebe" : "recebem"} o mesmo aviso.`);
    if (noPhone) parts.push(`${App.plural(noPhone, "cliente não tem", "clientes não têm")} telefone e não ${noPhone === 1 ? "receberá" : "receberão"}.`);
    parts.push("Telefones já avisados nas últimas 24 h não recebem de novo.");
    return parts.join(" ");
  }

  /** Which template each customer gets: one for the whole incident, or one per part of a mixed one. */
  function templatesText(incident, choice) {
    const parts = incident.partes || [];
    if (incident.tipo !== "MISTO" || !parts.length) {
      const tipo = choice || incident.tipo;
      return `o ${App.templateLabel(tipo, (TEMPLATE_OF[tipo] || (() => ""))())}`;
    }
    return parts.map((p) => {
      const tipo = p.tipo === "INDETERMINADO" ? choice : p.tipo;
      return `${App.templateLabel(tipo, (TEMPLATE_OF[tipo] || (() => ""))())} a ${App.plural(p.clientes, "cliente", "clientes")} de ${p.local}`;
    }).join("; ");
  }

  function askApprove() {
    if (!current || !current.clientes) return;
    const { incident, clientes } = current;
    const unknown = !templateBox.hidden;
    const choice = unknown ? templateSelect.value : "";
    if (unknown && !choice) {
      App.showError(dError, new Error("Causa indeterminada: escolha o modelo antes de aprovar."));
      templateSelect.focus();
      return;
    }
    confirm("Aprovar e disparar?", approvalSummary(incident, clientes, choice), "Confirmar disparo",
      (comentario) => decide(incident, "aprovar", comentario, choice));
  }

  function askDeny(incident) {
    if (!incident) return;
    confirm("Negar o disparo?", `Nenhuma mensagem será enviada aos ${App.fmtInt(incident.afetados)} clientes de ${place(incident)}. A decisão fica registrada no histórico.`,
      "Negar disparo", (comentario) => decide(incident, "negar", comentario, ""));
  }

  let onConfirm = null;
  const confirmOk = document.getElementById("conf-ok");
  function confirm(title, text, okLabel, action) {
    setText(document.getElementById("conf-titulo"), title);
    setText(document.getElementById("conf-texto"), text);
    setText(confirmOk, okLabel);
    confirmOk.className = okLabel.startsWith("Negar") ? "btn btn-danger" : "btn btn-primary";
    document.getElementById("conf-comentario").value = "";
    onConfirm = action;
    App.openModal(confirmBox);
  }
  confirmOk.addEventListener("click", async () => {
    if (!onConfirm) return;
    const action = onConfirm;
    onConfirm = null;
    confirmOk.disabled = true;
    try {
      await action(document.getElementById("conf-comentario").value.trim());
    } finally {
      confirmOk.disabled = false;
      App.closeModal(confirmBox);
    }
  });

  /** The toast after a decision: the server's message once, then what it did not send. */
  function outcomeText(result, acao) {
    const parts = [result.msg || "Decisão registrada."];
    if (acao === "aprovar") {
      if (result.falhas) parts.push(`${App.plural(result.falhas, "falha", "falhas")} no envio.`);
      if (result.sem_telefone) parts.push(`${App.plural(result.sem_telefone, "cliente sem telefone", "clientes sem telefone")}.`);
      if (result.ignorados) parts.push(`${App.plural(result.ignorados, "aviso não repetido", "avisos não repetidos")} (telefone já avisado ou dividido).`);
    }
    return parts.join(" ");
  }

  /** After a decision the row is gone: focus goes to the next pending incident's first
   * action, or to the toast when none is left — never to <body>. */
  function focusAfterDecision(nextId, note) {
    const next = nextId && tbody.querySelector(`tr[data-id="${CSS.escape(nextId)}"] .actions button`);
    if (next) next.focus();
    else if (note) note.focus();
  }

  async function decide(incident, acao, comentario, template) {
    const payload = { id: incident.id, acao };
    if (comentario) payload.comentario = comentario;
    if (template) payload.template = template;
    const ids = [...incidents.keys()];
    const nextId = ids[ids.indexOf(incident.id) + 1] || ids.filter((id) => id !== incident.id)[0];
    try {
      const result = await api("POST", "/api/acao", payload);
      App.closeModal(confirmBox);
      App.closeModal(details);
      current = null;
      const note = App.toast(outcomeText(result, acao), result.success === false ? "err" : "ok");
      await refresh();
      focusAfterDecision(nextId, note);
    } catch (err) {
      App.toast(`Não foi possível registrar: ${err.message}`, "err");
    }
  }

  approveBtn.addEventListener("click", askApprove);
  denyBtn.addEventListener("click", () => current && askDeny(current.incident));

  App.poll(refresh, 10000);
  refreshSide();
  setInterval(() => { if (!document.hidden) refreshSide().catch(() => {}); }, 60000);
})();
