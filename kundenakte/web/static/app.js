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

  // "…" menus and the user menu: one widget (macros/menu.html). A details element opens and closes
  // without script; here: one menu open at a time, the first item focused on opening, arrows,
  // Home/End between items, Escape closes and returns the focus to the button, Tab closes.
  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
  }

  function menuButton(menu) {
    return menu.querySelector(":scope > summary");
  }

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }

  function openMenu(menu, focusLast) {
    closeMenus(menu);
    menu.open = true;
    var items = menuItems(menu);
    var item = focusLast ? items[items.length - 1] : items[0];
    if (item) { item.focus(); }
  }

  // toggle does not bubble: listen in the capture phase for every menu on the page. The summary
  // has role=button (what it is to assistive technology), so its expanded state is ours to tell.
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("details.menu")) { return; }
    var button = menuButton(menu);
    if (button) { button.setAttribute("aria-expanded", menu.open ? "true" : "false"); }
    if (!menu.open) { return; }
    closeMenus(menu);
    if (!menu.contains(document.activeElement) || document.activeElement === menuButton(menu)) {
      var first = menuItems(menu)[0];
      if (first) { first.focus(); }
    }
  }, true);

  document.addEventListener("click", function (event) {
    var inside = event.target.closest && event.target.closest("details.menu");
    closeMenus(inside);
    var toggle = event.target.closest('[data-toggle="nav"]');
    if (toggle) {
      var opened = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", opened ? "true" : "false");
    }
  });

  document.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest("details.menu");
    if (!menu) {
      if (event.key === "Escape") { document.body.classList.remove("nav-open"); }
      return;
    }
    var onButton = event.target === menuButton(menu);
    if (onButton && !menu.open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        openMenu(menu, event.key === "ArrowUp");
        event.preventDefault();
      }
      return;
    }
    if (!menu.open) { return; }
    if (event.key === "Escape") {
      menu.open = false;
      menuButton(menu).focus();
      event.preventDefault();
      return;
    }
    if (event.key === "Tab") { menu.open = false; return; }
    var items = menuItems(menu);
    if (!items.length) { return; }
    var index = items.indexOf(document.activeElement);
    var next;
    if (event.key === "ArrowDown") { next = index + 1 >= items.length ? 0 : index + 1; }
    else if (event.key === "ArrowUp") { next = index <= 0 ? items.length - 1 : index - 1; }
    else if (event.key === "Home") { next = 0; }
    else if (event.key === "End") { next = items.length - 1; }
    else { return; }
    items[next].focus();
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

  // Type-aheads (.field-picker, macros/fields.html): the text input asks data-picker for
  // {"results": [{id, label, company_id?, company?}], "total": n}; picking an entry puts its id into
  // the hidden input (the field's name) and its label into the text. Typing clears the id, so the
  // server judges the typed text (web/pickers.py). Text goes in as textContent only, never as HTML.
  function pickerParts(el) {
    var box = el.closest && el.closest(".field-picker");
    if (!box) { return null; }
    return {
      box: box,
      value: box.querySelector(".picker-value"),
      text: box.querySelector(".picker-text"),
      list: box.querySelector(".picker-list")
    };
  }

  function pickerOptions(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll('[role="option"]'));
  }

  function pickerClose(p) {
    p.list.hidden = true;
    p.text.setAttribute("aria-expanded", "false");
    p.text.removeAttribute("aria-activedescendant");
  }

  function pickerActivate(p, option) {
    pickerOptions(p).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      p.text.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.text.removeAttribute("aria-activedescendant");
    }
  }

  function pickerSet(p, id, label) {
    var changed = p.value.value !== id;
    p.value.value = id;
    p.text.value = label;
    if (changed) { p.value.dispatchEvent(new Event("change", { bubbles: true })); }
  }

  function pickerChoose(p, option) {
    pickerSet(p, option.dataset.id, option.dataset.label);
    pickerClose(p);
    // A contact picked first fills in its company (as the contact select does, documents.js).
    var target = p.box.dataset.fills && document.getElementById(p.box.dataset.fills);
    if (target && !target.value && option.dataset.companyId) {
      var other = pickerParts(target);
      if (other) {
        pickerSet(other, option.dataset.companyId, option.dataset.company || "");
      } else if (target.tagName === "SELECT" && target.querySelector('option[value="' + option.dataset.companyId + '"]')) {
        target.value = option.dataset.companyId;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  }

  function pickerNote(text) {
    var li = document.createElement("li");
    li.className = "picker-note";
    li.setAttribute("role", "presentation");
    li.textContent = text;
    return li;
  }

  function pickerShow(p, data) {
    var results = (data && data.results) || [];
    var items = results.map(function (entry, index) {
      var li = document.createElement("li");
      li.id = p.list.id + "-" + index;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.id = String(entry.id);
      li.dataset.label = entry.label;
      if (entry.company_id) {
        li.dataset.companyId = String(entry.company_id);
        li.dataset.company = entry.company || "";
      }
      li.textContent = entry.label;
      return li;
    });
    if (!items.length) {
      items.push(pickerNote(p.box.dataset.emptyText || ""));
    } else if (data.total > results.length) {
      items.push(pickerNote(p.box.dataset.moreText || ""));
    }
    p.list.replaceChildren.apply(p.list, items);
    p.list.hidden = false;
    p.text.setAttribute("aria-expanded", "true");
    pickerActivate(p, null);
  }

  var pickerTimers = new WeakMap();
  var pickerRequests = new WeakMap();
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".field-picker .picker-text")) { return; }
    var p = pickerParts(input);
    if (p.value.value) {
      p.value.value = "";
      p.value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    clearTimeout(pickerTimers.get(input));
    var q = input.value.trim();
    if (!q.replace(/\*/g, "")) { pickerClose(p); return; }
    pickerTimers.set(input, setTimeout(function () {
      var serial = (pickerRequests.get(input) || 0) + 1;
      pickerRequests.set(input, serial);
      fetch(p.box.dataset.picker + "?q=" + encodeURIComponent(q.slice(0, 100)), {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return response.ok && json ? response.json() : null;
      }).then(function (data) {
        // Only the answer to the latest request counts, and only while the text is unchanged.
        if (data && pickerRequests.get(input) === serial && input.value.trim() === q) { pickerShow(p, data); }
      }).catch(function () { /* suggestions are a convenience */ });
    }, 200));
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".field-picker .picker-text")) { return; }
    var p = pickerParts(input);
    if (p.list.hidden) { return; }
    var options = pickerOptions(p);
    var active = p.list.querySelector('[aria-selected="true"]');
    var index = options.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (options.length) {
        var next = event.key === "ArrowDown" ? index + 1 : index - 1;
        if (next < 0) { next = options.length - 1; }
        if (next >= options.length) { next = 0; }
        pickerActivate(p, options[next]);
      }
      event.preventDefault();
    } else if (event.key === "Enter") {
      // Enter picks the highlighted entry (or the only one) instead of submitting the form.
      var chosen = active || (options.length === 1 ? options[0] : null);
      if (chosen) { pickerChoose(p, chosen); }
      event.preventDefault();
    } else if (event.key === "Escape") {
      pickerClose(p);
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest('.picker-list [role="option"]');
    if (option) {
      event.preventDefault(); // keep the focus in the text input
      pickerChoose(pickerParts(option), option);
    } else if (event.target.closest && event.target.closest(".picker-list")) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusout", function (event) {
    var p = event.target.matches && event.target.matches(".field-picker .picker-text") ? pickerParts(event.target) : null;
    if (p) { pickerClose(p); }
  });

  // Stacked table cards on phones (app.css): each cell carries its column's heading as data-label.
  function labelCells(root) {
    if (!root.querySelectorAll) { return; }
    root.querySelectorAll("table.list").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll(":scope > thead > tr:first-child > th"), function (th) {
        return th.textContent.replace(/\s+/g, " ").trim();
      });
      if (!heads.length) { return; }
      table.querySelectorAll(":scope > tbody > tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (!cell.hasAttribute("data-label") && heads[col] !== undefined) { cell.setAttribute("data-label", heads[col]); }
          if (!cell.textContent.trim() && !cell.querySelector("img, input, button, select")) { cell.classList.add("blank"); }
          col += cell.colSpan || 1;
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  } else {
    labelCells(document);
  }
  document.addEventListener("htmx:load", function (event) { labelCells(event.target); });

  // Submitting: files over the limit are named at their field before anything is sent (the form
  // and all that was typed stay); while a submit runs its buttons are disabled; a form with files
  // goes by XMLHttpRequest to show the bytes sent, and the answer replaces the page as a normal
  // submit would. Without script the server answers the same errors (web/documents.py).
  function megabytes(n) { return (n / 1048576).toFixed(1).replace(".", document.documentElement.lang === "en" ? "." : ","); }

  function fileError(input, message) {
    var field = input.closest(".field") || input.parentNode;
    var p = field.querySelector(".field-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "field-error";
      p.id = input.id + "-error";
      p.setAttribute("role", "alert");
      field.appendChild(p);
    }
    p.textContent = message;
    field.classList.add("has-error");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id);
    input.focus();
  }

  function oversize(form) {
    var inputs = form.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i], max = Number(input.dataset.maxBytes) || 0, total = 0;
      var files = Array.prototype.slice.call(input.files || []);
      for (var j = 0; j < files.length; j++) {
        total += files[j].size;
        if (max && files[j].size > max) {
          fileError(input, (input.dataset.tooLarge || "").replace("%(name)s", files[j].name).replace("%(n)s", input.dataset.limitMb || ""));
          return true;
        }
      }
      var maxTotal = Number(input.dataset.maxTotal) || 0;
      if (maxTotal && total > maxTotal) {
        fileError(input, (input.dataset.tooLarge || "").replace("%(name)s", files.map(function (f) { return f.name; }).join(", "))
          .replace("%(n)s", input.dataset.limitMb || ""));
        return true;
      }
    }
    return false;
  }

  function submitButtons(form) {
    var own = Array.prototype.slice.call(form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]"));
    var id = form.getAttribute("id");
    return id ? own.concat(Array.prototype.slice.call(document.querySelectorAll('[form="' + id + '"][type=submit]'))) : own;
  }

  function setBusy(form, busy) {
    submitButtons(form).forEach(function (b) { b.disabled = busy; });
    if (busy) { form.setAttribute("aria-busy", "true"); } else { form.removeAttribute("aria-busy"); }
  }

  function progressBox(form) {
    var box = form.querySelector(".upload-progress");
    if (!box) {
      box = document.createElement("div");
      box.className = "upload-progress";
      box.setAttribute("role", "status");
      box.innerHTML = '<progress max="100" value="0"></progress> <span></span>';
      var footer = form.querySelector(".doc-form-footer") || form;
      footer.appendChild(box);
    }
    return box;
  }

  function sendWithProgress(form, submitter) {
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    var xhr = new XMLHttpRequest();
    var box = progressBox(form);
    // Attributes, not properties: a field named "action" or "method" shadows form.action/.method.
    var action = new URL(form.getAttribute("action") || window.location.href, window.location.href).href;
    var bar = box.querySelector("progress"), text = box.querySelector("span");
    xhr.open("POST", action);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      bar.max = e.total;
      bar.value = e.loaded;
      text.textContent = (form.dataset.progress || "%(sent)s / %(total)s MB")
        .replace("%(sent)s", megabytes(e.loaded)).replace("%(total)s", megabytes(e.total));
    });
    xhr.addEventListener("load", function () {
      // The answer is a whole page (the document after a redirect, or the form with its errors).
      var url = xhr.responseURL || action;
      document.open();
      document.write(xhr.responseText);
      document.close();
      history.replaceState(null, "", url);
    });
    xhr.addEventListener("error", function () {
      setBusy(form, false);
      text.textContent = document.documentElement.lang === "en"
        ? "The upload failed; please try again." : "Das Hochladen ist fehlgeschlagen; bitte erneut versuchen.";
    });
    xhr.send(data);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || (form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
    if (oversize(form)) { event.preventDefault(); return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    var hasFiles = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (i) { return i.files && i.files.length; });
    if (hasFiles && form.dataset.progress && window.FormData && window.XMLHttpRequest) {
      event.preventDefault();
      setBusy(form, true);
      sendWithProgress(form, event.submitter);
      return;
    }
    if (form.hasAttribute("data-no-busy")) { return; }
    // Disabled only after the browser has taken the form's entries (a disabled submitter would be
    // left out); enabled again after a while in case the answer was a download and the page stays.
    setTimeout(function () { setBusy(form, true); }, 0);
    setTimeout(function () { setBusy(form, false); }, 15000);
  });
  // Back from the next page (bfcache): the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(function (f) { setBusy(f, false); });
  });

  // Selects marked data-autosubmit submit their form when changed (filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  });

  // Dialog links (MenuItem.dialog): the target page's [data-dialog-content] in a modal <dialog>.
  // The target is an ordinary page too: without JavaScript (or if loading fails) the link just
  // navigates there. Escape (native) or "Schließen" closes the dialog and focus returns to the opener.
  var dialogOpener = null;
  var dialogRequest = 0;  // only the newest load may fill the dialog

  function pageDialog() {
    var dialog = document.getElementById("page-dialog");
    if (dialog) { return dialog; }
    dialog = document.createElement("dialog");
    dialog.id = "page-dialog";
    dialog.className = "page-dialog";
    dialog.setAttribute("aria-labelledby", "page-dialog-title");
    var head = document.createElement("div");
    head.className = "page-dialog-head";
    var title = document.createElement("h2");
    title.id = "page-dialog-title";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button subtle page-dialog-close";
    close.textContent = "×";
    close.setAttribute("aria-label", document.documentElement.lang === "en" ? "Close" : "Schließen");
    close.addEventListener("click", function () { dialog.close(); });
    head.append(title, close);
    var body = document.createElement("div");
    body.className = "page-dialog-body";
    dialog.append(head, body);
    dialog.addEventListener("close", function () {
      body.replaceChildren();
      if (dialogOpener && document.contains(dialogOpener)) { dialogOpener.focus(); }
      dialogOpener = null;
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function loadIntoDialog(url, keepFocusOn) {
    var request = ++dialogRequest;
    return fetch(url, { credentials: "same-origin", headers: { "X-Kundenakte-Dialog": "1" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        if (request !== dialogRequest) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        var content = page.querySelector("[data-dialog-content]");
        if (!content) { throw new Error("no dialog content"); }
        var dialog = pageDialog();
        var heading = page.querySelector(".toolbar h1");
        dialog.querySelector("#page-dialog-title").textContent = heading ? heading.textContent.trim() : "";
        var body = dialog.querySelector(".page-dialog-body");
        // A choice made before a reload (the search narrowed the list) stays made if still offered.
        var chosen = Array.prototype.map.call(body.querySelectorAll('input[type="radio"]:checked'), function (r) { return [r.name, r.value]; });
        body.replaceChildren(document.importNode(content, true));
        chosen.forEach(function (pair) {
          body.querySelectorAll('input[type="radio"]').forEach(function (r) { if (r.name === pair[0] && r.value === pair[1]) { r.checked = true; } });
        });
        dialog.dataset.url = url;
        if (!dialog.open) { dialog.showModal(); }
        var focus = (keepFocusOn && body.querySelector('[name="' + keepFocusOn + '"]')) || body.querySelector("[autofocus]");
        if (focus) {
          focus.focus();
          if (focus.setSelectionRange && typeof focus.value === "string") { focus.setSelectionRange(focus.value.length, focus.value.length); }
        }
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-dialog]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0 || !window.HTMLDialogElement) { return; }
    event.preventDefault();
    var menu = link.closest(".menu");
    dialogOpener = menu ? menu.querySelector(".menu-button") : link;
    closeMenus(null);
    loadIntoDialog(link.href).catch(function () { window.location.href = link.href; });
  });

  // In the dialog, "Abbrechen" ([data-dialog-close]) closes it; a click on a choice's row picks it.
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("#page-dialog [data-dialog-close]");
    if (close) {
      event.preventDefault();
      pageDialog().close();
      return;
    }
    var row = event.target.closest && event.target.closest("[data-choice-list] tbody tr");
    if (row && !event.target.closest("input, a, label, button")) {
      var radio = row.querySelector('input[type="radio"]');
      if (radio) { radio.checked = true; radio.focus(); }
    }
  });

  // Inside the dialog a GET form (the search) reloads the dialog instead of the page.
  function dialogSearch(form, focusName) {
    form.querySelectorAll("[data-choice-search]").forEach(function (input) { clearTimeout(dialogTimers.get(input)); });
    var url = new URL(form.getAttribute("action") || pageDialog().dataset.url, window.location.href);
    url.search = new URLSearchParams(new FormData(form)).toString();
    return loadIntoDialog(url.toString(), focusName);
  }

  var dialogTimers = new WeakMap();
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest("#page-dialog") || (form.method || "get").toLowerCase() !== "get") { return; }
    event.preventDefault();
    dialogSearch(form, "q").catch(function () { form.submit(); });
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("#page-dialog [data-choice-search]") || !input.form) { return; }
    clearTimeout(dialogTimers.get(input));
    dialogTimers.set(input, setTimeout(function () { dialogSearch(input.form, input.name).catch(function () {}); }, 250));
  });

  // A choice list (radios in [data-choice-list]) with its search field ([data-choice-search]):
  // ArrowDown in the search field moves to the list, arrows move within it (native radio
  // behaviour), Enter on a choice submits its form. On the plain page Escape goes back.
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (!el.matches) { return; }
    var scope = el.closest("[data-dialog-content]");
    if (!scope) { return; }
    if (el.matches("[data-choice-search]") && event.key === "ArrowDown") {
      var radios = scope.querySelectorAll('[data-choice-list] input[type="radio"]');
      if (!radios.length) { return; }
      var target = scope.querySelector('[data-choice-list] input[type="radio"]:checked') || radios[0];
      target.checked = true;
      target.focus();
      event.preventDefault();
    } else if (el.matches('[data-choice-list] input[type="radio"]') && event.key === "Enter") {
      el.checked = true;
      event.preventDefault();
      el.form.requestSubmit();
    } else if (event.key === "Escape" && !el.closest("#page-dialog") && scope.dataset.cancelUrl) {
      window.location.href = scope.dataset.cancelUrl;
    }
  });

  // Tabs: a [data-tabs] container's child fieldsets ([data-tab-label]) become tab panels. Without
  // JavaScript they are shown one below the other. A panel holding an error is selected first.
  document.querySelectorAll("[data-tabs]").forEach(function (box, boxIndex) {
    var panels = Array.prototype.slice.call(box.querySelectorAll(":scope > [data-tab-label]"));
    if (panels.length < 2) { return; }
    var list = document.createElement("div");
    list.className = "tabs";
    list.setAttribute("role", "tablist");
    var tabs = panels.map(function (panel, index) {
      var tab = document.createElement("button");
      tab.type = "button";
      tab.id = "tab-" + boxIndex + "-" + index;
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      tab.textContent = panel.dataset.tabLabel;
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      list.appendChild(tab);
      return tab;
    });
    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        tab.setAttribute("aria-selected", i === index ? "true" : "false");
        tab.tabIndex = i === index ? 0 : -1;
        panels[i].hidden = i !== index;
      });
      if (focus) { tabs[index].focus(); }
    }
    list.addEventListener("click", function (event) {
      var tab = event.target.closest('[role="tab"]');
      if (tab) { select(tabs.indexOf(tab), false); }
    });
    list.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index < 0) { return; }
      if (event.key === "ArrowRight") { select((index + 1) % tabs.length, true); event.preventDefault(); }
      if (event.key === "ArrowLeft") { select((index + tabs.length - 1) % tabs.length, true); event.preventDefault(); }
    });
    box.insertBefore(list, panels[0]);
    var withError = panels.findIndex(function (panel) { return panel.querySelector(".has-error"); });
    select(withError >= 0 ? withError : 0, false);
  });
})();
