/* Starts Pagefind's search box on /search/; the page works without it (see its <noscript>).
   ?q=word in the address runs that search straight away, so searches can be linked to. */
(function () {
  "use strict";
  var element = document.getElementById("search");
  if (!element || typeof PagefindUI === "undefined") {
    return;
  }
  var ui = new PagefindUI({
    element: "#search",
    baseUrl: element.getAttribute("data-base-url") || "/",
    showImages: false,
    showSubResults: true,
    resetStyles: false,
    autofocus: false,
    translations: {
      placeholder: "Search posts and pages",
      zero_results: "No posts or pages match [SEARCH_TERM]. Try fewer or different words."
    }
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    ui.triggerSearch(query);
  }
})();
