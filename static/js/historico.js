/* Histórico: decisions with who, when and the current state; CSV export is a plain link. */
"use strict";

(() => {
  const { el, td, api, badge, setText } = App;
  const tbody = document.querySelector("#historico tbody");

  function decision(acao) {
    return acao === "aprovar" ? App.statusBadge("APROVADO", "ok") : App.statusBadge("NEGADO", "err");
  }

  function state(h) {
    const value = String(h.status_atual || "").toUpperCase();
    if (value.includes("NORMAL")) return App.statusBadge("NORMALIZADO", "ok");
    if (value) return App.statusBadge("AINDA ATIVO", "warn");
    return "–";
  }

  /** What an approval did, in counts that add up to the affected clients. */
  function sendingDetail(counts) {
    return [
      counts.falhas ? App.plural(counts.falhas, "falha", "falhas") : "",
      counts.incertos ? `${App.plural(counts.incertos, "aviso incerto", "avisos incertos")} (o monitor caiu durante o envio)` : "",
      counts.sem_telefone ? `${App.fmtInt(counts.sem_telefone)} sem telefone` : "",
      counts.telefones_repetidos ? `${App.plural(counts.telefones_repetidos, "telefone repetido", "telefones repetidos")} (um aviso por telefone)` : "",
      counts.ja_avisados_24h ? `${App.fmtInt(counts.ja_avisados_24h)} já ${counts.ja_avisados_24h === 1 ? "avisado" : "avisados"} nas últimas 24 h` : "",
    ].filter(Boolean).join(" · ");
  }

  function nextDispatch(h) {
    if (h.decisao !== "aprovar") return "–";
    const next = h.proximo_envio_permitido;
    return next && next * 1000 > Date.now() ? `Bloqueado até ${App.fmtDateTime(next)}` : "Liberado";
  }

  function row(h) {
    const snap = h.snapshot || {};
    const where = [h.olt || snap.olt, h.slot_pon || snap.slot_pon].filter(Boolean).join(" / ") || "–";
    const counts = h.contagens || {};
    const sent = h.decisao === "aprovar" ? App.plural(counts.enviados ?? 0, "enviado", "enviados") : "–";
    const detail = h.decisao === "aprovar" ? sendingDetail(counts) : "";
    return el("tr", { "data-id": h.incidente },
      td("Data", App.fmtDateTime(h.decidido_em || h.quando)),
      td("OLT / PON", el("span", { class: "mono wrap-any" }, where)),
      td("Tipo", badge(h.tipo || snap.tipo)),
      td("Decisão", decision(h.decisao)),
      td("Quem", el("span", { class: "cell-main c-usuario" }, h.usuario || "–"),
        h.comentario ? el("span", { class: "cell-sub c-comentario" }, `“${h.comentario}”`) : null),
      td("Envios", sent, detail ? el("span", { class: "cell-sub" }, detail) : null),
      td("Estado atual", state(h)),
      td("Próximo disparo", nextDispatch(h)));
  }

  async function load() {
    const data = await api("GET", "/api/historico");
    const list = Array.isArray(data) ? data : [];
    tbody.replaceChildren(...list.map(row));
    document.getElementById("h-vazio").hidden = list.length > 0;
    document.getElementById("historico").hidden = list.length === 0;
    setText(document.getElementById("h-total"), `${App.fmtInt(list.length)} decisões`);
  }

  load().catch((err) => App.showError(document.getElementById("h-erro"), err));
})();
