-- Convert many Markdown sections in one pandoc process, each parsed on its own.
-- stdin:  {"reader": "...", "items": [{"key", "text", "base", "shift", "unnumbered", "prefix"}]}
-- stdout: {"api": "1.23.1", "items": {key: {"latex", "ast" (pandoc JSON), "plain" (text), "images"}}}
-- Run by bookgen.sources.convert as `pandoc lua convert.lua`; it reads and writes nothing else.

local request = pandoc.json.decode(io.read("a"), false)

-- Join a relative image path to the section's directory and drop "." and ".." steps.
-- A path that climbs out stays with its ".." so that bookgen can refuse it.
local function manuscript_path(base, src)
  if src:match("^%a[%w+.-]*:") or src:sub(1, 1) == "/" then
    return src
  end
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
  local ast = pandoc.write(doc, "json")
  -- The LaTeX has no babel: a passage marked [text]{lang=en} keeps its language in the AST (the EPUB's
  -- lang attribute) and is plain text to LaTeX, which would otherwise call an undefined \foreignlanguage.
  local for_latex = doc:walk({ Span = function(span) span.attributes.lang = nil return span end })
  local latex = pandoc.write(mark_paragraphs(for_latex, item.key), "latex", { wrap_text = "preserve" })
  -- Plain text (the abstract, as PDF subject and EPUB description): each block's text on a line.
  -- stringify, not the plain writer, which would cost a third of the whole conversion.
  local plain = {}
  for _, block in ipairs(doc.blocks) do
    table.insert(plain, pandoc.utils.stringify(block))
  end
  return { latex = latex, ast = ast, plain = table.concat(plain, "\n"), images = images }
end

local out = {}
for _, item in ipairs(request.items) do
  local ok, result = pcall(convert, item)
  out[item.key] = ok and result or { error = tostring(result) }
end
io.write(pandoc.json.encode({ api = tostring(PANDOC_API_VERSION), items = out }))
