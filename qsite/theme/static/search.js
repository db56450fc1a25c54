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

  /* Makes Pagefind's box look and work like the rest of the site (issue 14), whatever filters
     the index has: the input gets the page's visible <label> (by the id it names), each filter value named in
     #search-filter-classes gets that class (the theme filter: its theme's colours), and on a small
     screen every filter starts closed behind its own button (its <summary>), so the results are
     not pushed below the first screen. Pagefind redraws as results come, so this runs on each
     change of the box, and only ever adds. */
  var smallScreen = window.matchMedia ? window.matchMedia("(max-width: 39.99em)").matches : false;
  var classes = {};
  try {
    var settings = document.getElementById("search-filter-classes");
    classes = JSON.parse(settings ? settings.textContent : "{}");
  } catch (e) {
    classes = {};
  }

  function filterName(block) {
    var name = block.querySelector(".pagefind-ui__filter-name");
    return name ? name.textContent.trim().toLowerCase() : "";
  }

  function valueClass(filter, label) {
    var values = classes[Object.keys(classes).filter(function (key) {
      return key.toLowerCase() === filter;
    })[0]] || {};
    var text = label.textContent.replace(/\s*\(\d+\)\s*$/, "").trim();
    return values[text] || "";
  }

  function dress(root) {
    var label = document.querySelector("label.search-label[for]");
    var inputId = label ? label.htmlFor : "";
    function apply() {
      var input = root.querySelector(".pagefind-ui__search-input");
      if (input && inputId && !input.id) {
        input.id = inputId;
      }
      var clear = root.querySelector(".pagefind-ui__search-clear");
      if (clear && !clear.getAttribute("aria-label")) {
        clear.setAttribute("aria-label", "Clear the search");
      }
      root.querySelectorAll(".pagefind-ui__filter-block").forEach(function (block) {
        if (smallScreen && !block.hasAttribute("data-dressed")) {
          block.open = false;
        }
        block.setAttribute("data-dressed", "");
        var filter = filterName(block);
        block.querySelectorAll(".pagefind-ui__filter-value").forEach(function (value) {
          var label = value.querySelector(".pagefind-ui__filter-label");
          var name = label ? valueClass(filter, label) : "";
          if (name && !value.classList.contains(name)) {
            value.classList.add("coloured", name);
          }
        });
      });
    }
    apply();
    if (typeof MutationObserver !== "undefined") {
      new MutationObserver(apply).observe(root, { childList: true, subtree: true });
    }
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
      dress(element);
      var query = new URLSearchParams(window.location.search).get("q");
      if (query) {
        ui.triggerSearch(query);
      }
    })
    .catch(function () {
      say("Search could not load its index. Please try again later, or browse by theme or in the archive.");
    });
})();
