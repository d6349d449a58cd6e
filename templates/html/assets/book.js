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
