/*
 * The rule builder's searchable pickers (personalize/rule_blocks/widgets.py).
 *
 * A <select multiple data-controller="personalize-picker"> becomes a Tom Select picker: type to
 * filter (by name or alias), Enter or a click adds, Backspace or the × button removes. A single
 * <select> (SearchableSelect, in plain forms) becomes a searchable single choice.
 *
 * - The Stimulus controller "personalize-picker" starts Tom Select on every such list, also on
 *   the ones StreamField blocks add later (Stimulus watches the page).
 * - The telepath constructor "personalize.widgets.Picker" renders the list inside a block and
 *   gives Wagtail its value; a stored value the list no longer offers (a code typed by hand in
 *   an older version) is kept as an option named by the code, so saving does not drop it.
 */
(() => {
  'use strict';

  const format = (template, values) =>
    (template || '').replace(/%\((\w+)\)s/g, (match, key) => values[key] ?? '');

  function labelRemoveButtons(picker) {
    const template = picker.input.dataset.personalizePickerRemoveValue;
    picker.control.querySelectorAll('.item').forEach((item) => {
      const button = item.querySelector('.remove');
      const text = item.firstChild ? item.firstChild.textContent.trim() : '';
      if (button && template) {
        button.setAttribute('aria-label', format(template, { item: text }));
        button.setAttribute('title', format(template, { item: text }));
      }
    });
  }

  /** Start Tom Select on a <select>, once. */
  function startPicker(select) {
    if (select.tomselect || typeof window.TomSelect !== 'function') {
      return select.tomselect;
    }
    const data = select.dataset;
    // A single choice (the simulator's region) keeps its empty choice as an option to pick.
    const single = !select.multiple;
    const picker = new window.TomSelect(select, {
      plugins: single ? [] : { remove_button: { title: '', label: '×' } },
      allowEmptyOption: single,
      searchField: ['text', 'alias'],
      maxOptions: 200,
      // Filter on every key: with a delay, Enter right after typing took the unfiltered first.
      refreshThrottle: 0,
      placeholder: data.personalizePickerPlaceholderValue,
      hidePlaceholder: true,
      // The list closes after a pick (the search is cleared); typing again opens it.
      closeAfterSelect: true,
      render: {
        option: (item, escape) =>
          `<div>${escape(item.text)}${
            item.alias
              ? ` <span class="personalize-picker__alias"><span aria-hidden="true">· </span>${escape(
                  item.alias,
                )}</span>`
              : ''
          }</div>`,
        no_results: (query, escape) =>
          `<div class="no-results">${escape(
            format(data.personalizePickerNoResultsValue, { query: query.input }),
          )}</div>`,
      },
      onItemAdd() {
        // Ready for the next search, as after picking from a list of tags.
        this.setTextboxValue('');
        labelRemoveButtons(this);
      },
      onInitialize() {
        labelRemoveButtons(this);
      },
    });
    // The original list stays in the form (it is what is submitted), hidden from sight by
    // Tom Select and from assistive technology here: the picker's text box stands for it.
    select.setAttribute('aria-hidden', 'true');
    // Wagtail describes a field by its help text; the text box is what keyboards reach.
    const describedBy = select.getAttribute('aria-describedby');
    if (describedBy) {
      picker.control_input.setAttribute('aria-describedby', describedBy);
    }
    if (select.getAttribute('aria-invalid') === 'true') {
      picker.wrapper.classList.add('personalize-picker--invalid');
    }
    return picker;
  }

  /** The value of a picker inside a StreamField block (Wagtail's bound widget interface). */
  class BoundPicker {
    constructor(select, parentCapabilities) {
      this.input = select;
      this.idForLabel = select.id;
      this.parentCapabilities = parentCapabilities || new Map();
    }

    getValue() {
      return Array.from(this.input.selectedOptions, (option) => option.value);
    }

    getState() {
      return this.getValue();
    }

    setState(values) {
      const wanted = (Array.isArray(values) ? values : [values])
        .filter((value) => value !== null && value !== undefined && value !== '')
        .map(String);
      const offered = new Map(Array.from(this.input.options, (option) => [option.value, option]));
      offered.forEach((option) => {
        option.selected = false;
      });
      // The chosen options go last, in the stored order, which the picker shows and keeps.
      wanted.forEach((value) => {
        const option = offered.get(value) || new Option(value, value);
        option.selected = true;
        this.input.append(option);
      });
      if (this.input.tomselect) {
        this.input.tomselect.sync();
      }
    }

    setInvalid(invalid) {
      if (invalid) {
        this.input.setAttribute('aria-invalid', 'true');
      } else {
        this.input.removeAttribute('aria-invalid');
      }
      const picker = this.input.tomselect;
      if (picker) {
        picker.wrapper.classList.toggle('personalize-picker--invalid', Boolean(invalid));
        if (invalid) {
          picker.control_input.setAttribute('aria-invalid', 'true');
        } else {
          picker.control_input.removeAttribute('aria-invalid');
        }
      }
    }

    focus() {
      if (this.input.tomselect) {
        this.input.tomselect.focus();
      } else {
        this.input.focus();
      }
    }

    getValueForLabel() {
      return Array.from(this.input.selectedOptions, (option) => option.text).join(', ');
    }

    getTextLabel(options) {
      const text = this.getValueForLabel().trim();
      const maxLength = options && options.maxLength;
      return maxLength && text.length > maxLength ? `${text.substring(0, maxLength - 1)}…` : text;
    }

    setCapabilityOptions(capability, options) {
      Object.assign(this.parentCapabilities.get(capability), options);
    }
  }

  /** The telepath definition: renders a picker from the widget's HTML. */
  class PickerDefinition {
    constructor(html) {
      this.html = html;
    }

    render(placeholder, name, id, initialState, parentCapabilities, options = {}) {
      const template = document.createElement('template');
      template.innerHTML = this.html
        .replace(/__NAME__/g, name)
        .replace(/__ID__/g, id)
        .trim();
      const select = template.content.querySelector('select');
      placeholder.replaceWith(...template.content.childNodes);
      Object.entries((options && options.attributes) || {}).forEach(([key, value]) => {
        if (value === null || value === undefined || value === false) {
          select.removeAttribute(key);
        } else {
          select.setAttribute(key, value === true ? '' : value);
        }
      });
      const bound = new BoundPicker(select, parentCapabilities);
      bound.setState(initialState);
      return bound;
    }

    getByName(name, element) {
      const select = element.querySelector(`select[name="${CSS.escape(name)}"]`);
      return new BoundPicker(select);
    }
  }

  if (window.telepath) {
    window.telepath.register('personalize.widgets.Picker', PickerDefinition);
  }

  /** Start pickers through Wagtail's Stimulus application, or watch the page without it. */
  function registerController() {
    const app = window.wagtail && window.wagtail.app;
    const Stimulus = window.StimulusModule;
    if (!app || !Stimulus) {
      return false;
    }
    class PickerController extends Stimulus.Controller {
      connect() {
        startPicker(this.element);
      }
    }
    app.register('personalize-picker', PickerController);
    return true;
  }

  function watchPage() {
    const selector = 'select[data-controller~="personalize-picker"]';
    document.querySelectorAll(selector).forEach(startPicker);
    new MutationObserver(() => {
      document.querySelectorAll(selector).forEach(startPicker);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (!registerController()) {
    document.addEventListener('DOMContentLoaded', () => {
      if (!registerController()) {
        watchPage();
      }
    });
  }
})();
