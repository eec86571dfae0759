/* Saúde: /healthz plus the components and per-channel outbox counts. */
"use strict";

(() => {
  const { el, api, setText } = App;
  const TONES = { ok: ["OK", "ok"], erro: ["FALHA", "err"], atencao: ["ATENÇÃO", "warn"], desativado: ["DESATIVADO", "off"] };

  function fact(label, value) {
    return el("div", { class: "fact" }, el("span", {}, label), el("strong", {}, value));
  }

  const SOURCES = { snmp: "Traps SNMP", syslog: "Syslog", radius: "RADIUS" };
  const sum = (counts) => Object.values(counts || {}).reduce((a, b) => a + b, 0);

  function refusals(counts) {
    const entries = Object.entries(counts || {});
    return entries.length ? entries.map(([why, n]) => `${App.fmtInt(n)} ${why}`).join("; ") : "0";
  }

  function showAlarms(report) {
    const card = document.getElementById("alarmes");
    card.hidden = !report;
    if (!report) return;
    setText(document.getElementById("alarmes-resumo"),
      `fila ${App.fmtInt(report.fila)} de ${App.fmtInt(report.capacidade)} · atualizado ${App.fmtAgo(report.gravado_em)}`);
    const fed = report.entregues_ao_detector || {};
    document.getElementById("alarmes-fontes").replaceChildren(
      ...Object.entries(report.fontes || {}).map(([name, src]) => fact(SOURCES[name] || name,
        `${App.fmtInt(src.recebidos)} recebidos · ${App.fmtInt(sum(src.recusados))} recusados · ${App.fmtInt(src.sem_login)} sem login`)),
      fact("Quedas entregues ao detector", App.fmtInt(fed.quedas ?? 0)),
      fact("Logins fora do cadastro lido", App.fmtInt(fed.sem_cadastro ?? 0)));
    document.querySelector("#equipamentos tbody").replaceChildren(...(report.equipamentos || []).map((d) => el("tr", {},
      App.td("Equipamento", `${d.nome} (${d.tipo === "olt" ? "OLT" : "concentrador"})`),
      App.td("Último alarme", d.ultimo_alarme ? App.fmtDateTime(d.ultimo_alarme) : "nenhum"),
      App.td("Recebidos", App.fmtInt(sum(d.recebidos))),
      App.td("Recusados", refusals(d.recusados)),
      App.td("Sem login", App.fmtInt(d.sem_login)),
      App.td("Estado", d.silenciosa ? App.statusBadge("SILENCIOSA", "warn") : App.statusBadge("OK", "ok")))));
  }

  function showInstance(info) {
    const line = document.getElementById("s-instancia");
    line.hidden = !info;
    if (!info) return;
    const active = info.ativa
      ? `ativa: ${info.ativa} (lease vence em ${App.fmtInt(Math.max(0, Math.round(info.lease_vence_em_s)))} s)`
      : "nenhuma instância ativa agora: a reserva assume quando o lease vencer";
    setText(line, `Esta instância (${info.nome}) é a ${info.papel === "ativa" ? "ATIVA" : "RESERVA"} · ${active}`);
  }

  async function refresh() {
    const [health, parts] = await Promise.all([api("GET", "/healthz"), api("GET", "/api/saude")]);
    const [status, tone] = { ok: ["OPERANDO", "ok"], iniciando: ["INICIANDO", "warn"], erro: ["COM PROBLEMAS", "err"] }[health.status] || [String(health.status), "off"];
    document.getElementById("s-status").replaceChildren(App.statusBadge(status, tone));
    const last = health.ultimo_ciclo;
    setText(document.getElementById("s-ciclo"), last ? `${App.fmtDateTime(last.started_at)} (${App.fmtAgo(last.started_at)})` : "nenhum");
    setText(document.getElementById("s-duracao"), last && last.duracao != null ? `${App.fmtDecimal(last.duracao)} s` : "–");
    setText(document.getElementById("s-offline"), last ? App.fmtInt(last.offline) : "–");
    showInstance(health.instancia);
    const problems = [...(health.problemas || []), ...((health.alertas || {}).problems || [])];
    App.showError(document.getElementById("s-problemas"), problems.length ? new Error([...new Set(problems)].join(" · ")) : null);

    document.getElementById("componentes").replaceChildren(...parts.componentes.map((c) => {
      const [label, tone] = TONES[c.estado] || ["?", "off"];
      return el("li", {}, el("span", {}, el("span", { class: "comp-name" }, c.nome), el("span", { class: "comp-detail" }, c.detalhe)),
        App.statusBadge(label, tone));
    }));
    const box = health.alertas || {};
    document.getElementById("fila").replaceChildren(
      fact("Na fila", App.fmtInt(box.backlog ?? 0)), fact("Enviados", App.fmtInt(box.sent ?? 0)),
      fact("Falhas", App.fmtInt(box.failed ?? 0)),
      fact("Mais antigo", box.oldest_pending_age ? App.fmtDuration(box.oldest_pending_age) : "–"));
    document.querySelector("#canais tbody").replaceChildren(...parts.canais.map((c) => el("tr", {},
      App.td("Canal", el("span", { class: "mono wrap-any" }, c.canal)), App.td("Pendentes", App.fmtInt(c.pendentes)),
      App.td("Enviados", App.fmtInt(c.enviados)), App.td("Falhas", App.fmtInt(c.falhas)),
      App.td("Incertos", App.fmtInt(c.incertos ?? 0)))));
    showAlarms(parts.alarmes);
    await OfflineChart.load(document.getElementById("grafico"), document.getElementById("grafico-resumo"));
  }

  App.poll(refresh, 15000);
})();
