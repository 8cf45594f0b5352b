/* Polls the report's progress (JSON) until it is done or failed, updating the progress bar. */
(function () {
  "use strict";
  var box = document.getElementById("report-status");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("report-progress");
  var text = document.getElementById("report-status-text");
  var download = document.getElementById("report-download");
  var error = document.getElementById("report-error");
  var status = box.getAttribute("data-status");
  if (status === "done" || status === "failed") return;

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        text.textContent = data.status_label + " · " + data.progress + "%";
        if (data.status === "done") {
          download.href = data.download_url;
          download.hidden = false;
          download.focus();
          return;
        }
        if (data.status === "failed") {
          error.querySelector("span").textContent = data.error;
          error.hidden = false;
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 800);
})();
