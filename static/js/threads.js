// Deliberation threads (docs/threads-protocol.md): on every (re)open of a thread's socket,
// ask for the messages missed while away; keep presence fresh with a ping every 30 s; while
// the socket is closed (reconnecting: see ws-backoff.js), the composer posts the plain form
// instead of waiting; a message's 「回复」 button makes the composer a reply to it (without
// JavaScript, the button is a link that reloads the page with the composer set so).
(function () {
  "use strict";

  var PING_MS = 30000;
  var timers = new WeakMap();

  function section(target) {
    return target && target.closest ? target.closest("[data-thread]") : null;
  }

  function lastId(thread) {
    var max = 0;
    thread.querySelectorAll("[data-message-id]").forEach(function (el) {
      var id = parseInt(el.getAttribute("data-message-id"), 10);
      if (id > max) { max = id; }
    });
    return max;
  }

  // A frame about a message this page does not show (one before the page's window of
  // messages: a reply to it, its edit or hiding) has nowhere to go. htmx would report a
  // missing target; the parts whose element is not on the page are left out instead, and the
  // rest of the frame is swapped as usual. (hx-ext="ws,thread-frames" on the thread.)
  htmx.defineExtension("thread-frames", {
    transformResponse: function (text) {
      var template = document.createElement("template");
      template.innerHTML = text;
      var dropped = false;
      Array.prototype.slice.call(template.content.children).forEach(function (part) {
        if (part.id && part.hasAttribute("hx-swap-oob") && !document.getElementById(part.id)) {
          part.remove();
          dropped = true;
        }
      });
      return dropped ? template.innerHTML : text;
    }
  });

  document.addEventListener("htmx:wsOpen", function (event) {
    var thread = section(event.target);
    var socket = event.detail && event.detail.socketWrapper;
    if (!thread || !socket) { return; }
    thread.setAttribute("data-live", "");
    socket.send(JSON.stringify({ action: "resume", after: lastId(thread) }));
    clearInterval(timers.get(thread));
    timers.set(thread, setInterval(function () {
      socket.send(JSON.stringify({ action: "ping" }));
    }, PING_MS));
  });

  document.addEventListener("htmx:wsClose", function (event) {
    var thread = section(event.target);
    if (thread) {
      thread.removeAttribute("data-live");
      clearInterval(timers.get(thread));
    }
  });

  // No live connection: htmx would keep the message in memory until one opens (lost if the
  // page is left meanwhile). The form posts itself instead, to the same service.
  document.addEventListener("htmx:wsConfigSend", function (event) {
    var form = event.target;
    var thread = section(form);
    if (!thread || thread.hasAttribute("data-live") || form.tagName !== "FORM") { return; }
    event.preventDefault();
    HTMLFormElement.prototype.submit.call(form);
  });

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var thread = section(event.target);
    if (thread && thread.querySelector("[data-message-id]")) {
      var empty = thread.querySelector(".thread-empty");
      if (empty) { empty.remove(); }
    }
  });

  function composerParts(thread) {
    var id = thread.getAttribute("data-thread");
    return {
      field: document.getElementById("thread-" + id + "-reply-to"),
      banner: document.getElementById("thread-" + id + "-replying"),
      body: document.getElementById("thread-" + id + "-body")
    };
  }

  function replyTo(thread, button) {
    var parts = composerParts(thread);
    if (!parts.field || !parts.banner) { return false; }
    parts.field.value = button.getAttribute("data-reply");
    parts.banner.querySelector("[data-reply-name]").textContent = button.getAttribute("data-reply-name");
    parts.banner.querySelector("[data-reply-excerpt]").textContent = button.getAttribute("data-reply-excerpt");
    parts.banner.hidden = false;
    if (parts.body) {
      parts.body.focus();
      parts.body.scrollIntoView({ block: "center" });
    }
    return true;
  }

  function cancelReply(thread) {
    var parts = composerParts(thread);
    if (!parts.field || !parts.banner) { return false; }
    parts.field.value = "";
    parts.banner.hidden = true;
    if (parts.body) { parts.body.focus(); }
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    var reply = target && target.closest("[data-reply]");
    var cancel = target && target.closest("[data-reply-cancel]");
    var thread = section(reply || cancel);
    if (!thread) { return; }
    if (reply ? replyTo(thread, reply) : cancelReply(thread)) { event.preventDefault(); }
  });
})();
