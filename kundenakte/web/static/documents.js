/* Document pages: Quill editors bound to hidden inputs, contact lists filtered by company,
   image upload from the editor, confirmation of destructive forms. No inline script (CSP). */
(function () {
  "use strict";

  var TOOLBAR = [
    [{ header: [2, 3, false] }],
    ["bold", "italic", "underline", "strike"],
    [{ list: "ordered" }, { list: "bullet" }],
    ["blockquote", "link", "image"],
    ["clean"],
  ];
  // Keyboard: Tab and Shift+Tab move the focus out of the editor (Quill's own Tab bindings would
  // insert a tab or indent, a keyboard trap for everything below the editor), Escape leaves it too,
  // Ctrl+M inserts a tab character for who wants one.
  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), ' +
    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

  function focusAfter(el) {
    var all = Array.prototype.filter.call(document.querySelectorAll(FOCUSABLE), function (x) {
      return x.offsetParent !== null || x === document.activeElement;
    });
    for (var i = 0; i < all.length; i++) {
      if (!el.contains(all[i]) && (el.compareDocumentPosition(all[i]) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        all[i].focus();
        return;
      }
    }
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  }

  var KEYBOARD = {
    bindings: {
      tab: null, "remove tab": null, indent: null, outdent: null, "table tab": null,
      "indent code-block": null, "outdent code-block": null,
      "insert tab": {
        key: "m", ctrlKey: true, handler: function (range) {
          this.quill.insertText(range.index, "\t", "user");
          this.quill.setSelection(range.index + 1, 0, "silent");
          return false;
        }
      }
    }
  };

  var IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

  function csrfToken(el) {
    var form = el.closest("form");
    var input = form && form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function showError(holder, message) {
    var p = holder.parentNode.querySelector(".field-error.js");
    if (!p) {
      p = document.createElement("p");
      p.className = "field-error js";
      p.setAttribute("role", "alert");
      holder.parentNode.appendChild(p);
    }
    p.textContent = message;
  }

  function uploadImage(quill, holder, url) {
    var picker = document.createElement("input");
    picker.type = "file";
    picker.accept = IMAGE_TYPES.join(",");
    picker.addEventListener("change", function () {
      var file = picker.files && picker.files[0];
      if (!file) return;
      var body = new FormData();
      body.append("image", file);
      body.append("csrf_token", csrfToken(holder));
      fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(holder) } })
        .then(function (r) {
          return r.json().then(function (data) { return { ok: r.ok, data: data }; });
        })
        .then(function (res) {
          if (!res.ok || !res.data.url) throw new Error(res.data.error || "Hochladen fehlgeschlagen.");
          var range = quill.getSelection(true);
          quill.insertEmbed(range ? range.index : quill.getLength(), "image", res.data.url, "user");
        })
        .catch(function (err) { showError(holder, err.message); });
    });
    picker.click();
  }

  // Quill's toolbar controls carry English format names (or none, the pickers); name them in the
  // page's language from the labels the template gives (data-labels, macros/fields.html).
  function nameToolbar(holder) {
    var labels = {};
    try { labels = JSON.parse(holder.getAttribute("data-labels") || "{}"); } catch (e) { labels = {}; }
    var toolbar = holder.previousElementSibling;
    if (!toolbar || !toolbar.classList.contains("ql-toolbar")) return;
    toolbar.setAttribute("role", "toolbar");
    if (labels.toolbar) toolbar.setAttribute("aria-label", labels.toolbar);
    toolbar.querySelectorAll("button").forEach(function (b) {
      var format = (b.className.match(/ql-([a-z]+)/) || [])[1];
      var key = format + (b.value ? "-" + b.value : "");
      var label = labels[key] || labels[format];
      if (label) { b.setAttribute("aria-label", label); b.title = label; }
    });
    toolbar.querySelectorAll(".ql-picker").forEach(function (picker) {
      var format = (picker.className.match(/ql-([a-z]+)/) || [])[1];
      var label = picker.querySelector(".ql-picker-label");
      if (label && labels[format]) label.setAttribute("aria-label", labels[format]);
      picker.querySelectorAll(".ql-picker-item").forEach(function (item) {
        var name = labels[format + "-" + (item.getAttribute("data-value") || "none")];
        if (name) item.setAttribute("aria-label", name);
      });
    });
  }

  function initEditor(holder) {
    var input = document.getElementById(holder.getAttribute("data-input"));
    if (!input || typeof window.Quill === "undefined") return;
    var quill = new window.Quill(holder, { theme: "snow", modules: { toolbar: TOOLBAR, keyboard: KEYBOARD } });
    // The editable element is Quill's inner root: it carries the field's name and the keys hint.
    quill.root.setAttribute("role", "textbox");
    quill.root.setAttribute("aria-multiline", "true");
    if (holder.getAttribute("aria-labelledby")) quill.root.setAttribute("aria-labelledby", holder.getAttribute("aria-labelledby"));
    var hint = holder.parentNode.querySelector(".richtext-keys");
    if (hint && hint.id) quill.root.setAttribute("aria-describedby", hint.id);
    quill.root.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        ev.preventDefault();
        focusAfter(holder);
      }
    });
    nameToolbar(holder);
    if (input.value) {
      // convert() parses in an inert document: nothing in the stored HTML runs.
      quill.setContents(quill.clipboard.convert({ html: input.value }), "silent");
    }
    var sync = function () {
      input.value = quill.getLength() <= 1 && !quill.root.querySelector("img") ? "" : quill.root.innerHTML;
    };
    quill.on("text-change", sync);
    var form = holder.closest("form");
    if (form) form.addEventListener("submit", sync);
    var url = holder.getAttribute("data-upload-url");
    if (url) {
      quill.getModule("toolbar").addHandler("image", function () { uploadImage(quill, holder, url); });
    }
    // Without an upload URL (a new document) Quill's default handler embeds a data: URL, which the
    // server's sanitizer accepts for raster images only.
  }

  // Contacts (and contact fields) offer only the chosen company's people, plus those without one.
  function initFilters(root) {
    root.querySelectorAll("select[data-filter-by]").forEach(function (select) {
      var source = document.getElementById(select.getAttribute("data-filter-by"));
      if (!source) return;
      var apply = function () {
        var company = source.value;
        Array.prototype.forEach.call(select.options, function (opt) {
          var group = opt.getAttribute("data-group");
          var visible = !opt.value || !company || !group || group === company;
          opt.hidden = !visible;
          opt.disabled = !visible;
          if (!visible && opt.selected) opt.selected = false;
        });
      };
      source.addEventListener("change", apply);
      apply();
      // Picking a contact first fills in its company.
      if (select.id === "f-contact-id") {
        select.addEventListener("change", function () {
          var opt = select.options[select.selectedIndex];
          var group = opt && opt.getAttribute("data-group");
          if (group && !source.value) {
            source.value = group;
            apply();
          }
        });
      }
    });
  }

  function initConfirm(root) {
    root.querySelectorAll("form.confirm[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }

  function init() {
    document.querySelectorAll(".richtext-editor[data-input]").forEach(initEditor);
    initFilters(document);
    initConfirm(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
