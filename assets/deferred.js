/*
 * Deferred charts (layouts.components.deferred): a chart far down a page is sent with it but
 * drawn only when its place comes within half a screen of the visible part of the page.
 * This script finds the places not yet asked for (elements with data-deferred-key) after
 * each change of the page, scroll or resize, and sets the place's "seen" store through
 * dash_clientside.set_props; a clientside callback (callbacks/lazy_folds.py) then draws it.
 * A place that is hidden (a closed tab or fold) has no size and waits until it is shown.
 */
(function () {
    "use strict";
    var SEEN = "deferred-chart-seen";
    var ASKED = "data-deferred-asked";
    var pending = false;

    // In the window, or within half a screen of it: drawing takes a few hundred
    // milliseconds, so a chart starts before the reader scrolls it into view.
    function near(box) {
        var screen = window.innerHeight || document.documentElement.clientHeight;
        return box.bottom > -0.5 * screen && box.top < 1.5 * screen;
    }

    function scan() {
        pending = false;
        var clientside = window.dash_clientside;
        if (!clientside || typeof clientside.set_props !== "function") {
            return;
        }
        // Nothing while parts of the page are still loading: the parts above a place may not
        // have their height yet, so a place that looks near may end up far down the page.
        if (document.querySelector("[data-dash-is-loading='true']")) {
            return;
        }
        var places = document.querySelectorAll("[data-deferred-key]:not([" + ASKED + "])");
        for (var i = 0; i < places.length; i += 1) {
            var place = places[i];
            var box = place.getBoundingClientRect();
            if ((box.width === 0 && box.height === 0) || !near(box)) {
                continue;
            }
            place.setAttribute(ASKED, "1");
            clientside.set_props(
                {type: SEEN, key: place.getAttribute("data-deferred-key")},
                {data: Date.now()}
            );
        }
    }

    function schedule() {
        if (!pending) {
            pending = true;
            window.requestAnimationFrame(scan);
        }
    }

    window.addEventListener("scroll", schedule, {passive: true});
    window.addEventListener("resize", schedule);
    document.addEventListener("toggle", schedule, true);
    new MutationObserver(schedule).observe(document.documentElement, {
        childList: true,
        subtree: true,
        attributes: true,
        attributeFilter: ["hidden", "class", "style", "open", "data-dash-is-loading"]
    });
    schedule();
})();
