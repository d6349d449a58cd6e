-- Index marks and glossary terms (issue 18), recognised in a section's AST; loaded by convert.lua.
--
-- Index marks are Spans of class "index": [事务]{.index} indexes its own text; entry="事务!ACID 特性"
-- files it under another entry ('!' separates up to three levels); see="…" / seealso="…" make a 见 /
-- 另见 cross-reference; sort="chongqing" overrides the sort key ('!'-separated like entry); start=NAME
-- opens a page range and [...]{.index end=NAME} closes it. A mark never changes the printed text:
--   AST:   Span("ix-KEY-N", {"index-mark"}) around the same content (the EPUB's link target)
--   LaTeX: \bookgenindex{ix-KEY-N} before the content (templates/latex/preamble/index.tex_t)
-- An empty mark on a line of its own ([]{.index end=NAME} as a paragraph) joins the paragraph beside it
-- (attach_lone_marks): it never prints an empty line.
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

-- A paragraph of nothing but empty marks ([]{.index end=iso} on a line of its own) would print an empty
-- line in the PDF. Its marks move into the paragraph beside it, so the page is that of the text they
-- belong to: an end mark (or a plain one) to the end of the paragraph before, a start mark to the
-- beginning of the paragraph after. With no paragraph on that side (a table, a code block, a heading)
-- a mark becomes an empty Div("ix-…", {"index-mark"}): LaTeX sets it between the blocks, in vertical
-- mode, where it prints nothing. Both outputs see the same blocks (the EPUB's page list counts them).
-- A block list of one block (a table cell) is left as it is: its mark prints nothing either.
local function blank(inlines)
  for _, inline in ipairs(inlines) do
    if inline.t ~= "Space" and inline.t ~= "SoftBreak" then
      return false
    end
  end
  return true
end

local function is_paragraph(block)
  return block ~= nil and (block.t == "Para" or block.t == "Plain")
end

local function lone_marks(block)
  if not is_paragraph(block) then
    return nil
  end
  local found = {}
  for _, inline in ipairs(block.content) do
    if inline.t == "Span" and inline.classes:includes("index-mark") and blank(inline.content) then
      table.insert(found, inline)
    elseif inline.t ~= "Space" and inline.t ~= "SoftBreak" then
      return nil
    end
  end
  return #found > 0 and found or nil
end

local function mark_block(mark)
  return pandoc.Div({}, pandoc.Attr(mark.identifier, { "index-mark" }))
end

local function attach_lone_marks(blocks, starts)
  if #blocks < 2 then
    return nil
  end
  local out, waiting, changed = pandoc.Blocks({}), {}, false
  for _, block in ipairs(blocks) do
    local found = lone_marks(block)
    if found then
      changed = true
      for _, mark in ipairs(found) do
        local last = out[#out]
        if starts[mark.identifier] then
          table.insert(waiting, mark)
        elseif is_paragraph(last) then
          last.content:insert(mark)
        else
          out:insert(mark_block(mark))
        end
      end
    else
      if #waiting > 0 and is_paragraph(block) then
        local content = pandoc.Inlines(waiting)
        content:extend(block.content)
        block.content = content
      else
        for _, mark in ipairs(waiting) do
          out:insert(mark_block(mark))
        end
      end
      waiting = {}
      out:insert(block)
    end
  end
  for _, mark in ipairs(waiting) do
    out:insert(mark_block(mark))
  end
  return changed and out or nil
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
  local starts = {}
  for _, mark in ipairs(marks) do
    starts[mark.id] = mark.start ~= ""
  end
  return doc:walk({ Blocks = function(blocks) return attach_lone_marks(blocks, starts) end }), { marks = marks, terms = terms }
end

-- The document as the LaTeX writer should see it: marks as \bookgenindex{id} before their content (a
-- mark between blocks on its own, in vertical mode), terms as \bookgenterm{N}{content}.
function M.latex(doc)
  return doc:walk({
    Div = function(element)
      if element.classes:includes("index-mark") then
        return pandoc.RawBlock("latex", "\\bookgenindex{" .. element.identifier .. "}")
      end
    end,
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
