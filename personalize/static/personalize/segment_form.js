/* The segment form's audience panel: the segment's sentence, the problems of incomplete rules and
 * the audience estimate, kept up to date while the editor edits, before saving.
 *
 * Listens at the form: input and change events bubble up from any widget inside the rules
 * (selects, checkboxes, enhanced pickers, blocks added later), and a mutation observer notices
 * rules added, moved or deleted. The form's rule fields are posted to the panel's endpoint,
 * at most once per pause in typing and only when they changed.
 */
(function () {
  "use strict";
  var DELAY = 400;

  function fieldsOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string") return;
      if (name === "match" || name.indexOf("rules-") === 0) params.append(name, value);
    });
    return params.toString();
  }

  function csrfToken(form) {
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function setup(panel) {
    var form = panel.closest("form");
    if (!form) return;
    var url = panel.getAttribute("data-url");
    var sentence = panel.querySelector("[data-personalize-sentence]");
    var problems = panel.querySelector("[data-personalize-problems]");
    var estimate = panel.querySelector("[data-personalize-estimate]");
    var timer = null;
    var lastSent = null;
    var sequence = 0;

    function show(data) {
      if (typeof data.sentence === "string") sentence.textContent = data.sentence;
      problems.textContent = "";
      var messages = (data.problems || []).map(function (problem) { return problem.message; });
      if (data.error) messages = [data.error];
      messages.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        problems.appendChild(item);
      });
      problems.hidden = messages.length === 0;
      if (typeof data.estimate === "string") estimate.textContent = data.estimate;
    }

    function send() {
      timer = null;
      var body = fieldsOf(form);
      // Before the StreamField has drawn its blocks there is nothing to describe yet.
      if (body === lastSent || !new URLSearchParams(body).has("rules-count")) return;
      lastSent = body;
      var mine = ++sequence;
      panel.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRFToken": csrfToken(form),
          "X-Requested-With": "XMLHttpRequest",
        },
      })
        .then(function (response) {
          return response.json().catch(function () { return { error: response.statusText }; });
        })
        .then(function (data) {
          if (mine === sequence) show(data);
        })
        .catch(function () {
          // Offline or the server unreachable: try again on the next change.
          lastSent = null;
        })
        .finally(function () {
          if (mine === sequence) panel.removeAttribute("aria-busy");
        });
    }

    function schedule() {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(send, DELAY);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    var rules = form.querySelector('[data-contentpath="rules"]');
    if (rules && window.MutationObserver) {
      new MutationObserver(schedule).observe(rules, { childList: true, subtree: true });
    }
    send();
  }

  function init() {
    document.querySelectorAll("[data-personalize-audience]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
