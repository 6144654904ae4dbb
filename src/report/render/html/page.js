// The report's only script: a tooltip for the chart, sortable tables, and a self-check written to
// <body data-check> (the series drawn, the total shown, resources loaded) for automated checks.
// It reads the page (textContent, data attributes) and never writes markup.
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  function hide() { tip.hidden = true; }
  document.querySelectorAll("svg .hit").forEach(function (rect) {
    var title = rect.querySelector("title");
    var text = title ? title.textContent : "";
    rect.addEventListener("mousemove", function (e) {
      tip.textContent = text;
      tip.hidden = false;
      var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      tip.style.left = x + "px";
      tip.style.top = (e.clientY + 14) + "px";
    });
    rect.addEventListener("mouseleave", hide);
    // The native tooltip repeats what the panel shows: keep the text, drop the duplicate.
    if (title) { rect.setAttribute("aria-label", text); title.textContent = ""; }
  });

  function sortTable(table, column, th) {
    var numeric = th.getAttribute("data-type") === "num";
    var current = th.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[column];
      var v = cell ? (cell.getAttribute("data-v") || "") : "";
      return numeric ? (v === "" ? -Infinity : parseFloat(v)) : v.toLowerCase();
    }
    rows.sort(function (a, b) {
      var ka = key(a), kb = key(b);
      var c = ka < kb ? -1 : ka > kb ? 1 : 0;
      return descending ? -c : c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, column) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortTable(table, column, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, column, th); }
      });
    });
  });

  var total = document.getElementById("total-spent");
  var check = {
    series: Array.prototype.map.call(document.querySelectorAll("svg g.series"), function (g) {
      return g.getAttribute("data-series");
    }),
    total_cost: total ? total.getAttribute("data-cost") : null,
    total_shown: total ? total.textContent : null,
    rows: document.querySelectorAll("#breakdown tbody tr").length,
    resources: performance.getEntriesByType("resource").length
  };
  document.body.setAttribute("data-check", JSON.stringify(check));
})();
