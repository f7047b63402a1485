// Reconnecting with a growing delay (docs/threads-protocol.md, "Reconnecting"). htmx's ws
// extension reconnects after close codes 1006, 1011, 1012 and 1013 with a random delay that
// doubles per attempt — but it counts attempts from the last successful open, and a server
// that accepts and then closes at once (4013, "try again later", while Redis is away) opens
// successfully every time: htmx would then retry within a second, for ever. Here the count
// starts again only after a connection has stayed open a while, and the delay grows to a
// minute, half of it random so that a whole meeting's phones do not come back at once.
// 4013 is the server's own code for "try again later" (council.realtime.TRY_AGAIN_LATER):
// daphne cannot send RFC 6455's 1013, and htmx does not reconnect after 4013 by itself.
(function () {
  "use strict";

  var BASE_MS = 1000;
  var MAX_MS = 60000;
  var STABLE_MS = 10000;
  var attempts = 0;
  var openedAt = 0;

  if (!window.htmx) { return; }

  var TRY_AGAIN_LATER = 4013;

  document.addEventListener("htmx:wsOpen", function () { openedAt = Date.now(); });

  htmx.config.wsReconnectDelay = function () {
    if (openedAt && Date.now() - openedAt >= STABLE_MS) { attempts = 0; }
    openedAt = 0;
    var cap = Math.min(MAX_MS, BASE_MS * Math.pow(2, attempts));
    attempts += 1;
    return cap / 2 + Math.random() * (cap / 2);
  };

  document.addEventListener("htmx:wsClose", function (event) {
    var detail = event.detail || {};
    var code = detail.event ? detail.event.code : 0;
    if (code !== TRY_AGAIN_LATER || !detail.socketWrapper) { return; }
    setTimeout(function () {
      if (document.body.contains(event.target)) { detail.socketWrapper.reconnect(); }
    }, htmx.config.wsReconnectDelay(0));
  });
})();
