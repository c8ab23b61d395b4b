/* Fetch the per-visitor fragments of a shared page ({% personalize_fragment %}) and put them in
 * place. Loaded once however many fragments a page has. */
(function () {
  "use strict";
  if (window.personalizeFragments) {
    return;
  }
  window.personalizeFragments = true;

  function load(element) {
    var url = element.getAttribute("data-pz-fragment");
    element.removeAttribute("data-pz-fragment");
    var page = window.location.pathname + window.location.search;
    var separator = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + separator + "next=" + encodeURIComponent(page), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        element.innerHTML = html;
        element.removeAttribute("aria-busy");
      })
      .catch(function () {
        element.removeAttribute("aria-busy");
      });
  }

  function loadAll() {
    document.querySelectorAll("[data-pz-fragment]").forEach(load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loadAll);
  } else {
    loadAll();
  }
})();
