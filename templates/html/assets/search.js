// 搜索: search.html?q=词语 searches the book's text (search.json: one record per heading, written by
// `bookgen build --format html`) by substring, so Chinese needs no word segmentation: 两阶段, 隔离级别,
// GPT-3 and B+树 are found as typed. Several words separated by spaces must all occur in a section.
// Results: the sections with the most occurrences first, each with a highlighted excerpt, linked to
// its heading's anchor.
const query = (new URLSearchParams(location.search).get("q") || "").trim();
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
document.querySelectorAll('input[name="q"]').forEach((input) => { input.value = query; });

function occurrences(text, term) {
  let count = 0;
  for (let at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + term.length)) count += 1;
  return count;
}

// The excerpt around the first match, as text nodes and <mark> elements (the book's text is never parsed as HTML).
function excerpt(text, terms) {
  const lower = text.toLowerCase();
  const first = Math.max(0, lower.indexOf(terms[0]));
  const start = Math.max(0, first - 30);
  const end = Math.min(text.length, first + 60);
  const p = document.createElement("p");
  p.className = "excerpt";
  if (start > 0) p.append("……");
  let at = start;
  while (at < end) {
    let next = end;
    let found = null;
    for (const term of terms) {
      const index = lower.indexOf(term, at);
      if (index >= 0 && index < next) { next = index; found = term; }
    }
    p.append(text.slice(at, next));
    if (!found) break;
    const mark = document.createElement("mark");
    mark.textContent = text.slice(next, next + found.length);
    p.append(mark);
    at = next + found.length;
  }
  if (end < text.length) p.append("……");
  return p;
}

function item(record, terms) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = record.u;
  link.textContent = record.t;
  li.append(link);
  if (record.p !== record.t) {
    const where = document.createElement("span");
    where.className = "where";
    where.textContent = record.p;
    li.append(" ", where);
  }
  li.append(excerpt(`${record.t} ${record.x}`, terms));
  return li;
}

async function run() {
  if (!query) {
    status.textContent = "输入词语后按回车搜索。";
    return;
  }
  status.textContent = "正在搜索……";
  const response = await fetch("search.json");
  if (!response.ok) throw new Error(`search.json: HTTP ${response.status}`);
  const records = await response.json();
  const terms = [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))];
  const hits = [];
  records.forEach((record, order) => {
    const text = `${record.t} ${record.x}`.toLowerCase();
    const counts = terms.map((term) => occurrences(text, term));
    if (counts.every((count) => count > 0)) hits.push({ record, order, score: counts.reduce((a, b) => a + b, 0) });
  });
  hits.sort((a, b) => b.score - a.score || a.order - b.order);
  list.replaceChildren(...hits.slice(0, 50).map((hit) => item(hit.record, terms)));
  status.textContent = hits.length ? `“${query}”：${hits.length} 处` : `没有找到“${query}”。`;
}

run().catch((error) => { status.textContent = `搜索出错：${error.message}`; });
