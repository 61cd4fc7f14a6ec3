/* The mail form's address choices (templates/communication/recipient_choices.html): the recipient
   field offers the contact's addresses as suggestions, and each listed address gets a button that
   puts it into the field. Without this file the addresses are listed to copy. */
(function () {
  "use strict";
  document.querySelectorAll("[data-recipient-for]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-recipient-for"));
    if (!input) { return; }
    input.setAttribute("list", "to-email-choices");
    var status = box.querySelector(".recipient-current");
    box.querySelectorAll("button[data-recipient]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        input.value = button.getAttribute("data-recipient");
        if (status) { status.textContent = button.getAttribute("data-describes"); }
        input.focus();
      });
    });
  });
}());
