-- Index marks and glossary terms (issue 18), recognised in a section's AST; loaded by convert.lua.
--
-- Index marks are Spans of class "index": [事务]{.index} indexes its own text; entry="事务!ACID 特性"
-- files it under another entry ('!' separates up to three levels); see="…" / seealso="…" make a 见 /
-- 另见 cross-reference; sort="chongqing" overrides the sort key ('!'-separated like entry); start=NAME
-- opens a page range and [...]{.index end=NAME} closes it. A mark never changes the printed text:
--   AST:   Span("ix-KEY-N", {"index-mark"}) around the same content (the EPUB's link target)
--   LaTeX: \bookgenindex{ix-KEY-N} before the content (templates/latex/preamble/index.tex_t)
-- Glossary terms are Spans of class "term": [大模型]{.term} (key: the text) or {.term key=llm}:
--   AST:   Span("", {"term"}, {key = KEY}) around the content (bookgen.index.ast makes it a link)
--   LaTeX: \bookgenterm{N}{content}, N the term's ordinal in the section (bookgen.index.latex resolves it)
-- summary() lists both in document order for bookgen's book-wide index table (bookgen.index.table).

local M = {}

local function levels(text)
  local out = {}
  for level in (text .. "!"):gmatch("([^!]*)!") do
    table.insert(out, (level:gsub("^%s+", ""):gsub("%s+$", "")))
  end
  return out
end

-- key: the section's key (node id). Returns the document with marks and terms rewritten, and the summary
-- {marks = [{id, entry = {levels}, sort, see, seealso, start, end}], terms = [{key, text}]}.
function M.mark(doc, key)
  local marks, terms = {}, {}
  local function span(element)
    local attributes = element.attributes
    if element.classes:includes("index") then
      local id = "ix-" .. key .. "-" .. (#marks + 1)
      local text = pandoc.utils.stringify(element.content)
      local entry = attributes.entry or text
      table.insert(marks, {
        id = id, entry = levels(entry), text = text, sort = attributes.sort and levels(attributes.sort) or {},
        see = attributes.see or "", seealso = attributes.seealso or "",
        start = attributes.start or "", ["end"] = attributes["end"] or "",
      })
      return pandoc.Span(element.content, pandoc.Attr(id, { "index-mark" }))
    elseif element.classes:includes("term") then
      local text = pandoc.utils.stringify(element.content)
      table.insert(terms, { key = attributes.key or text, text = text })
      return pandoc.Span(element.content, pandoc.Attr("", { "term" }, { key = attributes.key or text, n = tostring(#terms) }))
    end
  end
  -- An image's description repeats its figure's caption: its marks are text there, not marks.
  local function plain_marks(element)
    if element.classes:includes("index") or element.classes:includes("term") then
      return element.content
    end
  end
  -- Document order (notes, captions and table cells where they stand): a topdown walk.
  doc = doc:walk({ traverse = "topdown", Image = function(image)
    image.caption = image.caption:walk({ Span = plain_marks })
    return image, false
  end, Span = function(element)
    local replaced = span(element)
    if replaced then
      replaced.content = pandoc.Inlines(replaced.content):walk({ Span = span })
      return replaced, false
    end
  end })
  return doc, { marks = marks, terms = terms }
end

-- The document as the LaTeX writer should see it: marks as \bookgenindex{id} before their content,
-- terms as \bookgenterm{N}{content}.
function M.latex(doc)
  return doc:walk({
    Span = function(element)
      if element.classes:includes("index-mark") then
        local out = pandoc.Inlines({ pandoc.RawInline("latex", "\\bookgenindex{" .. element.identifier .. "}") })
        out:extend(element.content)
        return out
      elseif element.classes:includes("term") then
        local out = pandoc.Inlines({ pandoc.RawInline("latex", "\\bookgenterm{" .. element.attributes.n .. "}{") })
        out:extend(element.content)
        out:insert(pandoc.RawInline("latex", "}"))
        return out
      end
    end,
  })
end

return M
