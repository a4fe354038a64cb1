// The review page's keyboard and small helpers. No dependencies, no build.
// j/k move between drafts, a accepts, r rejects (with a reason), e edits,
// u undoes the last decision, ? shows the keys. Every action is a plain
// form underneath, so the page works without this script.
(function () {
  "use strict";
  var cards = function () { return Array.prototype.slice.call(document.querySelectorAll("article.draft")); };
  var current = null;
  var pendingOpen = "";

  function select(card, scroll) {
    if (!card) return;
    if (current) current.classList.remove("current");
    current = card;
    card.classList.add("current");
    card.focus({ preventScroll: !scroll });
    if (scroll) card.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var cs = cards();
    if (!cs.length) return;
    var i = cs.indexOf(current);
    if (i < 0) { select(cs[0], true); return; }
    select(cs[Math.max(0, Math.min(cs.length - 1, i + step))], true);
  }
  function ensure() {
    if (!current) { var cs = cards(); if (cs.length) select(cs[0], true); }
    return current;
  }
  function open(kind) {
    var card = ensure();
    if (!card) return;
    var d = card.querySelector("details." + kind);
    if (!d) return;
    d.open = true;
    var field = d.querySelector(kind === "reject" ? "input[name=reason]" : "textarea");
    if (field) { field.focus(); if (field.select && kind === "reject") field.select(); }
  }
  function submit(form) {
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  // The edit box warns when the text no longer says a measured number.
  function checkNumbers(form) {
    var area = form.querySelector("textarea");
    var warn = form.querySelector(".warn");
    if (!area || !warn) return;
    var missing = [];
    form.querySelectorAll("code.number").forEach(function (c) {
      if (area.value.indexOf(c.textContent) < 0) missing.push(c.textContent);
    });
    if (missing.length) {
      warn.textContent = "The edited text no longer says the measured " + missing.join(", ") + ".";
      warn.hidden = false;
    } else {
      warn.textContent = "";
      warn.hidden = true;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.edit-form").forEach(function (f) {
      var area = f.querySelector("textarea");
      if (area) area.addEventListener("input", function () { checkNumbers(f); });
      checkNumbers(f);
    });
    var help = document.getElementById("help");
    var hb = document.getElementById("help-button");
    if (hb && help) hb.addEventListener("click", function () { if (help.showModal) help.showModal(); });
    var copy = document.getElementById("copy");
    if (copy) copy.addEventListener("click", function () {
      var md = document.getElementById(copy.getAttribute("data-target"));
      var done = document.getElementById("copied");
      var ok = function () { if (done) done.textContent = "Copied."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(md.value).then(ok, function () { md.select(); document.execCommand("copy"); ok(); });
      } else { md.select(); document.execCommand("copy"); ok(); }
    });
    document.querySelectorAll("article.draft").forEach(function (c) {
      c.addEventListener("focusin", function () { if (current !== c) { if (current) current.classList.remove("current"); current = c; c.classList.add("current"); } });
    });
    var h = location.hash && document.getElementById(location.hash.slice(1));
    if (h && h.matches("article.draft")) select(h, true);
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing) {
      if (ev.key === "Escape") {
        var d = t.closest("details");
        if (d) { d.open = false; var card = t.closest("article.draft"); if (card) select(card, false); }
      }
      return;
    }
    var help = document.getElementById("help");
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": { var c = ensure(); if (c) submit(c.querySelector("form.accept-form")); break; }
      // r and e move the focus into a text field: on keyup, so the
      // key's own character never lands in it.
      case "r": pendingOpen = "reject"; break;
      case "e": pendingOpen = "edit"; break;
      case "u": { var u = document.getElementById("undo-form"); var b = u && u.querySelector("button"); if (b && !b.disabled) submit(u); break; }
      case "?": if (help && help.showModal) { if (help.open) help.close(); else help.showModal(); } break;
      default: return;
    }
    ev.preventDefault();
  });
  document.addEventListener("keyup", function (ev) {
    if (!pendingOpen) return;
    var kind = pendingOpen;
    pendingOpen = "";
    if ((kind === "reject" && ev.key === "r") || (kind === "edit" && ev.key === "e")) open(kind);
  });
})();
