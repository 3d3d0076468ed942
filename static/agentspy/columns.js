// The traces table's "Columns" menu: which optional columns show, kept in
// this browser's storage. Hidden columns are classes on <html>, set before
// first paint (this file loads without defer) and untouched by the table's
// partial refreshes; the menu's boxes are synced whenever the table is drawn.
(function () {
  "use strict";
  var KEY = "agentspy-trace-columns";
  var PREFIX = "hide-col-";
  var root = document.documentElement;

  function stored() {
    var value = null;
    try {
      value = JSON.parse(window.localStorage.getItem(KEY) || "[]");
    } catch (e) {
      value = null; // storage disabled or garbled: show every column
    }
    if (!Array.isArray(value)) return [];
    return value.filter(function (key) {
      return typeof key === "string" && /^[a-z]+$/.test(key);
    });
  }

  function apply(hidden) {
    Array.prototype.slice.call(root.classList).forEach(function (name) {
      if (name.indexOf(PREFIX) === 0) root.classList.remove(name);
    });
    hidden.forEach(function (key) { root.classList.add(PREFIX + key); });
  }

  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#col-menu input[data-col]")
    );
  }

  function sync() {
    var menu = document.getElementById("col-menu");
    if (!menu) return;
    var hidden = stored();
    boxes().forEach(function (box) {
      box.checked = hidden.indexOf(box.getAttribute("data-col")) < 0;
    });
    menu.hidden = false; // without this script the menu could do nothing
  }

  apply(stored());

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box.matches && box.matches("#col-menu input[data-col]"))) return;
    var hidden = boxes()
      .filter(function (b) { return !b.checked; })
      .map(function (b) { return b.getAttribute("data-col"); });
    try {
      window.localStorage.setItem(KEY, JSON.stringify(hidden));
    } catch (e) {
      // storage disabled: the choice lasts until the page is left
    }
    apply(hidden);
  });

  // The live table redraws itself every few seconds: not while its menu is
  // open, or the redraw would close it under the pointer.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var menu = document.getElementById("col-menu");
    if (menu && menu.open && event.target.id === "traces-results") event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSwap", sync);
})();
