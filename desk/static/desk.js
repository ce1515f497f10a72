// The desk's little JavaScript: the viewer's time zone at sign-in, a queue that refreshes
// itself without a full reload, and "assign to me" without leaving the page. Every page
// works without it.
"use strict";

(function () {
  function zone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }
    catch (e) { return "UTC"; }
  }

  document.querySelectorAll("[data-timezone]").forEach(function (input) {
    input.value = zone();
  });

  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var status = document.querySelector("[data-queue-status]");
  var url = queue.getAttribute("data-rows-url");
  var every = Math.max(2, parseInt(queue.getAttribute("data-poll"), 10) || 15) * 1000;

  function announce(text) {
    if (status) { status.textContent = text; }
  }

  function counts() {
    var template = queue.querySelector("template[data-counts]");
    if (!template) { return; }
    template.content.querySelectorAll("data[data-view]").forEach(function (item) {
      var target = document.querySelector('[data-count="' + item.getAttribute("data-view") + '"]');
      if (target) { target.textContent = item.value; }
    });
  }

  function refresh(force, message) {
    if (!force && queue.contains(document.activeElement) && document.activeElement !== document.body) {
      return Promise.resolve();  // never pull the rows from under the keyboard's focus
    }
    return fetch(url, { headers: { "X-Desk-Fetch": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        queue.innerHTML = html;
        counts();
        bind();
        queue.setAttribute("data-refreshed", String(Date.now()));
        announce(message || (queue.getAttribute("data-updated-text") || ""));
      })
      .catch(function () { /* the next round tries again */ });
  }

  function bind() {
    queue.querySelectorAll("form[data-assign]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        var label = button ? button.textContent : "";
        var row = form.closest("tr[data-case]");
        var caseId = row ? row.getAttribute("data-case") : null;
        fetch(form.action, {
          method: "POST", credentials: "same-origin",
          headers: { "X-Desk-Fetch": "1", "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(new FormData(form)).toString()
        }).then(function (response) {
          if (response.status === 204) {
            return refresh(true, label + " ✓").then(function () {
              // the rows were replaced: the keyboard's focus goes back to the case's row
              var link = caseId && queue.querySelector('tr[data-case="' + caseId + '"] a');
              if (link) { link.focus(); }
            });
          }
          form.submit();  // let the server's page say what went wrong
          return null;
        }).catch(function () { form.submit(); });
      });
    });
  }

  bind();
  window.setInterval(function () { refresh(false); }, every);
})();
