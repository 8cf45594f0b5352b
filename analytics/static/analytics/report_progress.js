/* Polls the report's progress (JSON) until it is done or failed. The download link is added to
   the page only once the file exists (never shown, hidden, before), then focused. Without
   JavaScript the page refreshes itself (<noscript> meta refresh) and the server renders the link. */
(function () {
  "use strict";
  var box = document.getElementById("report-status");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("report-progress");
  var text = document.getElementById("report-status-text");
  var result = document.getElementById("report-result");
  var status = box.getAttribute("data-status");
  if (status === "done" || status === "failed") return;

  function show(templateId) {
    var template = document.getElementById(templateId);
    result.textContent = "";
    result.appendChild(template.content.cloneNode(true));
    return result;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        if (text.textContent !== data.status_text) text.textContent = data.status_text;
        if (data.status === "done" && data.download_url) {
          var link = show("report-done-template").querySelector("a");
          link.href = data.download_url;
          link.focus();
          return;
        }
        if (data.status === "failed") {
          show("report-failed-template").querySelector("span").textContent = data.error;
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 800);
})();
