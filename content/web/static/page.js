// After a tap on a song in the list, the page comes back at that song with what happened:
// move the focus there too, so a screen reader reads it out and the next tap starts there.
(function () {
  "use strict";
  var said = document.querySelector("[data-focus-on-load]");
  if (said) {
    said.focus({ preventScroll: false });
  }
}());
