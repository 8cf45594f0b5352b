// "These may answer your question": while a business types its appeal, ask the server for up to three
// published policy answers and show them beside the form. Never blocks filing: every failure is silent,
// and the form works the same without this script. Texts come from data attributes (translated).
(function () {
  "use strict";
  var box = document.getElementById("kb-suggestions");
  if (!box || !window.fetch || !window.FormData) { return; }
  var form = box.closest("form");
  var list = box.querySelector("[data-kb-list]");
  var status = document.querySelector("[data-kb-status]");
  var title = document.getElementById("id_title");
  var description = document.getElementById("id_description");
  if (!form || !list || !title || !description) { return; }
  // Show the answers right under the description, where the business is looking while it types.
  var descriptionField = document.getElementById("field-description");
  if (descriptionField && descriptionField.parentNode) {
    descriptionField.parentNode.insertBefore(box, descriptionField.nextSibling);
  }
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var token = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() : "";
  var timer = null;
  var lastQuery = "";
  var shownIds = "";
  var everShown = false;

  function value(selector) {
    var el = form.querySelector(selector);
    return el ? el.value : "";
  }

  function post(url, fields) {
    var data = new FormData();
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    if (csrf) { data.append("csrfmiddlewaretoken", csrf.value); }
    return fetch(url, { method: "POST", body: data, credentials: "same-origin",
                        headers: { "X-Requested-With": "XMLHttpRequest" } });
  }

  function render(items) {
    var ids = items.map(function (item) { return item.id; }).join(",");
    if (ids === shownIds) { return; }
    shownIds = ids;
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = item.question;
      var answer = document.createElement("p");
      answer.textContent = item.answer;
      var more = document.createElement("a");
      more.href = item.url;
      more.target = "_blank";
      more.rel = "noopener";
      more.textContent = box.getAttribute("data-open-label");
      details.appendChild(summary);
      details.appendChild(answer);
      details.appendChild(more);
      details.addEventListener("toggle", function () {
        if (details.open && token) {
          post(box.getAttribute("data-event-url"), { token: token, kind: "opened", article: String(item.id) })
            .catch(function () {});
        }
      });
      li.appendChild(details);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
    if (items.length) { everShown = true; }
    if (status) {
      status.textContent = items.length
        ? box.getAttribute("data-found-label").replace("{n}", String(items.length)) : "";
    }
  }

  function ask() {
    var text = (title.value + " " + description.value).trim();
    var query = [text, value("input[name=category]:checked"), value("#id_region")].join("|");
    if (text.length < 6 || query === lastQuery) { return; }
    lastQuery = query;
    post(box.getAttribute("data-suggest-url"), {
      token: token,
      title: title.value.slice(0, 200),
      description: description.value.slice(0, 5000),
      category: value("input[name=category]:checked"),
      region: value("#id_region")
    }).then(function (response) {
      return response.ok ? response.json() : { suggestions: [] };
    }).then(function (body) {
      render(body.suggestions || []);
    }).catch(function () {});
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 600);
  }

  [title, description].forEach(function (el) { el.addEventListener("input", schedule); });
  form.addEventListener("change", function (event) {
    if (event.target && (event.target.name === "category" || event.target.id === "id_region")) { schedule(); }
  });
  form.addEventListener("submit", function () {
    if (!everShown || !token || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("token", token);
    data.append("kind", "filed");
    if (csrf) { data.append("csrfmiddlewaretoken", csrf.value); }
    navigator.sendBeacon(box.getAttribute("data-event-url"), data);
  });
  if ((title.value + description.value).trim()) { schedule(); }
})();
