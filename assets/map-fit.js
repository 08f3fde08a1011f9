/* The backward map is fitted to its box when Cytoscape lays it out. Fit it again whenever the
   box's width changes: a phone turned or a window resized (Cytoscape keeps its zoom, so the
   map stays cut at the sides or small), or a map laid out while its box was hidden (no size:
   the fit gives no position at all, and the map stays blank once the box is shown). Only the
   width counts: the reader's own zoom and pan survive anything else. */
(function () {
  'use strict';
  var widths = new WeakMap();
  var timers = new WeakMap();

  function cyOf(box) {
    var holders = [box].concat(Array.prototype.slice.call(box.querySelectorAll('div')));
    var holder = holders.find(function (e) { return e._cyreg && e._cyreg.cy; });
    return holder ? holder._cyreg.cy : null;
  }

  function refit(box) {
    var cy = cyOf(box);
    if (!cy || !box.clientWidth) { return; }
    cy.resize();
    cy.fit(undefined, 16);
  }

  var resized = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var box = entry.target;
      var width = Math.round(entry.contentRect.width);
      var before = widths.get(box);
      widths.set(box, width);
      if (before === undefined || before === width || !width) { return; }
      clearTimeout(timers.get(box));
      timers.set(box, setTimeout(function () { refit(box); }, 150));
    });
  });

  function watch() {
    document.querySelectorAll('.map-graph:not([data-fit-watched])').forEach(function (box) {
      box.setAttribute('data-fit-watched', '');
      resized.observe(box);
    });
  }

  new MutationObserver(watch).observe(document.documentElement, {childList: true, subtree: true});
  watch();
})();
