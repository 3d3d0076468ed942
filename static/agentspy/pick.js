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

  // Ids in the order they were ticked: the first one ticked is A.
  var order = [];

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box.matches && box.matches('input[name="trace_ids"]'))) return;
    order = order.filter(function (id) { return id !== box.value; });
    if (box.checked) order.push(box.value);
    refresh();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#compare-picked");
    if (!button) return;
    var ticked = picked().map(function (box) { return box.value; });
    var ids = order.filter(function (id) { return ticked.indexOf(id) >= 0; });
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
