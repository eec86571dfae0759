/* Mensagens (demo): what customers and the NOC would have received, as plain text. */
"use strict";

(() => {
  const { el, api, setText } = App;

  function item(who, meta, text, when) {
    return el("li", {}, el("div", { class: "msg-head" }, el("strong", {}, who), el("span", {}, App.fmtDateTime(when))),
      meta ? el("div", { class: "small muted" }, meta) : null,
      text ? el("div", { class: "msg-text" }, text) : null);
  }

  async function refresh() {
    const data = await api("GET", "/api/demo/mensagens");
    App.showError(document.getElementById("m-erro"), null);
    const clientes = (data.clientes || []).slice().reverse();
    const noc = (data.noc || []).slice().reverse();
    document.getElementById("m-clientes").replaceChildren(...clientes.map((m) =>
      item(m.nome || "Cliente", `${m.telefone || "?"} · modelo ${m.template || "?"}`, m.texto || "", m.quando)));
    document.getElementById("m-noc").replaceChildren(...noc.map((m) => item(m.canal || "NOC", "", m.texto || "", m.quando)));
    setText(document.getElementById("m-cli-total"), `${App.fmtInt(clientes.length)} mensagens`);
    setText(document.getElementById("m-noc-total"), `${App.fmtInt(noc.length)} mensagens`);
  }

  App.poll(() => refresh().catch((err) => {
    App.showError(document.getElementById("m-erro"), err);
    throw err;
  }), 5000);
})();
