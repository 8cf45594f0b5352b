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
  // A live update never destroys input: rows holding focus, an edited field or an open <details>
  // form are kept as they are and the fresh rows are merged around them; focus stays on the same
  // element of the same appeal (by data-appeal-id); a screen reader hears one short message.
  var FIELDS = "textarea, input:not([type=hidden]), select";

  function isDirty(field) {
    if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return field.value !== field.defaultValue;
  }

  function isBusyNode(node) {
    var active = document.activeElement;
    if (active && active !== document.body && node.contains(active) && active.matches(FIELDS)) { return true; }
    if (node.matches && node.matches("details[open]")) { return true; }
    if (node.querySelector("details[open]")) { return true; }
    return Array.prototype.some.call(node.querySelectorAll(FIELDS), isDirty);
  }

  var statusTimer = null;
  function setStatus(text) {
    var status = root.querySelector("[data-live-status]");
    if (!status) { return; }
    text = text || "";
    clearTimeout(statusTimer);
    if (status.textContent === text) {
      if (!text) { return; }
      // Same words again (another new appeal): clear first so assistive technology repeats them.
      status.textContent = "";
      statusTimer = setTimeout(function () { status.textContent = text; }, 150);
      return;
    }
    status.textContent = text;
  }

  // What is focused, described so the same control can be found again in fresh HTML.
  function focusKey(region) {
    var el = document.activeElement;
    if (!el || el === document.body || !region.contains(el)) { return null; }
    var row = el.closest("[data-appeal-id]");
    var scope = row || region;
    var same = Array.prototype.filter.call(scope.querySelectorAll(el.tagName), function (x) {
      return x.getAttribute("name") === el.getAttribute("name") && x.getAttribute("href") === el.getAttribute("href");
    });
    return {
      appealId: row ? row.getAttribute("data-appeal-id") : null,
      tag: el.tagName, name: el.getAttribute("name"), href: el.getAttribute("href"),
      index: same.indexOf(el), element: el,
    };
  }

  function restoreFocus(region, key, rowIndex) {
    if (!key || (document.activeElement && document.activeElement !== document.body && region.contains(document.activeElement))) {
      return;
    }
    if (key.element.isConnected) { key.element.focus(); return; }
    var scope = key.appealId ? region.querySelector('[data-appeal-id="' + key.appealId + '"]') : region;
    var target = null;
    if (scope) {
      var same = Array.prototype.filter.call(scope.querySelectorAll(key.tag), function (x) {
        return x.getAttribute("name") === key.name && x.getAttribute("href") === key.href;
      });
      target = same[Math.max(0, Math.min(key.index, same.length - 1))] || scope.querySelector("a[href], button, input, select, textarea");
    }
    if (!target && key.appealId) {
      // The appeal left this list: the row now in its place, else the list itself.
      var rows = region.querySelectorAll("[data-queue-body] [data-appeal-id]");
      var next = rows[Math.min(rowIndex, rows.length - 1)];
      target = next ? next.querySelector("a[href], button") : null;
    }
    if (!target) {
      region.setAttribute("tabindex", "-1");
      target = region;
    }
    target.focus();
  }

  // Replace ``live``'s content with ``fresh``'s except the busy rows, which stay where they are
  // (moving a focused element would blur it). Returns false when the structures differ around a
  // busy row and the update must wait until the person is done.
  function merge(live, fresh, stale) {
    if (!isBusyNode(live)) {
      live.replaceWith(fresh);
      return true;
    }
    if (live.tagName === "TBODY") { return mergeRows(live, fresh, stale); }
    var a = live.children, b = fresh.children;
    if (a.length !== b.length || live.tagName !== fresh.tagName) { return false; }
    var pairs = [];
    for (var i = 0; i < a.length; i++) {
      if (a[i].tagName !== b[i].tagName) { return false; }
      pairs.push([a[i], b[i]]);
    }
    // Attributes of the container itself (badges' text lives in its children).
    var ok = true;
    pairs.forEach(function (p) { ok = merge(p[0], p[1], stale) && ok; });
    return ok;
  }

  function mergeRows(live, fresh, stale) {
    var busy = {};
    Array.prototype.forEach.call(live.children, function (row) {
      if (row.hasAttribute("data-appeal-id") && isBusyNode(row)) { busy[row.getAttribute("data-appeal-id")] = row; }
    });
    Array.prototype.slice.call(live.children).forEach(function (row) {
      if (!busy[row.getAttribute("data-appeal-id")]) { row.remove(); }
    });
    var anchor = null;
    var freshRows = Array.prototype.slice.call(fresh.children);
    var kept = Object.keys(busy).length;
    freshRows.forEach(function (row) {
      var id = row.getAttribute("data-appeal-id");
      var mine = id && busy[id];
      if (mine) {
        if (mine.getAttribute("data-version") !== row.getAttribute("data-version")) { stale.changed = true; }
        delete busy[id];
        anchor = mine;
        return;
      }
      if (!id && kept) { return; } // the "queue is empty" row while the person's row is still shown
      if (anchor) { anchor.after(row); } else { live.prepend(row); }
      anchor = row;
    });
    Object.keys(busy).forEach(function (id) {
      busy[id].classList.add("row--gone");
      stale.changed = true;
    });
    return true;
  }

  function queueIds(scope) {
    var ids = {};
    scope.querySelectorAll("[data-queue-body] [data-appeal-id]").forEach(function (row) {
      ids[row.getAttribute("data-appeal-id")] = true;
    });
    return ids;
  }

  function announceAdded(n) {
    if (n <= 0) { return; }
    setStatus(n === 1 && ds.i18nAddedOne ? ds.i18nAddedOne : fmt(ds.i18nAdded, n));
  }

  function refreshRegion(region) {
    return fetch(region.getAttribute("data-fragment-url"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      var template = document.createElement("template");
      template.innerHTML = html;
      var fresh = template.content;
      var before = queueIds(region);
      var key = focusKey(region);
      var rowIndex = 0;
      if (key && key.appealId) {
        rowIndex = Array.prototype.indexOf.call(region.querySelectorAll("[data-queue-body] [data-appeal-id]"),
          key.element.closest("[data-appeal-id]"));
      }
      var stale = { changed: false };
      var merged;
      if (!isBusyNode(region)) {
        region.replaceChildren(fresh);
        merged = true;
      } else {
        // Pair the region's top-level nodes with the fresh ones (same structure on every render).
        var wrapper = document.createElement("div");
        wrapper.appendChild(fresh);
        merged = wrapper.children.length === region.children.length;
        if (merged) {
          var pairs = [];
          for (var i = 0; i < region.children.length; i++) { pairs.push([region.children[i], wrapper.children[i]]); }
          pairs.forEach(function (p) { merged = merge(p[0], p[1], stale) && merged; });
        }
      }
      if (!merged || stale.changed) {
        // Shown once; the list refreshes again when the person leaves the field.
        region.setAttribute("data-stale", "1");
        if ((root.querySelector("[data-live-status]") || {}).textContent !== ds.i18nStale) { setStatus(ds.i18nStale); }
      } else {
        region.removeAttribute("data-stale");
      }
      restoreFocus(region, key, Math.max(0, rowIndex));
      updateCountdowns(region);
      if (!ds.addedKey) {
        var after = queueIds(region);
        announceAdded(Object.keys(after).filter(function (id) { return !before[id]; }).length);
      }
      region.dispatchEvent(new CustomEvent("huying:refreshed", { bubbles: true }));
    }).catch(function () { region.setAttribute("data-stale", "1"); });
  }

  var lastAdded = null;
  function refreshCounts() {
    if (!ds.countsUrl) { return Promise.resolve(); }
    return fetch(ds.countsUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data.nav || {}).forEach(function (key) {
          document.querySelectorAll('[data-counter="' + key + '"]').forEach(function (badge) {
            if (badge.textContent !== String(data.nav[key])) { badge.textContent = data.nav[key]; }
            badge.hidden = !data.nav[key];
          });
        });
        Object.keys(data.queues || {}).forEach(function (key) {
          document.querySelectorAll('[data-queue-count="' + key + '"]').forEach(function (badge) {
            if (badge.textContent !== String(data.queues[key])) { badge.textContent = data.queues[key]; }
          });
        });
        if (ds.addedKey) {
          // "queues.sign_for" / "nav.triage": announce growth of that number, whichever tab is open.
          var parts = ds.addedKey.split(".");
          var value = Number((data[parts[0]] || {})[parts[1]] || 0);
          if (lastAdded !== null) { announceAdded(value - lastAdded); }
          lastAdded = value;
        }
      }).catch(function () { /* the next event or resync tries again */ });
  }

  var timer = null;
  function scheduleRefresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      regions.forEach(function (region) { refreshRegion(region); });
      refreshCounts();
    }, 150);
  }
  function refreshStale() {
    setTimeout(function () {
      regions.forEach(function (region) {
        if (region.getAttribute("data-stale") && !isBusyNode(region)) {
          if ((root.querySelector("[data-live-status]") || {}).textContent === ds.i18nStale) { setStatus(""); }
          refreshRegion(region);
        }
      });
    }, 200);
  }
  root.addEventListener("focusout", refreshStale);
  root.addEventListener("toggle", refreshStale, true); // a <details> row form was closed
  root.addEventListener("reset", refreshStale, true);

  function showStaleBanner(text) {
    var banner = root.querySelector("[data-stale-banner]");
    if (!banner) { return; }
    if (text) {
      var note = banner.querySelector("[data-stale-text]");
      if (note) { note.textContent = text; }
    }
    banner.hidden = false; // inside a role=status region: announced once when it appears
  }

  document.addEventListener("huying:event", function (e) {
    var detail = e.detail || {};
    if (appealId) {
      if (detail.appeal_id === appealId && detail.version > parseInt(ds.version, 10)) { showStaleBanner(); }
      refreshCounts();
      return;
    }
    scheduleRefresh();
  });
  // After a reconnect the server may have sent events we never saw: refetch everything (merged
  // around whatever the person is typing, like any other update).
  document.addEventListener("huying:resync", function () {
    if (appealId) { refreshCounts(); return; }
    scheduleRefresh();
  });
  document.addEventListener("huying:revoked", function (e) {
    var detail = e.detail || {};
    if (appealId) { showStaleBanner(detail.message); } else { setStatus(detail.message); }
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

    var lastPresence = "[]";
    document.addEventListener("huying:presence", function (e) {
      var detail = e.detail || {};
      if (detail.appeal_id !== appealId) { return; }
      var others = (detail.users || []).filter(function (u) { return u.id !== userId && u.status !== "left"; });
      // Heartbeats repeat the same list every 20 s: touch the live region only when it changes.
      var signature = JSON.stringify(others.map(function (u) { return [u.id, u.name, u.status]; }));
      if (signature === lastPresence) { return; }
      lastPresence = signature;
      var box = root.querySelector("[data-presence]");
      box.replaceChildren();
      others.forEach(function (u) {
        var item = document.createElement("span");
        item.className = "presence__user presence__user--" + u.status;
        item.textContent = fmt(u.status === "typing" ? ds.i18nTyping : ds.i18nViewing, u.name);
        box.appendChild(item);
      });
      var typing = others.filter(function (u) { return u.status === "typing"; });
      var warning = root.querySelector("[data-collision]");
      var text = typing.length ? fmt(ds.i18nCollision, typing.map(function (u) { return u.name; }).join("、")) : "";
      if (warning.textContent !== text) { warning.textContent = text; }
      warning.hidden = !text;
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
