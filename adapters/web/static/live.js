// Keeps the list of open requests up to date: asks the server every few seconds and
// puts its answer in place when it changed. Without script the page still works
// (reload it by hand). Nothing here comes from anywhere but this server.
(function () {
  "use strict";
  var box = document.querySelector("[data-live]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-live");
  var last = box.innerHTML.trim();
  function busy() {
    var active = document.activeElement;
    return active && box.contains(active) && active.tagName !== "BUTTON" && active.tagName !== "A";
  }
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null || busy()) { return; }
        if (html.trim() !== last) {
          last = html.trim();
          box.innerHTML = html;
        }
      })
      .catch(function () { /* the bot is restarting: try again next time */ });
  }
  window.setInterval(refresh, 3000);
})();
