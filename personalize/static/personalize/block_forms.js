/* Editor forms of wagtail-personalize's StreamField blocks (Wagtail's telepath definitions).
 *
 * - personalize.blocks.KeyBlock: the hidden key keeps its input (the stored key is submitted
 *   with the form) but shows nothing, not even the label the StructBlock puts above a field.
 * - personalize.blocks.GatedBlock: "Groups" shows only for a group gate, "Segments" only for a
 *   segment gate; the other requirements use neither.
 * - personalize.blocks.AudienceBlock (a block's "Audience" setting): "Segments" shows only for
 *   "only" or "except" these segments, "Groups" only for members of groups.
 *
 * Django may load this script before Wagtail's blocks.js (the order of merged form media is not
 * fixed), so the definitions extend Wagtail's classes when the first block is unpacked, by which
 * time every script of the page has run.
 */
(function () {
  "use strict";

  /* The element wrapping one child of a StructBlock: its label and its field. */
  function childWrapper(child) {
    if (!child) return null;
    var element = child.container ? child.container[0] : child.element;
    return element ? element.closest("[data-contentpath]") : null;
  }

  function keyBlockDefinition(blocks) {
    return class KeyBlockDefinition extends blocks.FieldBlockDefinition {
      render(placeholder, prefix, initialState, initialError, parentCapabilities) {
        var block = super.render(placeholder, prefix, initialState, initialError, parentCapabilities);
        var wrapper = block.element && block.element.closest("[data-contentpath]");
        if (wrapper) {
          wrapper.hidden = true;
        } else if (block.element) {
          block.element.hidden = true;
        }
        return block;
      }
    };
  }

  /* For a struct block whose choice field decides which other children apply: the choice field's
   * name, and the child each choice uses (the others are hidden). */
  var GATE = { field: "requirement", uses: { group: "groups", segment: "segments" } };
  var AUDIENCE = {
    field: "who",
    uses: { group: "groups", segments: "segments", except: "segments" },
  };
  var USED = ["groups", "segments"];

  function choiceStructDefinition(spec) {
    return function (blocks) {
      return class ChoiceStructDefinition extends blocks.StructBlockDefinition {
        render(placeholder, prefix, initialState, initialError) {
          var block = super.render(placeholder, prefix, initialState, initialError);
          var choice = block.childBlocks[spec.field];
          var select = choice && choice.element && choice.element.querySelector("select");
          if (!select) {
            return block;
          }
          var wrappers = {};
          USED.forEach(function (name) {
            wrappers[name] = childWrapper(block.childBlocks[name]);
          });
          function sync() {
            var used = spec.uses[select.value];
            USED.forEach(function (name) {
              if (wrappers[name]) wrappers[name].hidden = name !== used;
            });
          }
          select.addEventListener("change", sync);
          // Pasted or restored values are set without a change event.
          var setState = block.setState.bind(block);
          block.setState = function (state) {
            setState(state);
            sync();
          };
          sync();
          return block;
        }
      };
    };
  }

  /* A constructor for telepath that builds the definition class on first use. */
  function lazy(make) {
    var definition = null;
    return function (...args) {
      definition = definition || make(window.wagtailStreamField.blocks);
      return new definition(...args);
    };
  }

  function register() {
    window.telepath.register("personalize.blocks.KeyBlock", lazy(keyBlockDefinition));
    window.telepath.register("personalize.blocks.GatedBlock", lazy(choiceStructDefinition(GATE)));
    window.telepath.register(
      "personalize.blocks.AudienceBlock",
      lazy(choiceStructDefinition(AUDIENCE)),
    );
  }

  if (window.telepath) {
    register();
  } else {
    document.addEventListener("DOMContentLoaded", register);
  }
})();
