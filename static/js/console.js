// Staff console behaviour: live queues, countdowns, counters, presence and collision warnings.
//
// Relies on static/js/live.js (window.HuyingLive and the DOM events huying:event, huying:presence,
// huying:resync on document). Events only say "something changed"; this script then refetches the
// affected HTML fragment over HTTP, so the server stays the one source of truth and a missed event
// is repaired by the next resync.
(function () {
  "use strict";
  var root = document.querySelector("[data-console]");
  if (!root) { return; }
  var ds = root.dataset;
  var userId = parseInt(ds.userId || "0", 10);
  var appealId = parseInt(ds.appealId || "0", 10);
  var regions = Array.prototype.slice.call(root.querySelectorAll("[data-fragment-url]"));

  function fmt(template, value) { return (template || "%s").replace(/%[sd]/, value); }

  // --- Countdowns ------------------------------------------------------------------------------
  var AMBER_MS = 24 * 3600 * 1000;
  function updateCountdowns(scope) {
    (scope || root).querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = due - Date.now();
      var span = Math.abs(left);
      var amount;
      if (span >= 86400000) { amount = fmt(ds.i18nDay, Math.floor(span / 86400000)); }
      else if (span >= 3600000) { amount = fmt(ds.i18nHour, Math.floor(span / 3600000)); }
      else { amount = fmt(ds.i18nMinute, Math.max(1, Math.floor(span / 60000))); }
      var label = el.querySelector("[data-countdown]");
      if (label) { label.textContent = fmt(left > 0 ? ds.i18nLeft : ds.i18nOver, amount); }
      el.classList.remove("due--ok", "due--amber", "due--red");
      el.classList.add(left <= 0 ? "due--red" : (left <= AMBER_MS ? "due--amber" : "due--ok"));
    });
  }
  updateCountdowns();
  setInterval(updateCountdowns, 30000);

  // --- Fragment refresh ------------------------------------------------------------------------
  function isBusy(region) {
    // Never replace a form someone is filling in; refresh once they leave it.
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return true; }
    return Array.prototype.some.call(region.querySelectorAll("textarea, input[type=text]"), function (f) {
      return f.value !== f.defaultValue;
    }) || region.querySelector("details[open]") !== null;
  }

  function setStatus(text) {
    var status = root.querySelector("[data-live-status]");
    if (status) { status.textContent = text || ""; }
  }

  function refreshRegion(region, force) {
    if (!force && isBusy(region)) {
      region.setAttribute("data-stale", "1");
      setStatus(ds.i18nStale);
      return Promise.resolve();
    }
    region.removeAttribute("data-stale");
    return fetch(region.getAttribute("data-fragment-url"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      region.innerHTML = html;
      updateCountdowns(region);
      setStatus("");
      region.dispatchEvent(new CustomEvent("huying:refreshed", { bubbles: true }));
    }).catch(function () { region.setAttribute("data-stale", "1"); });
  }

  function refreshCounts() {
    if (!ds.countsUrl) { return Promise.resolve(); }
    return fetch(ds.countsUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data.nav || {}).forEach(function (key) {
          document.querySelectorAll('[data-counter="' + key + '"]').forEach(function (badge) {
            badge.textContent = data.nav[key];
            badge.hidden = !data.nav[key];
          });
        });
        Object.keys(data.queues || {}).forEach(function (key) {
          document.querySelectorAll('[data-queue-count="' + key + '"]').forEach(function (badge) {
            badge.textContent = data.queues[key];
          });
        });
      }).catch(function () { /* the next event or resync tries again */ });
  }

  var timer = null;
  function scheduleRefresh(force) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      regions.forEach(function (region) { refreshRegion(region, force); });
      refreshCounts();
    }, 150);
  }
  function refreshStale() {
    setTimeout(function () {
      regions.forEach(function (region) {
        if (region.getAttribute("data-stale") && !isBusy(region)) { refreshRegion(region); }
      });
    }, 200);
  }
  root.addEventListener("focusout", refreshStale);
  root.addEventListener("toggle", refreshStale, true); // a <details> row form was closed

  document.addEventListener("huying:event", function (e) {
    var detail = e.detail || {};
    if (appealId) {
      if (detail.appeal_id === appealId && detail.version > parseInt(ds.version, 10)) {
        var banner = root.querySelector("[data-stale-banner]");
        if (banner) { banner.hidden = false; }
      }
      refreshCounts();
      return;
    }
    scheduleRefresh(false);
  });
  // After a reconnect the server may have sent events we never saw: refetch everything.
  document.addEventListener("huying:resync", function () {
    if (appealId) { refreshCounts(); return; }
    scheduleRefresh(true);
  });
  refreshCounts();

  // --- Subscriptions and presence --------------------------------------------------------------
  var currentStatus = "viewing";
  var groups = (ds.groups || "").split(/\s+/).filter(Boolean);
  function live() { return window.HuyingLive; }
  function subscribeAll() {
    if (!live()) { return; }
    groups.forEach(function (g) { live().subscribe(g); });
    if (appealId) { live().presence(appealId, "viewing"); }
  }
  subscribeAll();
  // live.js re-sends subscriptions itself after reconnecting; presence is re-announced on resync.
  document.addEventListener("huying:resync", function () { if (appealId && live()) { live().presence(appealId, currentStatus); } });

  var idleTimer = null;
  function setPresence(status) {
    if (!appealId || !live()) { return; }
    if (status !== currentStatus) { currentStatus = status; live().presence(appealId, status); }
  }
  if (appealId) {
    var reply = root.querySelector("textarea[name='reply-reply']");
    if (reply) {
      reply.addEventListener("input", function () {
        setPresence("typing");
        clearTimeout(idleTimer);
        idleTimer = setTimeout(function () { setPresence("viewing"); }, 8000);
      });
    }
    window.addEventListener("pagehide", function () { if (live()) { live().presence(appealId, "left"); } });

    document.addEventListener("huying:presence", function (e) {
      var detail = e.detail || {};
      if (detail.appeal_id !== appealId) { return; }
      var others = (detail.users || []).filter(function (u) { return u.id !== userId && u.status !== "left"; });
      var box = root.querySelector("[data-presence]");
      box.innerHTML = "";
      others.forEach(function (u) {
        var item = document.createElement("span");
        item.className = "presence__user presence__user--" + u.status;
        item.textContent = fmt(u.status === "typing" ? ds.i18nTyping : ds.i18nViewing, u.name);
        box.appendChild(item);
      });
      var typing = others.filter(function (u) { return u.status === "typing"; });
      var warning = root.querySelector("[data-collision]");
      if (typing.length) {
        warning.textContent = fmt(ds.i18nCollision, typing.map(function (u) { return u.name; }).join("、"));
        warning.hidden = false;
      } else {
        warning.hidden = true;
        warning.textContent = "";
      }
    });
  }

  // --- Canned replies and the phone reveal -----------------------------------------------------
  root.querySelectorAll("[data-canned]").forEach(function (button) {
    button.addEventListener("click", function () {
      var area = root.querySelector("textarea[name='reply-reply']");
      if (!area) { return; }
      var text = button.getAttribute("data-canned");
      var start = area.selectionStart || 0, end = area.selectionEnd || 0;
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + text.length;
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
  root.querySelectorAll("form[data-reveal-phone]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { "X-Requested-With": "XMLHttpRequest" },
      }).then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
        .then(function (res) {
          var target = root.querySelector("[data-phone]");
          if (res.ok) { target.textContent = res.data.phone; form.remove(); }
          else { target.textContent += " — " + res.data.error; }
        });
    });
  });
})();
