/* Huying live connection: one websocket per tab to /ws/live/ (see docs/realtime.md).
 *
 * - Reconnects with exponential backoff (1 s … 30 s, with jitter) and re-subscribes.
 * - After every (re)connect it asks the server for "hello" and fires `huying:resync` so pages
 *   refetch what they show: events missed while offline are never replayed, the page reloads state.
 * - Fires DOM CustomEvents on `document`: `huying:event` (appeal changes, deduplicated across
 *   groups), `huying:presence`, `huying:inbox`, `huying:resync`, `huying:error`,
 *   `huying:revoked` (access to a group ended; it is not asked for again),
 *   `huying:connection` ({state: "open" | "closed" | "unauthenticated"}).
 * - Fills `[data-counter="unread"]` from inbox pushes (console.js fills the other badges by fetching
 *   the console's counts after each event).
 * - Declarative use: `data-live-group="bureau.5"` on any element subscribes to that group;
 *   `data-presence-appeal="12"` announces "viewing" and turns to "typing" while a textarea or
 *   input inside `[data-presence-typing]` is being edited.
 * - Script use: `HuyingLive.subscribe("dispatch")`, `HuyingLive.unsubscribe(...)`,
 *   `HuyingLive.presence(12, "typing")`, `HuyingLive.reconnect()` (drop and reopen now).
 */
(function () {
  "use strict";
  if (window.HuyingLive) { return; }

  var groups = new Set();
  var presence = new Map(); // appeal id -> status
  var seen = [];
  var socket = null;
  var attempt = 0;
  var timer = null;
  var stopped = false;
  var connectedOnce = false;
  var HEARTBEAT_MS = 20000;

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("huying:" + name, { detail: detail }));
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function setCounter(name, value) {
    document.querySelectorAll('[data-counter="' + name + '"]').forEach(function (badge) {
      var n = Number(value) || 0;
      badge.textContent = n > 99 ? "99+" : String(n);
      badge.hidden = n === 0;
      badge.setAttribute("aria-label", String(n));
    });
  }

  function refreshUnread() {
    if (!document.querySelector('[data-counter="unread"]')) { return; }
    fetch("/notifications/unread/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { setCounter("unread", data.unread); } })
      .catch(function () { /* offline: the next inbox push or resync fills it */ });
  }

  function firstSeen(eventId) {
    if (eventId == null) { return true; }
    if (seen.indexOf(eventId) !== -1) { return false; }
    seen.push(eventId);
    if (seen.length > 500) { seen.shift(); }
    return true;
  }

  function onMessage(raw) {
    var message;
    try { message = JSON.parse(raw.data); } catch (e) { return; }
    switch (message.type) {
      case "event":
        if (firstSeen(message.event_id)) { emit("event", message); }
        break;
      case "presence":
        emit("presence", message);
        break;
      case "inbox":
        setCounter("unread", message.unread);
        emit("inbox", message);
        break;
      case "hello":
        refreshUnread();
        emit("resync", { serverTime: message.server_time, reconnected: connectedOnce });
        connectedOnce = true;
        break;
      case "error":
        emit("error", message);
        break;
      case "revoked":
        // Access to this group ended (the appeal moved to another bureau, a role changed): do not
        // ask for it again after a reconnect.
        groups.delete(message.group);
        if (/^appeal\.\d+$/.test(message.group || "")) { presence.delete(Number(message.group.split(".")[1])); }
        emit("revoked", message);
        break;
      default:
        break;
    }
  }

  function connect() {
    if (stopped) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket.onopen = function () {
      attempt = 0;
      emit("connection", { state: "open" });
      groups.forEach(function (group) { send({ action: "subscribe", group: group }); });
      presence.forEach(function (status, appealId) { send({ action: "presence", appeal_id: appealId, status: status }); });
      send({ action: "hello" });
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4401) {
        // Logged out (or the session expired): reconnecting would only fail again.
        stopped = true;
        emit("connection", { state: "unauthenticated" });
        return;
      }
      emit("connection", { state: "closed" });
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (stopped || timer) { return; }
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt += 1;
    timer = window.setTimeout(function () { timer = null; connect(); }, delay);
  }

  var api = {
    subscribe: function (group) {
      if (!group || groups.has(group)) { return; }
      groups.add(group);
      send({ action: "subscribe", group: group });
    },
    unsubscribe: function (group) {
      groups.delete(group);
      send({ action: "unsubscribe", group: group });
    },
    presence: function (appealId, status) {
      appealId = Number(appealId);
      if (!appealId) { return; }
      if (status === "left") { presence.delete(appealId); } else { presence.set(appealId, status); }
      send({ action: "presence", appeal_id: appealId, status: status });
    },
    // Drop the connection and open a new one now (the page resyncs as after any reconnect).
    reconnect: function () {
      window.clearTimeout(timer);
      timer = null;
      attempt = 0;
      if (socket) { socket.onclose = null; socket.close(); socket = null; emit("connection", { state: "closed" }); }
      if (!stopped) { connect(); }
    },
    get connected() { return !!socket && socket.readyState === WebSocket.OPEN; },
  };
  window.HuyingLive = api;

  function wireDom() {
    document.querySelectorAll("[data-live-group]").forEach(function (el) {
      el.getAttribute("data-live-group").split(/[\s,]+/).forEach(function (g) { if (g) { api.subscribe(g); } });
    });
    document.querySelectorAll("[data-presence-appeal]").forEach(function (el) {
      var appealId = Number(el.getAttribute("data-presence-appeal"));
      api.presence(appealId, "viewing");
      var idleTimer = null;
      el.querySelectorAll("[data-presence-typing] textarea, [data-presence-typing] input[type=text], textarea[data-presence-typing]").forEach(function (field) {
        field.addEventListener("input", function () {
          if (presence.get(appealId) !== "typing") { api.presence(appealId, "typing"); }
          window.clearTimeout(idleTimer);
          idleTimer = window.setTimeout(function () { api.presence(appealId, "viewing"); }, 8000);
        });
      });
    });
  }

  // Keep presence entries alive (they expire on the server without a refresh).
  window.setInterval(function () {
    presence.forEach(function (status, appealId) { send({ action: "presence", appeal_id: appealId, status: status }); });
  }, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", function () {
    presence.forEach(function (status, appealId) {
      if (document.hidden && status === "viewing") { api.presence(appealId, "idle"); }
      else if (!document.hidden && status === "idle") { api.presence(appealId, "viewing"); }
    });
  });
  window.addEventListener("pagehide", function () {
    presence.forEach(function (status, appealId) { send({ action: "presence", appeal_id: appealId, status: "left" }); });
  });
  window.addEventListener("online", function () {
    if (!socket && !stopped) { window.clearTimeout(timer); timer = null; attempt = 0; connect(); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { wireDom(); connect(); });
  } else {
    wireDom();
    connect();
  }
})();
