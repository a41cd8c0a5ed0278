// The organisers' edit page. After a change the page reopens at the section it came from
// (#themes, #speakers …); show the message about that change there, where the organiser is
// looking, rather than at the top of the page. Without JavaScript it stays at the top.
(function () {
  "use strict";

  function moveMessagesToSection() {
    var messages = document.querySelector(".site-main .messages");
    var id = window.location.hash.slice(1);
    var section = id && document.getElementById(id);
    if (!messages || !section || !section.classList.contains("panel")) {
      return;
    }
    var title = section.querySelector(".panel__title");
    if (title) {
      title.after(messages);
    } else {
      section.prepend(messages);
    }
    section.scrollIntoView();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", moveMessagesToSection);
  } else {
    moveMessagesToSection();
  }
})();
