-- Convert many Markdown sections in one pandoc process, each parsed on its own.
-- stdin:  {"reader": "...", "items": [{"key", "text", "base", "shift", "unnumbered", "prefix", "xref_prefixes"}]}
-- stdout: {"api": "1.23.1", "items": {key: {"latex", "ast" (pandoc JSON), "plain" (text), "images", "xref" (refs.lua,
--          with "index": index.lua's marks and terms)}}}
-- Run by bookgen.sources.convert as `pandoc lua convert.lua`; it reads and writes nothing else.

local request = pandoc.json.decode(io.read("a"), false)
local refs = dofile(pandoc.path.join({ pandoc.path.directory(arg[0]), "refs.lua" }))  -- cross-references
local index = dofile(pandoc.path.join({ pandoc.path.directory(arg[0]), "index.lua" }))  -- index marks, glossary terms

-- Join a relative image path to the section's directory and drop "." and ".." steps.
-- A path that climbs out stays with its ".." so that bookgen can refuse it. pandoc percent-encodes
-- a destination's spaces (示意 图.png, <示意 图.png> and 示意%20图.png all arrive as 示意%20图.png):
-- a file path is decoded back to the file's name.
local function manuscript_path(base, src)
  if src:match("^%a[%w+.-]*:") or src:sub(1, 1) == "/" then
    return src
  end
  src = src:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end)
  local parts = {}
  for piece in ((base ~= "" and base .. "/" or "") .. src):gmatch("[^/]+") do
    if piece == ".." and #parts > 0 and parts[#parts] ~= ".." then
      table.remove(parts)
    elseif piece ~= "." then
      table.insert(parts, piece)
    end
  end
  return table.concat(parts, "/")
end

-- East Asian wide characters (pandoc's own test for east_asian_line_breaks).
local function wide(code)
  return (code >= 0x1100 and code <= 0x115F) or (code >= 0x2E80 and code <= 0x303E)
      or (code >= 0x3041 and code <= 0xA4CF) or (code >= 0xAC00 and code <= 0xD7A3)
      or (code >= 0xF900 and code <= 0xFAFF) or (code >= 0xFE30 and code <= 0xFE4F)
      or (code >= 0xFF00 and code <= 0xFF60) or (code >= 0xFFE0 and code <= 0xFFE6)
      or (code >= 0x20000 and code <= 0x3FFFD)
end

-- east_asian_line_breaks is a transform pandoc's command line applies after reading; pandoc.read
-- does not, so do it here: a line break between two wide characters is dropped, not a space.
local function drop_east_asian_breaks(inlines)
  for i = #inlines - 1, 2, -1 do
    local before, after = inlines[i - 1], inlines[i + 1]
    if inlines[i].t == "SoftBreak" and before.t == "Str" and after.t == "Str" then
      local last = utf8.codepoint(before.text, utf8.offset(before.text, -1))
      local first = utf8.codepoint(after.text, 1)
      if wide(last) and wide(first) then
        inlines:remove(i)
      end
    end
  end
  return inlines
end

-- Curly quotes take the script of the text they stand in (house style: full-width CJK punctuation in
-- Chinese, compressed by ctex; Latin quotes around Latin-only text). A pair is CJK when it encloses a
-- wide character or touches one from outside (他说“OK”了); a lone ’ (an apostrophe) when a neighbour is
-- wide. Latin ones are wrapped in a Span of class "latin" (the EPUB's CSS gives it a Latin face; the
-- LaTeX output prints them as \textquote… commands, which xeCJK sets in the Latin face); the typed
-- characters stay in the text. Runs over each block's inlines, not into notes (a note is its own text).
local OPENING = { ["“"] = "”", ["‘"] = "’" }
local CLOSING = { ["”"] = "“", ["’"] = "‘" }
local NESTED = { Emph = true, Strong = true, Underline = true, Strikeout = true, Superscript = true,
  Subscript = true, SmallCaps = true, Span = true, Link = true, Quoted = true, Cite = true }

-- The block's text as a list of characters: {char, wide, str, at}: the str-th Str element of the
-- block (in reading order) holds it as its at-th character; code, math and spaces count as Latin.
local function characters(inlines, out, count)
  for _, inline in ipairs(inlines) do
    if inline.t == "Str" then
      count[1] = count[1] + 1
      local at = 0
      for _, code in utf8.codes(inline.text) do
        at = at + 1
        table.insert(out, { char = utf8.char(code), wide = wide(code), str = count[1], at = at })
      end
    elseif NESTED[inline.t] then
      characters(inline.content, out, count)
    elseif inline.t ~= "Note" then
      table.insert(out, { char = inline.t == "Space" and " " or "x", wide = false })
    end
  end
  return out
end

local function wide_neighbour(chars, from, step)
  local i = from + step
  while chars[i] and chars[i].char == " " do
    i = i + step
  end
  return chars[i] ~= nil and chars[i].wide
end

-- The Latin quotes of a block: {Str ordinal → {character position → true}}.
local function latin_quotes(inlines)
  local chars = characters(inlines, {}, { 0 })
  local script, open = {}, {}
  for i, c in ipairs(chars) do
    if OPENING[c.char] then
      table.insert(open, i)
    elseif CLOSING[c.char] then
      local o = nil
      for k = #open, 1, -1 do
        if chars[open[k]].char == CLOSING[c.char] then
          o = table.remove(open, k)
          break
        end
      end
      if o then
        local cjk = wide_neighbour(chars, o, -1) or wide_neighbour(chars, i, 1)
        for k = o + 1, i - 1 do
          cjk = cjk or chars[k].wide
        end
        script[o], script[i] = cjk, cjk
      else
        script[i] = wide_neighbour(chars, i, -1) or wide_neighbour(chars, i, 1)
      end
    end
  end
  for _, i in ipairs(open) do
    script[i] = wide_neighbour(chars, i, -1) or wide_neighbour(chars, i, 1)
  end
  local latin = {}
  for i, cjk in pairs(script) do
    if not cjk then
      latin[chars[i].str] = latin[chars[i].str] or {}
      latin[chars[i].str][chars[i].at] = true
    end
  end
  return latin
end

-- Split each Str holding a Latin quote into Str pieces and Span.latin quotes.
local function mark_latin_quotes(inlines)
  local latin, count = latin_quotes(inlines), 0
  local function rewrite(list)
    local result = pandoc.Inlines({})
    for _, inline in ipairs(list) do
      count = count + (inline.t == "Str" and 1 or 0)
      if inline.t == "Str" and latin[count] then
        local run, at = "", 0
        for _, code in utf8.codes(inline.text) do
          at = at + 1
          if latin[count][at] then
            if run ~= "" then result:insert(pandoc.Str(run)) end
            result:insert(pandoc.Span({ pandoc.Str(utf8.char(code)) }, { class = "latin" }))
            run = ""
          else
            run = run .. utf8.char(code)
          end
        end
        if run ~= "" then result:insert(pandoc.Str(run)) end
      else
        if NESTED[inline.t] then
          inline.content = rewrite(inline.content)
        end
        result:insert(inline)
      end
    end
    return result
  end
  return rewrite(inlines)
end

local function mark_block(block)
  block.content = mark_latin_quotes(block.content)
  return block
end

-- For LaTeX only: a Latin quote as xeCJK's Latin command; a typed straight " as itself (TeX's
-- ligatures would print it as ”).
local LATIN_QUOTE = { ["“"] = "\\textquotedblleft{}", ["”"] = "\\textquotedblright{}",
  ["‘"] = "\\textquoteleft{}", ["’"] = "\\textquoteright{}" }
local latex_quotes = {
  Span = function(span)
    if span.classes:includes("latin") and #span.content == 1 and span.content[1].t == "Str" then
      return pandoc.RawInline("latex", LATIN_QUOTE[span.content[1].text])
    end
  end,
  Str = function(str)
    if str.text:find('"', 1, true) then
      local pieces = pandoc.Inlines({})
      for piece, quote in str.text:gmatch('([^"]*)("?)') do
        if piece ~= "" then pieces:insert(pandoc.Str(piece)) end
        if quote ~= "" then pieces:insert(pandoc.RawInline("latex", "\\textquotedbl{}")) end
      end
      return pieces
    end
  end,
}

-- The printed page of each paragraph, for the EPUB's page list: the LaTeX (only) gets
-- \bookgenpara{s}{KEY:N} at the start and \bookgenpara{e}{KEY:N} at the end of the N-th paragraph
-- (Para or Plain, in document order, leaving out notes, tables and figures), which writes the page
-- where it lands to <unit>.tex.pages (templates/latex/preamble/pagemap.tex_t). bookgen.epub.pagemap
-- counts the paragraphs of the same AST in the same order.
local skip = function(element) return element, false end
local function mark_paragraphs(doc, key)
  local count = 0
  local function mark(block)
    count = count + 1
    local id = key .. ":" .. count
    block.content:insert(1, pandoc.RawInline("latex", "\\bookgenpara{s}{" .. id .. "}"))
    block.content:insert(pandoc.RawInline("latex", "\\bookgenpara{e}{" .. id .. "}"))
    return block, false
  end
  return doc:walk({ traverse = "topdown", Para = mark, Plain = mark, Note = skip, Table = skip, Figure = skip })
end

local function convert(item)
  local doc = pandoc.read(item.text, request.reader)
  local images = {}
  local prefix = item.prefix
  doc = doc:walk({ Inlines = drop_east_asian_breaks })
  doc = doc:walk({
    Header = function(h)
      h.level = h.level + item.shift
      if item.unnumbered and not h.classes:includes("unnumbered") then
        h.classes:insert("unnumbered")
      end
      if h.identifier ~= "" then
        h.identifier = prefix .. h.identifier
      end
      return h
    end,
    Link = function(link)
      if link.target:sub(1, 1) == "#" then
        link.target = "#" .. prefix .. link.target:sub(2)
      end
      return link
    end,
    Image = function(img)
      img.src = manuscript_path(item.base, img.src)
      table.insert(images, img.src)
      return img
    end,
  })
  doc = doc:walk({ Para = mark_block, Plain = mark_block, Header = mark_block })
  doc = refs.mark(doc, item, request.reader)
  local xref = refs.summary(doc, item.xref_prefixes)
  doc, xref.index = index.mark(doc, item.key)
  local ast = pandoc.write(doc, "json")
  -- The LaTeX has no babel: a passage marked [text]{lang=en} keeps its language in the AST (the EPUB's
  -- lang attribute) and is plain text to LaTeX, which would otherwise call an undefined \foreignlanguage.
  local for_latex = index.latex(refs.latex(doc)):walk({ Span = function(span) span.attributes.lang = nil return span end })
  for_latex = mark_paragraphs(for_latex, item.key):walk(latex_quotes)
  -- "-smart": the marks print as typed (pandoc's smart output would turn “” into ``'' and —— into ------).
  local latex = refs.anchors(pandoc.write(for_latex, "latex-smart", { wrap_text = "preserve" }), xref)
  -- A captioned long table's header as repeated on the following pages gets its 续表 line (preamble).
  latex = latex:gsub("\\endfirsthead\n", "\\endfirsthead\n\\bookgentablecontinued\n")
  -- Plain text (the abstract, as PDF subject and EPUB description): each block's text on a line.
  -- stringify, not the plain writer, which would cost a third of the whole conversion.
  local plain = {}
  for _, block in ipairs(doc.blocks) do
    table.insert(plain, pandoc.utils.stringify(block))
  end
  return { latex = latex, ast = ast, plain = table.concat(plain, "\n"), images = images, xref = xref }
end

local out = {}
for _, item in ipairs(request.items) do
  local ok, result = pcall(convert, item)
  out[item.key] = ok and result or { error = tostring(result) }
end
io.write(pandoc.json.encode({ api = tostring(PANDOC_API_VERSION), items = out }))
