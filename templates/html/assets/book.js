// The sidebar behind the 目录 button on narrow screens; the current entry scrolled into view.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".topbar .menu");
  const sidebar = document.getElementById("sidebar");
  if (button && sidebar) {
    const show = (open) => {
      document.body.classList.toggle("sidebar-open", open);
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", () => show(!document.body.classList.contains("sidebar-open")));
    sidebar.addEventListener("click", (event) => { if (event.target.closest("a")) show(false); });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") show(false); });
  }
  const current = document.querySelector('.sidebar [aria-current="page"]');
  if (current && sidebar && sidebar.scrollHeight > sidebar.clientHeight) {
    sidebar.scrollTop = current.offsetTop - sidebar.clientHeight / 2; // the sidebar only, never the page
  }
});

// Glossary terms (issue 18): a.term links to its 术语表 entry; its definition (the link's title, the
// term's heading in data-heading) shows in a popover: on hover (it stays while the pointer moves onto
// it), on keyboard focus, and on a tap (touch has no hover: the first tap opens it, a second tap on the
// term follows the link, a tap elsewhere closes it). Escape closes it; aria-describedby gives screen
// readers the definition. Without this script the title still shows as the browser's tooltip.
document.addEventListener("DOMContentLoaded", () => {
  const terms = Array.from(document.querySelectorAll("a.term[title]"));
  if (!terms.length) return;
  let open = null; // the term whose popover is shown
  let pointer = "mouse"; // the kind of the last pointer pressed: mouse, touch or pen
  let closing = 0;
  const tips = new Map();
  terms.forEach((term, n) => {
    const tip = document.createElement("span");
    tip.className = "term-tip";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    const text = document.createElement("span"); // what describes the term (the hint for touch is not)
    text.id = "term-tip-" + (n + 1);
    const heading = term.dataset.heading;
    if (heading) {
      const strong = document.createElement("strong");
      strong.textContent = heading;
      text.append(strong, document.createElement("br"));
    }
    if (term.title !== heading) text.append(term.title); // a term without a definition: its heading is the title
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = "再点一下词语，转到" + (term.dataset.glossary || "术语表");
    hint.hidden = true;
    tip.append(text, hint);
    term.dataset.definition = term.title;
    term.removeAttribute("title"); // the popover replaces the browser's tooltip
    term.setAttribute("aria-describedby", text.id);
    document.body.append(tip);
    tips.set(term, tip);
    tip.addEventListener("pointerenter", () => clearTimeout(closing));
    tip.addEventListener("pointerleave", (event) => { if (event.pointerType === "mouse") hideSoon(); });
  });
  const place = (term, tip) => {
    const box = term.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    tip.style.left = "0px";
    tip.style.top = "0px";
    const own = tip.getBoundingClientRect();
    const left = Math.max(8, Math.min(box.left, width - own.width - 8));
    const below = box.bottom + 6;
    const top = below + own.height > window.innerHeight && box.top - own.height - 6 > 0 ? box.top - own.height - 6 : below;
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = top + window.scrollY + "px";
  };
  const show = (term, tapped = false) => {
    clearTimeout(closing);
    if (open && open !== term) hide();
    const tip = tips.get(term);
    tip.querySelector(".hint").hidden = !tapped;
    tip.hidden = false;
    place(term, tip);
    term.classList.add("open");
    open = term;
  };
  const hide = () => {
    clearTimeout(closing);
    if (!open) return;
    tips.get(open).hidden = true;
    open.classList.remove("open");
    open = null;
  };
  const hideSoon = () => { clearTimeout(closing); closing = setTimeout(hide, 300); };
  document.addEventListener("pointerdown", (event) => {
    pointer = event.pointerType || "mouse";
    if (open && !event.target.closest(".term-tip") && event.target.closest("a.term") !== open) hide();
  });
  terms.forEach((term) => {
    term.addEventListener("pointerenter", (event) => { if (event.pointerType === "mouse") show(term); });
    term.addEventListener("pointerleave", (event) => { if (event.pointerType === "mouse") hideSoon(); });
    term.addEventListener("focus", () => { if (term.matches(":focus-visible")) show(term); });
    term.addEventListener("blur", () => { if (open === term && !tips.get(term).matches(":hover")) hideSoon(); });
    term.addEventListener("click", (event) => {
      const kind = event.pointerType || (event.detail ? pointer : "keyboard");
      if ((kind === "touch" || kind === "pen") && open !== term) {
        event.preventDefault(); // the first tap shows the definition, the second follows the link
        show(term, true);
      }
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && open) hide();
  });
  window.addEventListener("resize", () => { if (open) place(open, tips.get(open)); });
});
