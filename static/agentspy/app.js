// Small progressive enhancements shared by every dashboard page.
// Everything here works on server-rendered markup; nothing is required to read a page.
(function () {
  "use strict";

  var THEME_KEY = "agentspy-theme";
  var THEMES = ["system", "light", "dark"];

  function storedTheme() {
    try {
      return window.localStorage.getItem(THEME_KEY) || "system";
    } catch (e) {
      return "system";
    }
  }

  function applyTheme(theme) {
    var root = document.documentElement;
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
    } else {
      root.removeAttribute("data-theme");
    }
    var button = document.getElementById("theme-toggle");
    if (button) {
      var label = theme === "system" ? "follow the system" : theme;
      button.title = "Theme: " + label + " (click to change)";
      button.textContent = theme === "light" ? "☀" : theme === "dark" ? "☾" : "◐";
    }
  }

  function cycleTheme() {
    var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
    try {
      if (next === "system") {
        window.localStorage.removeItem(THEME_KEY);
      } else {
        window.localStorage.setItem(THEME_KEY, next);
      }
    } catch (e) {
      // Storage disabled: the choice lasts for this page only.
    }
    applyTheme(next);
  }

  // Durations and relative times use the same wording as the server
  // (dashboard/templatetags/agentspy.py) so a tick never changes the style.
  function formatDuration(ms) {
    if (ms < 0) ms = 0;
    if (ms < 1000) return Math.round(ms) + " ms";
    var s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m " + String(Math.floor(s % 60)).padStart(2, "0") + "s";
    var h = Math.floor(m / 60);
    return h + "h " + String(m % 60).padStart(2, "0") + "m";
  }

  function formatRelative(date, now) {
    var s = Math.round((now - date) / 1000);
    if (s < 5) return "just now";
    if (s < 60) return s + "s ago";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m ago";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h ago";
    var d = Math.floor(h / 24);
    if (d < 30) return d + "d ago";
    return date.toISOString().slice(0, 10);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-running-since]").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-running-since"));
      if (!isNaN(start)) el.textContent = formatDuration(now - start);
    });
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = formatRelative(when, now);
    });
  }

  function copyText(text, button) {
    function done(ok) {
      var old = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", old);
      button.textContent = ok ? "Copied" : "Copy failed";
      window.setTimeout(function () {
        button.textContent = old;
      }, 1200);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          done(true);
        },
        function () {
          done(false);
        }
      );
      return;
    }
    // Plain-http deployments have no async clipboard API.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    done(ok);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-from], [data-copy-url]");
    if (button) {
      // Buttons sit inside <summary>: a click must not also fold the block.
      event.preventDefault();
      var text = button.getAttribute("data-copy");
      if (button.hasAttribute("data-copy-url")) {
        text = new URL(button.getAttribute("data-copy-url"), window.location.href).href;
      } else if (text === null) {
        var source = document.getElementById(button.getAttribute("data-copy-from"));
        text = source ? source.textContent : "";
      }
      copyText(text, button);
      return;
    }
    var toggle = event.target.closest("[data-toggle-raw]");
    if (toggle) {
      event.preventDefault();
      var box = toggle.closest("[data-view]");
      var raw = box.getAttribute("data-view") !== "raw";
      box.setAttribute("data-view", raw ? "raw" : "pretty");
      toggle.setAttribute("aria-pressed", raw ? "true" : "false");
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  // Filter forms leave empty fields out of the URL, so shared links stay short.
  document.addEventListener("formdata", function (event) {
    if (!event.target.hasAttribute("data-drop-empty")) return;
    Array.from(event.formData.keys()).forEach(function (key) {
      if (event.formData.getAll(key).every(function (v) { return v === ""; })) event.formData.delete(key);
    });
  });

  document.addEventListener("keydown", function (event) {
    // "/" focuses the search box, as in most log and trace viewers.
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var search = document.querySelector("input[type=search]");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyTheme(storedTheme());
    var button = document.getElementById("theme-toggle");
    if (button) button.addEventListener("click", cycleTheme);
    tick();
    window.setInterval(tick, 1000);
  });
  // Polling pauses while the tab is hidden: nobody is watching, the server rests.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (document.hidden && trigger.indexOf("every") === 0) event.preventDefault();
  });

  // Rows that a poll brought in flash once, so new traces catch the eye.
  var knownRows = null;
  document.addEventListener("htmx:beforeSwap", function () {
    knownRows = {};
    document.querySelectorAll("tr[data-id]").forEach(function (row) {
      knownRows[row.getAttribute("data-id")] = true;
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (knownRows) {
      document.querySelectorAll("tr[data-id]").forEach(function (row) {
        if (!knownRows[row.getAttribute("data-id")]) row.classList.add("new-row");
      });
    }
    tick();
  });

  window.AgentSpy = { formatDuration: formatDuration, formatRelative: formatRelative, tick: tick };
})();
