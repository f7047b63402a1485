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
      var done = function () { status.textContent = button.dataset.copied || ""; };
      var byHand = function () {
        input.focus();
        input.select();
        status.textContent = button.dataset.select || "";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, byHand);
      } else {
        byHand();
      }
    });
  }
  function all() { document.querySelectorAll("[data-share]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
  document.addEventListener("htmx:afterSettle", all);
})();
