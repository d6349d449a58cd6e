// bookgen serve only (never part of build/html/): reload this tab when its page is rebuilt, keeping
// the scroll position; show a build problem (file:line:col: message) over the page until it is fixed.
(() => {
  const page = decodeURIComponent(location.pathname.split("/").pop() || "index.html");
  const key = `bookgen-scroll:${location.pathname}`;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    const restore = () => window.scrollTo(0, Number(saved));
    restore();
    addEventListener("load", restore);
  }

  let overlay = null;
  function show(problem) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "bookgen-problem";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;z-index:1000;max-height:60vh;overflow:auto;" +
        "padding:1rem 1.25rem;background:#3b0d0d;color:#fff;border-left:6px solid #ff6b6b;border-radius:6px;" +
        "font:14px/1.6 monospace;white-space:pre-wrap;box-shadow:0 0.5rem 2rem rgba(0,0,0,.4)";
      document.body.append(overlay);
    }
    overlay.textContent = `构建失败（修改后自动重试）\n${problem.message}${problem.detail ? `\n${problem.detail}` : ""}`;
  }
  function clear() {
    if (overlay) overlay.remove();
    overlay = null;
  }
  function notice(text) {
    const note = document.createElement("div");
    note.setAttribute("role", "status");
    note.textContent = text;
    note.style.cssText = "position:fixed;right:1rem;top:3.5rem;z-index:1000;padding:.5rem 1rem;background:#0b57a4;" +
      "color:#fff;border-radius:4px;font:14px/1.5 sans-serif";
    document.body.append(note);
    setTimeout(() => note.remove(), 4000);
  }

  const events = new EventSource("/__bookgen/events");
  events.addEventListener("problem", (event) => show(JSON.parse(event.data)));
  events.addEventListener("ok", clear);
  events.addEventListener("notice", (event) => notice(JSON.parse(event.data).message));
  events.addEventListener("reload", (event) => {
    clear();
    const { pages } = JSON.parse(event.data);
    if (pages.includes(page) || document.title === "正在构建……") {
      sessionStorage.setItem(key, String(window.scrollY));
      location.reload();
    }
  });
})();
