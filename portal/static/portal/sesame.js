/* Sésame's page script (portal/templates/portal/base.html), loaded in <head> without defer so
 * that the "js" class is set before the first paint (no flash of the phone menu).
 *
 * - The phone menu: the header's button opens and closes the navigation (without JavaScript
 *   the navigation simply stays open).
 * - Tables become stacked cards under 600 px (sesame.css): each cell gets the text of its
 *   column header as data-label, also in what htmx swaps in later.
 *
 * A file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function headerTexts(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) {
      return null;
    }
    var texts = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      // A column titled only for screen readers (buttons, actions) gets no label on a phone.
      var visible = cell.cloneNode(true);
      Array.prototype.forEach.call(visible.querySelectorAll(".visually-hidden"), function (hidden) {
        hidden.remove();
      });
      var text = visible.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i += 1) {
        texts.push(text);
      }
    });
    return texts;
  }

  function labelTable(table) {
    if (table.classList.contains("no-stack")) {
      return;
    }
    var texts = headerTexts(table);
    if (!texts) {
      return;
    }
    var sections = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) {
      sections.push(table.tFoot);  // totals are stacked like the rows they add up
    }
    sections.forEach(function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1) {
            cell.setAttribute("data-label", texts[column] || "");
          }
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("stack");
  }

  function labelTables(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.tagName === "TABLE") {
      labelTable(scope);
    }
    Array.prototype.forEach.call(scope.querySelectorAll("table"), labelTable);
    if (scope.closest) {
      var around = scope.closest("table");
      if (around) {
        labelTable(around);
      }
    }
  }

  function setUpMenu() {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) {
      return;
    }
    var header = button.closest(".site-header");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        button.setAttribute("aria-expanded", "false");
        header.classList.remove("menu-open");
        button.focus();
      }
    });
  }

  function ready() {
    setUpMenu();
    labelTables(document);
    document.body.addEventListener("htmx:load", function (event) {
      labelTables(event.target);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
