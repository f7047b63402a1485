/* The share box of a proposal gathering co-signs (templates/proposals/_share.html).
   Without JavaScript the link sits in a read-only box to select and copy by hand; with it,
   a 「复制链接」 button copies it (Clipboard API, or selecting the box where that is refused). */
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
      var settled = false;
      var once = function (then) {
        return function () { if (!settled) { settled = true; then(); } };
      };
      var done = function () { status.textContent = button.dataset.copied || ""; };
      // Where the Clipboard API is refused or does not answer (it can hang on a busy phone or
      // an unfocused window), select the box and copy it the older way while the tap still
      // counts as the person's own act; failing that, ask them to copy it by hand.
      var byHand = function () {
        input.focus();
        input.select();
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        status.textContent = (copied ? button.dataset.copied : button.dataset.select) || "";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(once(done), once(byHand));
        window.setTimeout(once(byHand), 1000);
      } else {
        once(byHand)();
      }
    });
  }
  function all() { document.querySelectorAll("[data-share]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
  document.addEventListener("htmx:afterSettle", all);
})();
