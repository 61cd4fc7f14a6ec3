// Line item editor: add/remove/reorder rows and live totals. Progressive enhancement: without this
// script the form still works (spare row, "Entfernen" checkboxes, position numbers). The server
// recomputes everything on save; the figures here follow the same rule (line net rounded to cents
// half-up, VAT per rate on the sum of the rounded line nets).
(function () {
  "use strict";
  const box = document.querySelector("fieldset.sales-lines");
  if (!box) return;
  const de = (box.dataset.locale || "de").startsWith("de");
  const tbody = box.querySelector("tbody");
  const fmt = new Intl.NumberFormat(de ? "de-DE" : "en-GB", { style: "currency", currency: "EUR" });
  const pct = new Intl.NumberFormat(de ? "de-DE" : "en-GB", { maximumFractionDigits: 2 });

  function parse(text) {
    let t = String(text || "").replace(/[€%\s\u00a0]|EUR/g, "");
    if (!t) return null;
    t = de ? t.replace(/\./g, "").replace(",", ".") : t.replace(/,/g, "");
    const n = Number(t);
    return Number.isFinite(n) ? n : NaN;
  }
  function half(x) { return Math.sign(x) * Math.round(Math.abs(x) + 1e-7); } // half-up, ties away from zero
  function cents(euros) { return half(euros * 100); } // an amount in euros as whole cents, as the server rounds
  function rows() { return Array.from(tbody.querySelectorAll("tr.sales-line")); }
  function field(tr, name) { return tr.querySelector(`[name="${name}"]`); }

  function recompute() {
    let net = 0; const bases = new Map();
    rows().forEach((tr, i) => {
      field(tr, "position").value = String(i + 1);
      const q = parse(field(tr, "quantity").value), p = parse(field(tr, "unit_price").value);
      const d = parse(field(tr, "discount_percent").value) || 0, rate = parse(field(tr, "vat_rate").value) || 0;
      const out = tr.querySelector(".line-net output");
      if (q === null || p === null || Number.isNaN(q) || Number.isNaN(p) || Number.isNaN(d)) { out.textContent = ""; return; }
      const c = cents(q * p * (1 - d / 100));
      out.textContent = fmt.format(c / 100);
      net += c; bases.set(rate, (bases.get(rate) || 0) + c);
    });
    const table = box.querySelector("table.sales-totals");
    table.querySelectorAll("tr.vat-row").forEach((r) => r.remove());
    let vat = 0; const grossRow = table.querySelector("tr.gross");
    Array.from(bases.keys()).sort((a, b) => b - a).forEach((rate) => {
      const base = bases.get(rate), tax = half(base * rate / 100);
      vat += tax;
      const tr = document.createElement("tr"); tr.className = "vat-row";
      const th = document.createElement("th"); th.textContent = `USt. ${pct.format(rate)} % auf ${fmt.format(base / 100)}`;
      const td = document.createElement("td"); td.textContent = fmt.format(tax / 100);
      tr.append(th, td); grossRow.parentNode.insertBefore(tr, grossRow);
    });
    table.querySelector(".total-net").textContent = fmt.format(net / 100);
    table.querySelector(".total-gross").textContent = fmt.format((net + vat) / 100);
  }

  function button(label, cls, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.className = `link ${cls}`; b.textContent = label; b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }
  function move(tr, delta) {
    const all = rows(), i = all.indexOf(tr), j = i + delta;
    if (j < 0 || j >= all.length) return;
    if (delta < 0) tbody.insertBefore(tr, all[j]); else tbody.insertBefore(tr, all[j].nextSibling);
    recompute();
    tr.querySelector(delta < 0 ? ".line-up" : ".line-down").focus();
  }
  function enhance(tr) {
    const cell = tr.querySelector(".col-actions");
    const label = cell.querySelector(".line-remove");
    if (label) label.hidden = true;
    cell.append(
      button("↑", "line-up", () => move(tr, -1)),
      button("↓", "line-down", () => move(tr, 1)),
      button("Entfernen", "line-delete", () => {
        const next = tr.nextElementSibling && tr.nextElementSibling.classList.contains("sales-line-errors") ? tr.nextElementSibling : null;
        if (next) next.remove();
        if (rows().length > 1) tr.remove(); else tr.querySelectorAll("input").forEach((i) => { if (i.name !== "position") i.value = ""; });
        recompute();
      }),
    );
    tr.addEventListener("keydown", (ev) => {
      if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) { ev.preventDefault(); move(tr, ev.key === "ArrowUp" ? -1 : 1); }
    });
  }
  function addRow() {
    const template = rows()[rows().length - 1];
    const tr = template.cloneNode(true);
    tr.classList.remove("has-error");
    tr.querySelectorAll("input").forEach((i) => { if (i.type === "checkbox") i.checked = false; else i.value = ""; });
    tr.querySelector(".line-net output").textContent = "";
    tr.querySelectorAll(".line-up, .line-down, .line-delete").forEach((b) => b.remove());
    field(tr, "vat_rate").value = "19";
    tbody.append(tr); enhance(tr); recompute();
    field(tr, "article").focus();
  }
  rows().forEach(enhance);
  const add = button("+ Position hinzufügen", "line-add button", addRow);
  add.classList.remove("link");
  box.querySelector(".sales-lines-scroll").after(add);
  box.addEventListener("input", recompute);
  box.addEventListener("change", recompute);
  recompute();
})();
