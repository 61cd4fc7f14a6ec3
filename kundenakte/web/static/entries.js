/* Repeatable rows of the contact and company forms (templates/macros/entries.html).
   Without this file the form works with its spare rows, "entfernen" checkboxes and the
   "weitere …" submit button. Here: the button adds a row in place (from the list's <template>)
   and focuses its first input; each row gets an "Entfernen" button that removes it and moves the
   focus to the next row (or the add button); a live region says what happened. */
(function () {
  "use strict";

  function rows(list) {
    return Array.prototype.slice.call(list.querySelectorAll(".entry-rows > [data-entry]"));
  }

  function announce(list, text) {
    var form = list.closest("form");
    var status = form && form.querySelector("[data-entries-status]");
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  // Row names for screen readers ("E-Mail-Adresse 2") follow the rows' order on the page.
  function renumber(list) {
    var label = list.getAttribute("data-row-label") || "";
    rows(list).forEach(function (row, i) {
      var legend = row.querySelector("[data-entry-label]");
      if (legend) { legend.textContent = label + " " + (i + 1); }
      var button = row.querySelector(".entry-remove-button .visually-hidden");
      if (button) { button.textContent = " " + label + " " + (i + 1); }
    });
  }

  function firstInput(row) {
    return row.querySelector("input:not([type=radio]):not([type=checkbox]), select");
  }

  function nextNumber(list) {
    var key = list.getAttribute("data-entries");
    var highest = -1;
    list.querySelectorAll("input[name^='" + key + "-'], select[name^='" + key + "-']").forEach(function (input) {
      var match = /^[a-z]+-(\d+)-/.exec(input.name);
      if (match) { highest = Math.max(highest, parseInt(match[1], 10)); }
    });
    return highest + 1;
  }

  function enhanceRow(list, row) {
    var remove = row.querySelector("[data-entry-remove]");
    if (!remove || row.querySelector(".entry-remove-button")) { return; }
    remove.hidden = true;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button subtle entry-remove-button";
    button.textContent = list.getAttribute("data-remove") || "Entfernen";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    button.appendChild(hidden);
    button.addEventListener("click", function () {
      var all = rows(list);
      var index = all.indexOf(row);
      var name = (row.querySelector("[data-entry-label]") || {}).textContent || "";
      row.remove();
      renumber(list);
      var rest = rows(list);
      var target = rest[index] || rest[index - 1];
      var focus = target ? firstInput(target) : list.querySelector(".entry-add");
      if (focus) { focus.focus(); }
      announce(list, (list.getAttribute("data-removed") || "").replace(/: .*$/, ": " + name));
    });
    row.querySelector(".entry-flags").appendChild(button);
  }

  function addRow(list) {
    var template = list.querySelector("template[data-entry-template]");
    if (!template) { return; }
    var n = String(nextNumber(list));
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__n__/g, n);
    var row = holder.querySelector("[data-entry]");
    list.querySelector(".entry-rows").appendChild(row);
    enhanceRow(list, row);
    renumber(list);
    var focus = firstInput(row);
    if (row.querySelector("[id$='-street']")) { focus = row.querySelector("[id$='-street']"); }
    if (focus) { focus.focus(); }
    announce(list, (list.getAttribute("data-added") || "").replace(/: .*$/, ": " + row.querySelector("[data-entry-label]").textContent));
  }

  document.querySelectorAll("[data-entries]").forEach(function (list) {
    rows(list).forEach(function (row) { enhanceRow(list, row); });
    renumber(list);
    var add = list.querySelector(".entry-add");
    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        addRow(list);
      });
    }
  });
}());
