// A field shown only for some answers of another (data-shown-when, data-shown-values) is
// hidden while that answer is something else. Without the script every field shows and the
// server keeps only the answers that apply.
(function () {
  "use strict";
  function currentValue(form, name) {
    const checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) return checked.value;
    const field = form.querySelector('[name="' + name + '"]:not([type=radio])');
    return field ? field.value : null;
  }
  function update(form) {
    form.querySelectorAll("[data-shown-when]").forEach(function (block) {
      const value = currentValue(form, block.dataset.shownWhen);
      if (value === null) return; // the field it depends on is on another step
      block.hidden = !block.dataset.shownValues.split("|").includes(value);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.procedure-step").forEach(function (form) {
      form.addEventListener("change", function () { update(form); });
      update(form);
    });
  });
})();
