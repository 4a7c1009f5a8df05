// Deals board: move a card to another stage by dragging it onto the stage's
// column. This only adds to the page: every card keeps its buttons for the
// keyboard, and the board works without script. A drop sends the same form
// the buttons send (the deal's version included, so a move of a deal that
// changed meanwhile is refused and the board says so); with htmx the board
// is swapped in place, without it the page is sent as a plain form.
(function () {
  "use strict";

  var dragged = null;

  function cards() {
    document.querySelectorAll(".deals-card[data-deal]").forEach(function (card) {
      card.draggable = true;
    });
    document.querySelectorAll(".deals-dnd-hint").forEach(function (hint) {
      hint.hidden = false;
    });
  }

  function column(el) {
    return el && el.closest ? el.closest(".deals-column[data-stage]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".deals-drop-target").forEach(function (c) {
      c.classList.remove("deals-drop-target");
    });
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target && e.target.closest ? e.target.closest(".deals-card[data-deal]") : null;
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("deals-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.querySelector("h3").textContent);
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("deals-dragging");
    }
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!dragged || !col || col.dataset.stage === dragged.dataset.stage) {
      return;
    }
    e.preventDefault(); // this column takes the card
    e.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("deals-drop-target")) {
      clearTargets();
      col.classList.add("deals-drop-target");
    }
  });

  document.addEventListener("drop", function (e) {
    var col = column(e.target);
    var card = dragged;
    if (!card || !col || col.dataset.stage === card.dataset.stage) {
      return;
    }
    e.preventDefault();
    clearTargets();
    if (col.dataset.outcome === "lost") {
      // A lost deal says why: open the card's form at its reason.
      var details = card.querySelector("details.deals-close");
      var select = details && details.querySelector("select#reason-" + card.dataset.deal + "-" + col.dataset.stage);
      if (select) {
        details.open = true;
        select.focus();
        return;
      }
    }
    var form = document.getElementById("deals-drop");
    if (!form) {
      return;
    }
    form.action = "/deals/" + card.dataset.deal + "/stage";
    form.elements.version.value = card.dataset.version;
    form.elements.stage.value = col.dataset.stage;
    if (window.htmx) {
      window.htmx.ajax("POST", form.action, { source: form, target: "#board", select: "#board", swap: "outerHTML" });
    } else {
      form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", cards);
  document.addEventListener("htmx:afterSettle", cards);
  if (document.readyState !== "loading") {
    cards();
  }
})();
