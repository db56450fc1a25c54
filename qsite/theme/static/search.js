/* Starts Pagefind's search box on /search/; the page works without it (see its <noscript>).
   The index is split into shards (qsite/search.py): pagefind/shards.json lists them, the first
   is loaded as the primary index and the others are merged into it, so one search box searches
   them all and the theme and type filters count across them.
   ?q=word in the address runs that search straight away, so searches can be linked to. */
(function () {
  "use strict";
  var element = document.getElementById("search");
  if (!element || typeof PagefindUI === "undefined" || typeof fetch === "undefined") {
    return;
  }
  var base = element.getAttribute("data-base-url") || "/";
  var bundle = base + "pagefind/";

  function say(text) {
    var p = document.createElement("p");
    p.className = "notice";
    p.textContent = text;
    element.appendChild(p);
  }

  fetch(bundle + "shards.json", { cache: "no-cache" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (listing) {
      var shards = listing.shards || [];
      if (!shards.length) {
        say("There is nothing to search yet.");
        return;
      }
      var ui = new PagefindUI({
        element: "#search",
        bundlePath: bundle + shards[0] + "/",
        mergeIndex: shards.slice(1).map(function (name) {
          return { bundlePath: bundle + name + "/" };
        }),
        baseUrl: base,
        showImages: false,
        showSubResults: true,
        resetStyles: false,
        autofocus: false,
        translations: {
          placeholder: "Search posts, digest editions and pages",
          zero_results: "Nothing matches [SEARCH_TERM]. Try fewer or different words, or another type or theme."
        }
      });
      var query = new URLSearchParams(window.location.search).get("q");
      if (query) {
        ui.triggerSearch(query);
      }
    })
    .catch(function () {
      say("Search could not load its index. Please try again later, or browse by theme or in the archive.");
    });
})();
