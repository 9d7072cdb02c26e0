// Runs before first paint (a classic, blocking script) so the page never flashes the
// wrong theme: the last theme this browser saw is cached in localStorage; the server's
// preference (which follows the user across devices) replaces it once the page loads.
(function () {
  try {
    var theme = localStorage.getItem("sb-theme");
    if (theme === "light" || theme === "dark" || theme === "system") {
      document.documentElement.dataset.theme = theme;
    }
  } catch (e) { /* storage disabled: keep "system" */ }
})();
