// The live meeting board (voting/meeting_board.html): say when the connection is lost, reload
// when the server went away without htmx reconnecting, offer full screen, and keep the
// projector's screen awake. The board itself arrives over the socket (htmx ws extension).
(function () {
  "use strict";

  var MISSING = 4404;
  // Reconnected after these close codes: by htmx itself (abnormal closure, restart, try
  // again) and, for the server's own "try again later" (4013), by ws-backoff.js.
  var HTMX_RETRIES = [1006, 1011, 1012, 1013, 4013];
  var RELOAD_MS = 5000;

  function flag(name, shown) {
    var el = document.querySelector("[data-board-" + name + "]");
    if (el) { el.hidden = !shown; }
  }

  document.addEventListener("htmx:wsOpen", function () {
    flag("offline", false);
    flag("missing", false);
  });

  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    if (code === MISSING) {
      flag("missing", true);
      return;
    }
    flag("offline", true);
    if (HTMX_RETRIES.indexOf(code) < 0) {
      // e.g. 1001 "going away" when a server restarts: htmx would not try again.
      setTimeout(function () { window.location.reload(); }, RELOAD_MS);
    }
  });

  var button = document.querySelector("[data-board-fullscreen]");
  if (button && document.fullscreenEnabled) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        document.documentElement.requestFullscreen();
      }
    });
  }

  var lock = null;
  function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") { return; }
    navigator.wakeLock.request("screen").then(function (sentinel) {
      lock = sentinel;
      sentinel.addEventListener("release", function () { lock = null; });
    }).catch(function () { lock = null; });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && lock === null) { keepAwake(); }
  });
  keepAwake();
})();
