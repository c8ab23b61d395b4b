/* The scoring rule form shows only the fields the chosen trigger uses. */
(function () {
  "use strict";
  var FIELDS = {
    page: ["page"],
    page_type: ["page_type"],
    tag: ["value"],
    form: ["value"],
    download: ["value"],
    event: ["value"],
    attribute: ["rules"],
  };
  var ALL = ["page", "page_type", "value", "rules"];

  function wrapper(name) {
    var field = document.querySelector('[data-contentpath="' + name + '"]');
    if (!field) return null;
    // The label sits beside the field wrapper, inside the panel child wrapper.
    return field.closest(".w-panel__wrapper") || field.closest("[data-field-wrapper]") || field;
  }

  function update(select) {
    var shown = FIELDS[select.value] || ALL;
    ALL.forEach(function (name) {
      var element = wrapper(name);
      if (element) element.hidden = shown.indexOf(name) === -1;
    });
  }

  function init() {
    var select = document.querySelector("select[data-personalize-trigger]");
    if (!select) return;
    select.addEventListener("change", function () { update(select); });
    update(select);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
