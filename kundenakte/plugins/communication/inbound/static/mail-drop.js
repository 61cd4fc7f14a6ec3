// Drag and drop onto the upload form: the dropped files go into the file input and the form is
// sent as usual. Without JavaScript the file input works on its own.
(function () {
  "use strict";
  document.querySelectorAll("[data-mail-drop]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var hint = form.querySelector(".drop-hint");
    if (!input || typeof DataTransfer === "undefined") { return; }
    if (hint) { hint.hidden = false; }
    form.addEventListener("dragover", function (event) { event.preventDefault(); form.classList.add("dragging"); });
    form.addEventListener("dragleave", function () { form.classList.remove("dragging"); });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      form.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      input.files = event.dataTransfer.files;
      form.submit();
    });
  });
})();
