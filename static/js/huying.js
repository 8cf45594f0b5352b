// Site-wide behaviour shared by every page: the large-text toggle (persisted in a cookie so the
// server renders the page large from the first paint) and copy-to-clipboard buttons.
(function () {
  "use strict";
  // A form that came back with errors: move focus to its summary (it names and links each field), so a
  // screen reader reads it and a keyboard user starts there. Public forms, staff actions, login, filters.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-large-text-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var on = !document.documentElement.classList.contains("large-text");
      document.documentElement.classList.toggle("large-text", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      document.cookie = "huying_large_text=" + (on ? "1" : "0") + ";path=/;max-age=31536000;SameSite=Lax";
    });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      var done = function () {
        var original = button.textContent;
        button.textContent = button.getAttribute("data-copied-label") || "✓";
        setTimeout(function () { button.textContent = original; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        try { document.execCommand("copy"); done(); } finally { document.body.removeChild(area); }
      }
    });
  });
})();
