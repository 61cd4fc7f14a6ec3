/* Kundenakte: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx: changing requests carry the CSRF token; errors replace nothing but tell the user.
  document.addEventListener("htmx:configRequest", function (event) {
    var verb = (event.detail.verb || "get").toLowerCase();
    if (verb !== "get") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var div = document.createElement("div");
    div.className = "flash flash-error";
    div.setAttribute("role", "alert");
    div.textContent = document.documentElement.lang === "en"
      ? "The section could not be loaded (" + event.detail.xhr.status + ")."
      : "Der Bereich konnte nicht geladen werden (" + event.detail.xhr.status + ").";
    box.appendChild(div);
  });

  // "…" menus and the user menu: a button toggles the panel next to it.
  function closeMenus(except) {
    document.querySelectorAll(".menu.open").forEach(function (menu) {
      if (menu === except) { return; }
      menu.classList.remove("open");
      var button = menu.querySelector(".menu-button");
      var panel = menu.querySelector(".menu-panel");
      if (button) { button.setAttribute("aria-expanded", "false"); }
      if (panel) { panel.hidden = true; }
    });
  }

  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".menu-button");
    if (button) {
      var menu = button.closest(".menu");
      var panel = menu.querySelector(".menu-panel");
      var open = !menu.classList.contains("open");
      closeMenus(menu);
      menu.classList.toggle("open", open);
      panel.hidden = !open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var first = menuItems(menu)[0];
        if (first) { first.focus(); }
      }
      event.preventDefault();
      return;
    }
    if (!event.target.closest(".menu-panel")) { closeMenus(null); }
    var toggle = event.target.closest('[data-toggle="nav"]');
    if (toggle) {
      var opened = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", opened ? "true" : "false");
    }
  });

  document.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest(".menu.open");
    if (event.key === "Escape") {
      if (menu) {
        closeMenus(null);
        var b = menu.querySelector(".menu-button");
        if (b) { b.focus(); }
      }
      document.body.classList.remove("nav-open");
      return;
    }
    if (!menu || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) { return; }
    var items = menuItems(menu);
    var index = items.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? index + 1 : index - 1;
    if (next < 0) { next = items.length - 1; }
    if (next >= items.length) { next = 0; }
    if (items[next]) { items[next].focus(); }
    event.preventDefault();
  });

  // Autocomplete: an input with data-suggest fills its datalist from a JSON list of strings.
  var timers = new WeakMap();
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-suggest]")) { return; }
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(function () {
      var q = input.value.trim();
      if (q.length < 2) { list.replaceChildren(); return; }
      fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : [];
      }).then(function (values) {
        list.replaceChildren.apply(list, values.map(function (value) {
          var option = document.createElement("option");
          option.value = value;
          return option;
        }));
      }).catch(function () { /* suggestions are optional */ });
    }, 200));
  });

  // Selects marked data-autosubmit submit their form when changed (filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  });
})();
