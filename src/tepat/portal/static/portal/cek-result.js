/* Moves the focus to the status check's result, so screen readers announce it at once. */
(function () {
  var card = document.getElementById("hasil-card");
  if (card) {
    card.focus();
  }
})();
