/*
 * Dash 4.2 to 4.4: every component that a callback renders dispatches RESET_COMPONENT_STATE
 * when it mounts (plotly/dash#3846; upstream fix plotly/dash#3881, not in 4.4.1). Each
 * dispatch builds a new layoutHashes object, so every mounted component re-runs its
 * selectors: a callback that renders N components costs N x N selector runs (a 2,000-cell
 * table took 30 s to draw). A reset only deletes the layoutHashes entries under the
 * component's path; this guard lets through the resets that delete something and drops the
 * others, which would change nothing but the object's identity. Remove it with the upgrade
 * that carries the upstream fix (triage bench browser shows the difference).
 */
(function () {
    "use strict";
    var RESET = "RESET_COMPONENT_STATE";

    function clearsNothing(store, action) {
        var path = action.payload && action.payload.itempath;
        if (!Array.isArray(path)) {
            return false;
        }
        var hashes = store.getState().layoutHashes || {};
        var prefix = path.join(",");
        for (var key in hashes) {
            if (Object.prototype.hasOwnProperty.call(hashes, key) && key.indexOf(prefix) === 0) {
                return false;
            }
        }
        return true;
    }

    function guard(store) {
        if (!store || typeof store.dispatch !== "function" || store.__triageResetGuard) {
            return store;
        }
        var dispatch = store.dispatch;
        store.dispatch = function (action) {
            if (action && action.type === RESET && clearsNothing(store, action)) {
                return action;
            }
            return dispatch.apply(this, arguments);
        };
        store.__triageResetGuard = true;
        return store;
    }

    // The renderer creates its store after the assets load and publishes it as window.store.
    var current;
    Object.defineProperty(window, "store", {
        configurable: true,
        get: function () {
            return current;
        },
        set: function (value) {
            current = guard(value);
        },
    });
})();
