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

  function initEditor(holder) {
    var input = document.getElementById(holder.getAttribute("data-input"));
    if (!input || typeof window.Quill === "undefined") return;
    var quill = new window.Quill(holder, { theme: "snow", modules: { toolbar: TOOLBAR } });
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
