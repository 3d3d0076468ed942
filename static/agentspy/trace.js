// The run tree and waterfall of one trace, drawn from the light hierarchy that
// the page embeds (#trace-data). Only the rows in view exist in the DOM (a
// virtual list), so a trace of 10,000 runs opens and scrolls like one of 10.
// Selecting a run fetches its panel (inputs, outputs, chat, ...) from the server.
(function () {
  "use strict";

  var ROW_H = 26;
  var OVERSCAN = 12;
  var OPEN_DEPTH = 3; // deeper subtrees start collapsed
  var BIG_FANOUT = 200; // ... and so does any node with more children than this
  var MAX_INDENT_LEVELS = 30;
  var TYPE_ABBR = { llm: "LLM", chat_model: "LLM", chain: "CH", tool: "T", retriever: "R", embedding: "E", prompt: "P", parser: "PA" };

  var fmt = window.AgentSpy ? window.AgentSpy.formatDuration : function (ms) { return Math.round(ms) + " ms"; };
  // As the usd template filter: cents from a cent up, else two significant digits.
  function usd(v) {
    if (v === 0) return "$0";
    if (v >= 1000) return "$" + Math.round(v).toLocaleString("en-US");
    if (v >= 0.01) return "$" + v.toFixed(2);
    return "$" + (v >= 0.0001 ? v.toPrecision(2) : v.toExponential(1));
  }

  function init() {
    var dataEl = document.getElementById("trace-data");
    var scroller = document.getElementById("tree");
    if (!dataEl || !scroller) return;
    var data = JSON.parse(dataEl.textContent);
    var spacer = document.getElementById("tree-spacer");
    var pane = document.getElementById("run-pane");
    var panelBase = pane.getAttribute("data-panel-url");
    var traceUrl = window.location.pathname;
    var origin = Date.parse(data.origin);

    // ---- model -----------------------------------------------------------
    var nodes = data.rows.map(function (r, i) {
      return {
        i: i, id: r[0], parent: r[1], depth: r[2], name: r[3], type: r[4], status: r[5],
        start: r[6] || 0, end: r[7], tokens: r[8], model: r[9], err: r[10] === 1,
        orphan: r[11] === 1, cost: r[13], unpriced: r[14] === 1,
        children: [], open: false, match: false, lower: null,
      };
    });
    var byId = {};
    nodes.forEach(function (n) {
      byId[n.id] = n;
      if (n.parent >= 0) nodes[n.parent].children.push(n);
    });
    nodes.forEach(function (n) {
      n.open = n.children.length > 0 && n.depth < OPEN_DEPTH && n.children.length <= BIG_FANOUT;
    });
    if (nodes.length) nodes[0].open = true;
    var staleMs = data.stale_ms || 3600000;
    // A run still "running" past STALE_AFTER_MINUTES lost its client: it stops growing.
    function live(n, now) {
      return n.end === null && n.status === "running" && now - origin - n.start < staleMs;
    }
    var anyRunning = nodes.some(function (n) { return live(n, Date.now()); });

    function endOf(n, now) {
      if (n.end !== null) return n.end;
      return live(n, now) ? Math.max(now - origin, n.start) : n.start;
    }
    var span = 1;
    function computeSpan() {
      var now = Date.now();
      span = 1;
      for (var k = 0; k < nodes.length; k++) span = Math.max(span, endOf(nodes[k], now));
      document.getElementById("wf-total").textContent = fmt(span);
      document.getElementById("wf-mid").textContent = fmt(span / 2);
    }

    var visible = [];
    function computeVisible() {
      visible = [];
      if (!nodes.length) return;
      var stack = [nodes[0]];
      while (stack.length) {
        var n = stack.pop();
        n.vi = visible.length;
        visible.push(n);
        if (n.open) for (var c = n.children.length - 1; c >= 0; c--) stack.push(n.children[c]);
      }
      for (var k = 0; k < nodes.length; k++) if (nodes[k].vi !== undefined && visible[nodes[k].vi] !== nodes[k]) nodes[k].vi = -1;
      spacer.style.height = visible.length * ROW_H + "px";
    }

    // ---- rendering --------------------------------------------------------
    var pool = [];
    var focusIndex = 0;
    var selectedId = data.selected;

    function makeRow() {
      var row = document.createElement("div");
      row.className = "tree-row";
      row.setAttribute("role", "treeitem");
      var label = document.createElement("div");
      label.className = "tree-label";
      var indent = document.createElement("span");
      indent.className = "t-indent";
      var twisty = document.createElement("button");
      twisty.type = "button";
      twisty.className = "t-twisty";
      twisty.tabIndex = -1;
      var icon = document.createElement("span");
      var dot = document.createElement("span");
      var name = document.createElement("span");
      name.className = "t-name";
      var meta = document.createElement("span");
      meta.className = "t-meta";
      label.append(indent, twisty, icon, dot, name, meta);
      var wf = document.createElement("div");
      wf.className = "wf";
      var bar = document.createElement("div");
      wf.appendChild(bar);
      row.append(label, wf);
      row._parts = { indent: indent, twisty: twisty, icon: icon, dot: dot, name: name, meta: meta, bar: bar };
      spacer.appendChild(row);
      return row;
    }

    function typeClass(t) {
      return TYPE_ABBR[t] ? "type-" + t : "type-other";
    }

    function fill(row, n) {
      var p = row._parts;
      row._node = n;
      row.id = "tr-" + n.i;
      row.style.top = n.vi * ROW_H + "px";
      row.setAttribute("aria-level", String(n.depth + 1));
      row.setAttribute("aria-selected", n.id === selectedId ? "true" : "false");
      if (n.children.length) row.setAttribute("aria-expanded", n.open ? "true" : "false");
      else row.removeAttribute("aria-expanded");
      row.classList.toggle("match", n.match);
      row.classList.toggle("focused", n.vi === focusIndex);
      p.indent.style.width = Math.min(n.depth, MAX_INDENT_LEVELS) * 14 + "px";
      p.twisty.textContent = n.children.length ? (n.open ? "▾" : "▸") : "";
      p.twisty.setAttribute("aria-hidden", "true");
      p.icon.className = "t-icon " + typeClass(n.type);
      p.icon.textContent = TYPE_ABBR[n.type] || (n.type || "?").slice(0, 2).toUpperCase();
      p.icon.title = n.type;
      p.dot.className = "t-dot s-" + (n.err ? "error" : n.status);
      p.name.textContent = n.name || "(unnamed)";
      p.name.title = n.name + (n.model ? " · " + n.model : "") + (n.orphan ? " (parent missing)" : "");
      var now = Date.now();
      var dur = n.end === null ? (live(n, now) ? now - origin - n.start : null) : n.end - n.start;
      var meta = dur === null ? "—" : fmt(dur);
      if (n.cost !== null && n.cost !== undefined) meta = usd(n.cost) + " · " + meta;
      else if (n.unpriced) meta = "unpriced · " + meta;
      if (n.tokens) meta = n.tokens.toLocaleString() + " tok · " + meta;
      if (n.children.length && !n.open) meta = "+" + n.children.length + " · " + meta;
      p.meta.textContent = meta;
      var left = (n.start / span) * 100;
      var width = ((endOf(n, now) - n.start) / span) * 100;
      p.bar.className = "wf-bar " + typeClass(n.type) + (n.err ? " s-error" : live(n, now) ? " s-running" : "");
      p.bar.style.left = Math.min(left, 99.8) + "%";
      p.bar.style.width = Math.max(width, 0.15) + "%";
      p.bar.title = (n.name || "") + ": starts at " + fmt(n.start) + (dur === null ? "" : ", lasts " + fmt(dur));
    }

    var firstPainted = false;
    function render() {
      var top = scroller.scrollTop;
      var height = scroller.clientHeight || 600;
      var first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
      var last = Math.min(visible.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
      var needed = last - first;
      while (pool.length < needed) pool.push(makeRow());
      for (var k = 0; k < pool.length; k++) {
        var row = pool[k];
        if (k < needed) {
          row.hidden = false;
          fill(row, visible[first + k]);
        } else {
          row.hidden = true;
          row.removeAttribute("id");
        }
      }
      var focused = visible[focusIndex];
      if (focused) scroller.setAttribute("aria-activedescendant", "tr-" + focused.i);
      if (!firstPainted) {
        firstPainted = true;
        // Read by the browser tests: time from navigation start to a drawn tree.
        if (window.performance && performance.mark) performance.mark("agentspy:tree-rendered");
        document.documentElement.setAttribute("data-tree-ready", "1");
      }
    }

    function scrollToIndex(index) {
      var top = index * ROW_H;
      if (top < scroller.scrollTop) scroller.scrollTop = top;
      else if (top + ROW_H > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + ROW_H - scroller.clientHeight;
    }

    function refresh() {
      computeVisible();
      if (focusIndex >= visible.length) focusIndex = visible.length - 1;
      render();
    }

    function revealNode(n) {
      for (var p = n.parent; p >= 0; p = nodes[p].parent) nodes[p].open = true;
    }

    function focusNode(n, scroll) {
      focusIndex = n.vi;
      if (scroll !== false) scrollToIndex(focusIndex);
      render();
    }

    function toggle(n, open) {
      if (!n.children.length) return;
      n.open = open === undefined ? !n.open : open;
      refresh();
    }

    // ---- the run panel ------------------------------------------------------
    var inflight = null;
    function select(n, push) {
      if (!n) return;
      focusNode(n);
      if (n.id === selectedId && push !== "force") return;
      selectedId = n.id;
      render();
      if (push !== false) window.history.pushState({ run: n.id }, "", traceUrl + "?run=" + encodeURIComponent(n.id));
      if (inflight) inflight.abort();
      inflight = new AbortController();
      var slow = window.setTimeout(function () { pane.setAttribute("aria-busy", "true"); }, 150);
      fetch(panelBase + encodeURIComponent(n.id), { signal: inflight.signal, headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          // Server-rendered and escaped by Django's templates; the CSP forbids inline script anyway.
          pane.innerHTML = html;
          pane.scrollTop = 0;
          if (window.AgentSpy) window.AgentSpy.tick();
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          pane.textContent = "";
          var p = document.createElement("p");
          p.className = "loading";
          p.textContent = "Could not load this run (" + error.message + ").";
          pane.appendChild(p);
        })
        .finally(function () {
          window.clearTimeout(slow);
          pane.removeAttribute("aria-busy");
        });
    }

    // ---- events -----------------------------------------------------------
    scroller.addEventListener("scroll", function () {
      window.requestAnimationFrame(render);
    });
    window.addEventListener("resize", render);

    spacer.addEventListener("click", function (event) {
      var row = event.target.closest(".tree-row");
      if (!row || !row._node) return;
      if (event.target.closest(".t-twisty")) {
        focusIndex = row._node.vi;
        toggle(row._node);
        scroller.focus({ preventScroll: true });
        return;
      }
      scroller.focus({ preventScroll: true });
      select(row._node);
    });
    spacer.addEventListener("dblclick", function (event) {
      var row = event.target.closest(".tree-row");
      if (row && row._node) toggle(row._node);
    });

    scroller.addEventListener("keydown", function (event) {
      var n = visible[focusIndex];
      if (!n) return;
      var page = Math.max(1, Math.floor(scroller.clientHeight / ROW_H) - 1);
      var handled = true;
      switch (event.key) {
        case "ArrowDown": focusNode(visible[Math.min(focusIndex + 1, visible.length - 1)]); break;
        case "ArrowUp": focusNode(visible[Math.max(focusIndex - 1, 0)]); break;
        case "PageDown": focusNode(visible[Math.min(focusIndex + page, visible.length - 1)]); break;
        case "PageUp": focusNode(visible[Math.max(focusIndex - page, 0)]); break;
        case "Home": focusNode(visible[0]); break;
        case "End": focusNode(visible[visible.length - 1]); break;
        case "ArrowRight":
          if (n.children.length && !n.open) toggle(n, true);
          else if (n.children.length) focusNode(n.children[0]);
          break;
        case "ArrowLeft":
          if (n.children.length && n.open) toggle(n, false);
          else if (n.parent >= 0) focusNode(nodes[n.parent]);
          break;
        case "Enter":
        case " ":
          select(n);
          break;
        case "*":
          (n.parent >= 0 ? nodes[n.parent].children : [n]).forEach(function (s) { s.open = s.children.length > 0; });
          refresh();
          break;
        default:
          handled = false;
      }
      if (handled) event.preventDefault();
    });

    document.getElementById("tree-expand").addEventListener("click", function () {
      nodes.forEach(function (n) { n.open = n.children.length > 0; });
      refresh();
    });
    document.getElementById("tree-collapse").addEventListener("click", function () {
      nodes.forEach(function (n) { n.open = false; });
      if (nodes.length) nodes[0].open = true;
      focusIndex = 0;
      scroller.scrollTop = 0;
      refresh();
    });

    // Find: highlight matching runs, open their ancestors, Enter jumps to the next.
    var findBox = document.getElementById("tree-filter");
    var findStatus = document.getElementById("tree-find-status");
    var matches = [];
    var matchAt = -1;
    findBox.addEventListener("input", function () {
      var q = findBox.value.trim().toLowerCase();
      matches = [];
      matchAt = -1;
      nodes.forEach(function (n) {
        if (n.lower === null) n.lower = (n.name + " " + n.type + " " + n.model).toLowerCase();
        n.match = q !== "" && n.lower.indexOf(q) !== -1;
        if (n.match) {
          matches.push(n);
          revealNode(n);
        }
      });
      findStatus.textContent = q ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
      refresh();
    });
    findBox.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && matches.length) {
        event.preventDefault();
        matchAt = (matchAt + (event.shiftKey ? matches.length - 1 : 1)) % matches.length;
        select(matches[matchAt]);
        findStatus.textContent = matchAt + 1 + " of " + matches.length;
      } else if (event.key === "Escape") {
        findBox.value = "";
        findBox.dispatchEvent(new Event("input"));
        scroller.focus();
      }
    });

    // Links in the panel to other runs of this trace (e.g. the parent) stay in the page.
    pane.addEventListener("click", function (event) {
      var link = event.target.closest("[data-select-run]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      var n = byId[link.getAttribute("data-select-run")];
      if (!n) return;
      event.preventDefault();
      revealNode(n);
      computeVisible();
      select(n);
    });

    window.addEventListener("popstate", function () {
      var id = new URLSearchParams(window.location.search).get("run") || (nodes[0] && nodes[0].id);
      var n = byId[id];
      if (!n) return;
      revealNode(n);
      computeVisible();
      select(n, false);
    });

    // ---- start --------------------------------------------------------------
    computeSpan();
    var selected = byId[selectedId];
    if (selected) revealNode(selected);
    computeVisible();
    if (selected) {
      focusIndex = selected.vi;
      scroller.scrollTop = Math.max(0, selected.vi * ROW_H - scroller.clientHeight / 2);
    }
    render();
    if (anyRunning) {
      window.setInterval(function () {
        computeSpan();
        render();
      }, 1000);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
