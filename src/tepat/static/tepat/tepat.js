/* Tepat's staff pages: the navigation's menus (disclosure buttons: aria-expanded + hidden) and
   focus on the error summary after a failed submit. Small on purpose; no framework, nothing
   inline (the Content-Security-Policy allows only our own files). */
(function () {
  "use strict";

  function toggles() {
    return document.querySelectorAll("[data-tepat-menu]");
  }

  function setOpen(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      menu.removeAttribute("hidden");
    } else {
      menu.setAttribute("hidden", "");
    }
  }

  function closeAll(except) {
    toggles().forEach(function (button) {
      if (button !== except) setOpen(button, false);
    });
  }

  function setUpMenus() {
    toggles().forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        closeAll(button);
        setOpen(button, open);
      });
    });
    var menuButton = document.querySelector("[data-tepat-nav-toggle]");
    var nav = menuButton && document.getElementById(menuButton.getAttribute("aria-controls"));
    if (menuButton && nav) {
      nav.setAttribute("data-collapsed", "true");
      menuButton.addEventListener("click", function () {
        var open = menuButton.getAttribute("aria-expanded") !== "true";
        menuButton.setAttribute("aria-expanded", open ? "true" : "false");
        nav.setAttribute("data-collapsed", open ? "false" : "true");
      });
    }
    // Escape closes an open menu and returns focus to its button; a click elsewhere closes it.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      toggles().forEach(function (button) {
        if (button.getAttribute("aria-expanded") === "true") {
          setOpen(button, false);
          button.focus();
        }
      });
    });
    document.addEventListener("click", function (event) {
      var inside = event.target.closest && event.target.closest(".tepat-nav__item");
      var owner = inside && inside.querySelector("[data-tepat-menu]");
      closeAll(owner || null);
    });
  }

  // A failed submit re-renders the form with an error summary (or, on older pages, an error
  // alert): move focus there so a screen reader announces it and a keyboard user starts from it.
  function focusErrors(root) {
    var target = root.querySelector("[data-tepat-error-summary]");
    if (!target) {
      var alert = root.querySelector("main .usa-alert--error[role=alert], main .usa-error-message[role=alert]");
      if (alert && document.querySelector("main form")) target = alert;
    }
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  // Links in the summary move focus to the field itself (a bare #id jump scrolls but leaves focus).
  function setUpSummaryLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-tepat-error-summary] a[href^='#']");
      if (!link) return;
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }

  // A field's own error message (id "<field id>_error", as accounts/_field.html writes it, or
  // "<field id>-error") joins the field's description, so a screen reader reads it with the field.
  function describeFieldErrors(root) {
    root.querySelectorAll(".usa-error-message[id$='_error'], .usa-error-message[id$='-error']").forEach(function (message) {
      var field = document.getElementById(message.id.slice(0, -"_error".length));
      if (!field) return;
      var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (ids.indexOf(message.id) === -1) ids.unshift(message.id);
      field.setAttribute("aria-describedby", ids.join(" "));
      field.setAttribute("aria-invalid", "true");
    });
  }

  function start() {
    describeFieldErrors(document);
    setUpMenus();
    setUpSummaryLinks();
    focusErrors(document);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var swapped = event.detail && event.detail.target;
      if (swapped && swapped.querySelector && swapped.querySelector("[data-tepat-error-summary]")) {
        focusErrors(swapped);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
