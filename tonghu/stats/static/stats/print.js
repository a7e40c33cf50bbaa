// The 打印 button of the annual report: shown only where scripts run (the page's CSP allows
// only our own files, so no inline handler), it opens the browser's print dialogue.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
