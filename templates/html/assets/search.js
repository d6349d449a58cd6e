// 搜索: runs search.html?q=词语 against Pagefind's index (pagefind/, written by `bookgen build --format html`).
// Results: each page's best-matching headings, with a highlighted excerpt, linked to the heading's anchor.
const query = (new URLSearchParams(location.search).get("q") || "").trim();
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
document.querySelectorAll('input[name="q"]').forEach((input) => { input.value = query; });

// Pagefind's URLs start at the site's root ("/ch-1.html#sec-1-1"); the site may live in a sub-folder,
// and this page sits at its root, so the relative form is the URL without its leading slash.
const relative = (url) => url.replace(/^\/+/, "") || "index.html";

function item(page, sub) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = relative(sub.url);
  link.textContent = sub.title || page.meta.title;
  li.append(link);
  if (sub.title && sub.title !== page.meta.title) {
    const where = document.createElement("span");
    where.className = "where";
    where.textContent = page.meta.title;
    li.append(" ", where);
  }
  const excerpt = document.createElement("p");
  excerpt.className = "excerpt";
  excerpt.innerHTML = sub.excerpt; // Pagefind's excerpt: escaped text with <mark> around the matches
  li.append(excerpt);
  return li;
}

async function run() {
  if (!query) {
    status.textContent = "输入词语后按回车搜索。";
    return;
  }
  status.textContent = "正在搜索……";
  const pagefind = await import("../pagefind/pagefind.js");
  await pagefind.options({ excerptLength: 36 });
  const search = await pagefind.search(query);
  const pages = await Promise.all(search.results.slice(0, 20).map((result) => result.data()));
  list.replaceChildren();
  for (const page of pages) {
    const subs = (page.sub_results || []).slice().sort((a, b) => (b.locations || []).length - (a.locations || []).length);
    for (const sub of (subs.length ? subs.slice(0, 3) : [{ url: page.url, title: page.meta.title, excerpt: page.excerpt }])) {
      list.append(item(page, sub));
    }
  }
  status.textContent = pages.length ? `“${query}”：${search.results.length} 个页面` : `没有找到“${query}”。`;
}

run().catch((error) => { status.textContent = `搜索出错：${error.message}`; });
