/* The share box of a proposal gathering co-signs (templates/proposals/_share.html).
   Without JavaScript the link sits in a read-only box to select and copy by hand; with it,
   a 「复制链接」 button selects the box and copies it (the Clipboard API where the browser
   refuses that). */
(function () {
  "use strict";
  function setUp(box) {
    var input = box.querySelector("[data-share-url]");
    var button = box.querySelector("[data-share-copy]");
    var status = box.querySelector("[data-share-status]");
    if (!input || !button || button.dataset.ready) return;
    button.dataset.ready = "1";
    button.hidden = false;
    input.addEventListener("focus", function () { input.select(); });
    button.addEventListener("click", function () {
      // First the older way, at once, while the tap still counts as the person's own act:
      // select the box and copy it. It answers on the spot, where the Clipboard API can hang
      // (a busy phone, a window that lost focus) and would need a timer to give up on it.
      input.focus();
      input.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      if (copied) {
        status.textContent = button.dataset.copied || "";
        return;
      }
      // Refused (some browsers have dropped it): the Clipboard API, and failing that, or with
      // no answer within a second, ask the person to copy the selected link by hand.
      var settled = false;
      var once = function (text) {
        return function () { if (!settled) { settled = true; status.textContent = text || ""; } };
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          once(button.dataset.copied), once(button.dataset.select));
        window.setTimeout(once(button.dataset.select), 1000);
      } else {
        once(button.dataset.select)();
      }
    });
  }
  function all() { document.querySelectorAll("[data-share]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
  document.addEventListener("htmx:afterSettle", all);
})();
