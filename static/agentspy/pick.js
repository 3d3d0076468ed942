// The traces table's selection: "Compare" opens /compare with the two
// picked traces. Delegated from the document: htmx replaces the table.
(function () {
  "use strict";

  function picked() {
    return Array.prototype.slice.call(
      document.querySelectorAll('#traces-table input[name="trace_ids"]:checked')
    );
  }

  function refresh() {
    var button = document.getElementById("compare-picked");
    var count = document.getElementById("pick-count");
    if (!button || !count) return;
    var n = picked().length;
    button.disabled = n !== 2;
    count.textContent = n === 0
      ? "Select two traces to compare them."
      : n + " selected" + (n === 2 ? "" : " (compare needs exactly two)");
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches('input[name="trace_ids"]')) refresh();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#compare-picked");
    if (!button) return;
    var ids = picked().map(function (box) { return box.value; });
    if (ids.length !== 2) return;
    window.location.assign(
      button.getAttribute("data-compare-url") + "?traces=" + encodeURIComponent(ids.join(","))
    );
  });

  // The first page refreshes itself every few seconds: not while traces are
  // picked, or the refresh would clear the selection.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (picked().length && event.target.id === "traces-results") event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSwap", refresh);
})();
