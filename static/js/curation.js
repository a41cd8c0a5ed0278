// The admins' highlights order (/curate/highlights/). The Up and Down buttons work without
// this script; it adds drag and drop, which sends the whole new order through the hidden
// reorder form, and keeps the keyboard focus on the button just used after the page reloads.
(function () {
  "use strict";

  var MOVE_KEY = "curation-last-move";

  function ids(list) {
    return Array.prototype.map
      .call(list.querySelectorAll("li[data-quote]"), function (item) {
        return item.getAttribute("data-quote");
      })
      .join(",");
  }

  function enableDragAndDrop(list, form) {
    var dragged = null;
    list.querySelectorAll("li[data-quote]").forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("is-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-quote"));
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("is-dragging");
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (!dragged) {
          return;
        }
        event.preventDefault();
        if (dragged === item) {
          return;
        }
        var box = item.getBoundingClientRect();
        var below = event.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, below ? item.nextSibling : item);
      });
    });
    list.addEventListener("dragover", function (event) {
      if (dragged) {
        event.preventDefault();
      }
    });
    list.addEventListener("drop", function (event) {
      event.preventDefault();
      var order = ids(list);
      if (order !== form.elements.seen.value) {
        form.elements.order.value = order;
        form.submit();
      }
    });
  }

  function keepFocusAfterMove(list) {
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button[name=direction]");
      if (button) {
        window.sessionStorage.setItem(MOVE_KEY, button.value);
      }
    });
    var id = window.location.hash.slice(1);
    var item = id && document.getElementById(id);
    var direction = window.sessionStorage.getItem(MOVE_KEY);
    window.sessionStorage.removeItem(MOVE_KEY);
    if (!item || !list.contains(item)) {
      return;
    }
    var enabled = "button[name=direction]:not([disabled])";
    var button =
      item.querySelector(enabled + '[value="' + direction + '"]') || item.querySelector(enabled);
    // After "load": the browser's own move to the #fragment would take the focus away again.
    function focusButton() {
      if (button) {
        button.focus();
      }
    }
    if (document.readyState === "complete") {
      focusButton();
    } else {
      window.addEventListener("load", focusButton);
    }
  }

  function init() {
    var list = document.querySelector("[data-reorder-form]");
    var form = list && document.getElementById(list.getAttribute("data-reorder-form"));
    if (!form) {
      return;
    }
    enableDragAndDrop(list, form);
    keepFocusAfterMove(list);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
