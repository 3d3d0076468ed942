// Keyboard review of an annotation queue: j / ArrowRight next,
// k / ArrowLeft previous, 1 thumbs up, 0 thumbs down (up/down keep scrolling).
(function () {
  "use strict";

  var KEYS = {
    j: "queue-next", ArrowRight: "queue-next",
    k: "queue-prev", ArrowLeft: "queue-prev",
    "1": "queue-up", "0": "queue-down"
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var id = KEYS[event.key];
    var control = id && document.getElementById(id);
    if (!control) return;
    event.preventDefault();
    control.click();
  });
})();
