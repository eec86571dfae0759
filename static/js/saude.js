/* Saúde: /healthz plus the components and per-channel outbox counts. */
"use strict";

(() => {
  const { el, api, setText } = App;
  const TONES = { ok: ["OK", "ok"], erro: ["FALHA", "err"], atencao: ["ATENÇÃO", "warn"], desativado: ["DESATIVADO", "off"] };

  function fact(label, value) {
    return el("div", { class: "fact" }, el("span", {}, label), el("strong", {}, value));
  }

  async function refresh() {
    const [health, parts] = await Promise.all([api("GET", "/healthz"), api("GET", "/api/saude")]);
    const [status, tone] = { ok: ["OPERANDO", "ok"], iniciando: ["INICIANDO", "warn"], erro: ["COM PROBLEMAS", "err"] }[health.status] || [String(health.status), "off"];
    document.getElementById("s-status").replaceChildren(App.statusBadge(status, tone));
    const last = health.ultimo_ciclo;
    setText(document.getElementById("s-ciclo"), last ? `${App.fmtDateTime(last.started_at)} (${App.fmtAgo(last.started_at)})` : "nenhum");
    setText(document.getElementById("s-duracao"), last && last.duracao != null ? `${App.fmtDecimal(last.duracao)} s` : "–");
    setText(document.getElementById("s-offline"), last ? App.fmtInt(last.offline) : "–");
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
    await OfflineChart.load(document.getElementById("grafico"), document.getElementById("grafico-resumo"));
  }

  App.poll(refresh, 15000);
})();
