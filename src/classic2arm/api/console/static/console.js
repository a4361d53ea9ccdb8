// classic2arm console: the only script (no inline scripts; the pages work without it).
// 1. A section with data-poll="URL" is refreshed from URL every second while an operation runs; when the fresh
//    copy no longer polls, the whole page is reloaded so the rest of it (ARM side, findings) is current too.
// 2. The Commit button stays disabled until "yes" is typed in its box (the server checks it as well).
(function () {
  "use strict";
  function poll(el) {
    var url = el.getAttribute("data-poll");
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var fresh = tpl.content.firstElementChild;
          if (!fresh) { return; }
          el.replaceWith(fresh);
          if (fresh.hasAttribute("data-poll")) { poll(fresh); } else { window.location.reload(); }
        })
        .catch(function () { poll(el); });
    }, 1000);
  }
  function confirmBoxes() {
    document.querySelectorAll("form.commit").forEach(function (form) {
      var box = form.querySelector("input[name=confirm]");
      var button = form.querySelector("button[type=submit]");
      if (!box || !button) { return; }
      var sync = function () { button.disabled = box.value.trim().toLowerCase() !== "yes"; };
      box.addEventListener("input", sync);
      sync();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    confirmBoxes();
  });
})();
