// Loaded by each formgrader page right after nbgrader's utils.js (hub_config/teaching/formgrader_service.py).
// Outside JupyterLab, nbgrader's linkTo points at the classic notebook's /tree/ and /notebooks/ at
// the origin's root, which is the hub's (404). Point those links at the service's read-only preview.
(function () {
    "use strict";
    var nbgraderLinkTo = window.linkTo;
    // The service's base, from this script's own address (nbgrader's base_url differs between pages).
    var service = document.currentScript.src.replace(/\/stemlab\/formgrader-links\.js.*$/, "");
    var encodePath = function (path) {
        return path.split("/").filter(function (part) { return part && part !== "."; })
            .map(encodeURIComponent).join("/");
    };
    window.linkTo = function (type, path) {
        if (window !== window.top) {
            return nbgraderLinkTo(type, path);  // framed in a JupyterLab: nbgrader's messages work there
        }
        return function (_, el) {
            return $(el)
                .attr("href", service + "/stemlab/preview/" + encodePath(path))
                .attr("target", "_blank")[0];
        };
    };
    // nbgrader's instructions link to a terminal, which this service does not have.
    $(function () {
        $('a[href$="/terminals/1"]').each(function () { $(this).replaceWith($(this).text()); });
    });
})();
