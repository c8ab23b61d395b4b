/* The visitor simulator's form: searchable selects for the long lists, when Tom Select is there. */
(function () {
  "use strict";
  if (typeof window.TomSelect !== "function") {
    return;
  }
  ["id_country", "id_timezone", "id_groups"].forEach(function (id) {
    var select = document.getElementById(id);
    if (!select) {
      return;
    }
    // eslint-disable-next-line no-new
    new window.TomSelect(select, {
      maxOptions: null,
      allowEmptyOption: true,
      plugins: select.multiple ? ["remove_button"] : [],
    });
  });
})();
