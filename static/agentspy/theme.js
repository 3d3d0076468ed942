// Applies the stored theme before first paint; no stored choice = follow the system.
(function () {
  "use strict";
  var stored = null;
  try {
    stored = window.localStorage.getItem("agentspy-theme");
  } catch (e) {
    stored = null; // storage disabled: follow the system
  }
  if (stored === "light" || stored === "dark") {
    document.documentElement.setAttribute("data-theme", stored);
  }
})();
