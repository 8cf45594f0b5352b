// The public portal's forms (kept out of the page: the Content-Security-Policy allows no inline script).
// (The error summary is focused by huying.js, on every page.)
(function () {
  // Disable a submit button once pressed so a double click sends one request (the idempotency
  // token makes a second one harmless anyway).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        setTimeout(function () { button.disabled = true; }, 0);
        button.setAttribute("aria-busy", "true");
      });
    });
  });
  // The urgency reason is only relevant when "urgent" is chosen.
  var reason = document.getElementById("field-urgency_reason");
  var radios = document.querySelectorAll("input[name=urgency]");
  function sync() {
    if (!reason) { return; }
    var urgent = document.querySelector("input[name=urgency]:checked");
    reason.hidden = !(urgent && urgent.value === "urgent") && !reason.querySelector(".field-error");
  }
  radios.forEach(function (radio) { radio.addEventListener("change", sync); });
  sync();
})();
