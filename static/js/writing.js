/* Writing without syntax: a small toolbar above each long text box (textarea[data-writing]):
   「加粗」, 「列表」, 「小标题」 put the marks the page understands around the chosen words, so
   nobody has to know them. The labels come from the box's data-* attributes (translated by the
   server). Without JavaScript there is no toolbar: a blank line makes a new paragraph. */
(function () {
  "use strict";
  if (window.weishiWriting) { return; }
  window.weishiWriting = true;

  function lineStart(text, at) { return text.lastIndexOf("\n", at - 1) + 1; }
  function lineEnd(text, at) {
    var end = text.indexOf("\n", at);
    return end === -1 ? text.length : end;
  }

  function changed(box) {
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  function bold(box) {
    var start = box.selectionStart, end = box.selectionEnd;
    var chosen = box.value.slice(start, end);
    var lead = chosen.match(/^\s*/)[0], trail = chosen.match(/\s*$/)[0];
    var words = chosen.trim();
    if (!words) {
      box.setRangeText("****", start, end, "end");
      box.setSelectionRange(start + 2, start + 2);
    } else {
      box.setRangeText(lead + "**" + words + "**" + trail, start, end, "select");
    }
    changed(box);
  }

  // Each chosen line (or the line of the caret) starts with ``mark``; pressed again, it no
  // longer does. (The server reads a list right under a line of text as a list.)
  function prefixLines(box, mark) {
    var text = box.value;
    var start = lineStart(text, box.selectionStart);
    // A selection ending just after a line break does not take in the next line.
    var last = box.selectionEnd > box.selectionStart ? box.selectionEnd - 1 : box.selectionEnd;
    var end = lineEnd(text, Math.max(last, box.selectionStart));
    var lines = text.slice(start, end).split("\n");
    var blank = lines.every(function (line) { return !line.trim(); });
    var all = !blank && lines.every(function (line) { return !line.trim() || line.indexOf(mark) === 0; });
    var out = blank ? mark : lines.map(function (line) {
      if (!line.trim()) { return line; }
      var bare = line.replace(/^(#{1,6} |[-*+] |\d+[.)] )/, "");
      return all ? bare : mark + bare;
    }).join("\n");
    box.setRangeText(out, start, end, "end");
    changed(box);
  }

  var ACTIONS = {
    bold: bold,
    list: function (box) { prefixLines(box, "- "); },
    heading: function (box) { prefixLines(box, "### "); }
  };

  function setUp(box) {
    if (box.dataset.writingReady) { return; }
    box.dataset.writingReady = "1";
    var bar = document.createElement("div");
    bar.className = "writing-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", box.dataset.writingLabel || "");
    if (box.id) { bar.setAttribute("aria-controls", box.id); }
    ["bold", "list", "heading"].forEach(function (name) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "writing-" + name;
      button.textContent = box.dataset["writing" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
      // Keep the selection in the box: a press must not move the focus first.
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () { ACTIONS[name](box); });
      bar.appendChild(button);
    });
    box.parentNode.insertBefore(bar, box);
  }

  function all(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll("textarea[data-writing]").forEach(setUp);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", function () { all(); }); }
  else { all(); }
  // Boxes that arrive later: a thread's composer or a message's edit form, swapped in live.
  document.addEventListener("htmx:load", function (event) { all(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function () { all(); });
  document.addEventListener("htmx:wsAfterMessage", function () { all(); });
})();
