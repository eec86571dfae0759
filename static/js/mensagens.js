/* Mensagens (demo): what customers and the NOC would have received, as plain text. */
"use strict";

(() => {
  const { el, api, setText } = App;

  function item(who, meta, text, when) {
    return el("li", {}, el("div", { class: "msg-head" }, el("strong", {}, who), el("span", {}, App.fmtDateTime(when))),
      meta ? el("div", { class: "small muted" }, meta) : null,
      text ? el("div", { class: "msg-text" }, text) : null);
  }

  const CHANNELS = { hsm: "WhatsApp (HSM)", whatsapp_cloud: "WhatsApp", whatsapp: "WhatsApp", telegram: "Telegram" };

  function customer(m) {
    return item(m.nome || "Cliente", `${App.fmtPhone(m.telefone) || "sem telefone"} · ${CHANNELS[m.canal] || m.canal} · modelo ${m.template || "?"}`,
      m.texto || "", m.quando);
  }

  function fill(list, messages, build, none) {
    list.replaceChildren(...(messages.length ? messages.map(build) : [el("li", { class: "messages-empty" }, none)]));
  }

  /** Newest first, as the server sends them. */
  async function refresh() {
    const data = await api("GET", "/api/demo/mensagens");
    App.showError(document.getElementById("m-erro"), null);
    const clientes = data.clientes || [];
    const noc = data.noc || [];
    fill(document.getElementById("m-clientes"), clientes, customer,
      "Nenhum aviso a clientes ainda: aprove um disparo em Monitoramento para vê-lo aqui.");
    fill(document.getElementById("m-noc"), noc, (m) => item(CHANNELS[m.canal] || m.canal || "NOC", "", m.texto || "", m.quando),
      "Nenhuma mensagem ao NOC ainda: o primeiro incidente detectado aparece aqui.");
    setText(document.getElementById("m-cli-total"), App.plural(clientes.length, "mensagem", "mensagens"));
    setText(document.getElementById("m-noc-total"), App.plural(noc.length, "mensagem", "mensagens"));
  }

  App.poll(() => refresh().catch((err) => {
    App.showError(document.getElementById("m-erro"), err);
    throw err;
  }), 5000);
})();
