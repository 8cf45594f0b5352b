// The inbox page: say so when new messages arrive (live.js dispatches "huying:inbox" with the unread count).
(function () {
  "use strict";
  var notice = document.querySelector("[data-inbox-new]");
  if (!notice) { return; }
  var shown = parseInt(notice.getAttribute("data-unread"), 10) || 0;
  document.addEventListener("huying:inbox", function (e) {
    if (e.detail && e.detail.unread > shown) { notice.hidden = false; }
  });
})();
