-- Convert many Markdown sections in one pandoc process, each parsed on its own.
-- stdin:  {"reader": "...", "items": [{"key", "text", "base", "shift", "unnumbered", "prefix", "xref_prefixes", "citations"}]}
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

-- Inline containers (their content is text of the paragraph).
local NESTED = { Emph = true, Strong = true, Underline = true, Strikeout = true, Superscript = true,
  Subscript = true, SmallCaps = true, Span = true, Link = true, Quoted = true, Cite = true }

-- east_asian_line_breaks is a transform pandoc's command line applies after reading; pandoc.read
-- does not, so do it here, and for more than pandoc does: a line break vanishes (it is not a space)
-- between CJK text and CJK text, and between CJK text and inline material on its side — closing or
-- opening quotes (“好”), a link, **重点**, *斜体*, inline code, math, a footnote mark — whichever side
-- of the break it is on. A container counts by the text at its edge; a Latin edge keeps the space.
local CURLY = { ["“"] = true, ["”"] = true, ["‘"] = true, ["’"] = true }
local MARKUP = { Code = true, Math = true, Note = true, RawInline = true, Image = true }
local function break_side(inline, last)
  if inline.t == "Str" and inline.text ~= "" then
    local char = utf8.codepoint(inline.text, last and utf8.offset(inline.text, -1) or 1)
    return (wide(char) or CURLY[utf8.char(char)]) and "cjk" or "latin"
  elseif MARKUP[inline.t] then
    return "markup"
  elseif NESTED[inline.t] and #inline.content > 0 then
    return break_side(inline.content[last and #inline.content or 1], last)
  end
  return "latin"
end
local function drop_east_asian_breaks(inlines)
  for i = #inlines - 1, 2, -1 do
    if inlines[i].t == "SoftBreak" then
      local before, after = break_side(inlines[i - 1], true), break_side(inlines[i + 1], false)
      if (before == "cjk" and after ~= "latin") or (after == "cjk" and before ~= "latin") then
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

-- Stranded lines (issue 13, item 2), for LaTeX only. A paragraph's last two CJK characters are tied
-- (xeCJK's \xeCJKnobreak), so its last line never holds a single character and its punctuation (孤字,
-- a line "程。"). A short paragraph that is a bold label (**教训二：快速迭代**, **教训二**：人才招募策略: it
-- starts bold and ends without 。！？) is followed by \bookgenleadin (preamble), which keeps it on the
-- page of the text after it.
local function ideograph(code)
  return (code >= 0x3400 and code <= 0x9FFF) or (code >= 0xF900 and code <= 0xFAFF) or code >= 0x20000
end
local function tie_last_characters(inlines)
  local i = #inlines
  -- (an index mark at the paragraph's end, []{.index end=…}, prints nothing: the tie looks past it)
  while i > 0 and (inlines[i].t == "Space" or inlines[i].t == "SoftBreak"
      or (inlines[i].t == "RawInline" and inlines[i].text:match("^\\bookgenindex{[^}]*}$"))) do i = i - 1 end
  if i == 0 or inlines[i].t ~= "Str" then return nil end
  local codes = { utf8.codepoint(inlines[i].text, 1, -1) }
  local last = #codes
  while last > 0 and not ideograph(codes[last]) and wide(codes[last]) do last = last - 1 end
  if last < 2 or not (ideograph(codes[last]) and ideograph(codes[last - 1])) then return nil end
  local text = inlines[i].text
  local cut = utf8.offset(text, last)
  inlines[i] = pandoc.Str(text:sub(1, cut - 1))
  inlines:insert(i + 1, pandoc.RawInline("latex", "\\xeCJKnobreak{}"))
  inlines:insert(i + 2, pandoc.Str(text:sub(cut)))
  return inlines
end
local SENTENCE_END = { ["。"] = true, ["！"] = true, ["？"] = true }
local stranded_lines = {
  Plain = function(block)
    block.content = tie_last_characters(block.content) or block.content
    return block
  end,
  Para = function(block)
    local text = pandoc.utils.stringify(block)
    local label = block.content[1] and block.content[1].t == "Strong" and text ~= "" and utf8.len(text) <= 60
        and not SENTENCE_END[utf8.char(utf8.codepoint(text, utf8.offset(text, -1)))]
    block.content = tie_last_characters(block.content) or block.content
    if label then
      return { block, pandoc.RawBlock("latex", "\\bookgenleadin") }
    end
    return block
  end,
}

-- CJK typed in a formula ($速度 = 路程$) has no glyph in the math face: each run of wide characters
-- outside a \text-like argument becomes \text{…}, which prints in the body face (LaTeX) and as
-- <mtext> (MathML), in both outputs alike.
local TEXT_ARGUMENT = { text = true, textrm = true, textbf = true, textit = true, textsf = true, texttt = true,
  mbox = true, hbox = true, operatorname = true, mathrm = true }
local function wrap_cjk_runs(text)
  local out, run = {}, {}
  local function flush()
    if #run > 0 then
      table.insert(out, "\\text{" .. table.concat(run) .. "}")
      run = {}
    end
  end
  for _, code in utf8.codes(text) do
    if wide(code) then
      table.insert(run, utf8.char(code))
    else
      flush()
      table.insert(out, utf8.char(code))
    end
  end
  flush()
  return table.concat(out)
end
local function text_in_math(math)
  local out, at = {}, 1
  while at <= #math.text do
    local from, to, name = math.text:find("\\(%a+)%s*%b{}", at)
    while from and not TEXT_ARGUMENT[name] do
      from, to, name = math.text:find("\\(%a+)%s*%b{}", from + 1)
    end
    table.insert(out, wrap_cjk_runs(math.text:sub(at, (from or #math.text + 1) - 1)))
    if not from then break end
    table.insert(out, math.text:sub(from, to))
    at = to + 1
  end
  math.text = table.concat(out)
  return math
end

-- A link to a URL has its target percent-encoded (RFC 3986, as the PDF's /URI requires: 7-bit ASCII):
-- every byte outside ASCII becomes %XX; what is already ASCII stays as typed.
local function percent_encode(link)
  if link.target:match("^%a[%w+.-]*:") then
    link.target = link.target:gsub("[\128-\255]", function(byte) return string.format("%%%02X", byte:byte()) end)
  end
  return link
end

-- For LaTeX only: where a long Latin string may break. An identifier, path or URL in running text, in
-- a table cell or in inline code (SOME_VERY_LONG_IDENTIFIER, a/b/c.d) gets \bookgenbreak (preamble)
-- after each _ / . - ? = & of a word of LONG_WORD characters or more; shorter words (e.g., 3.14) never
-- break. A URL typed as a link with CJK in it (<https://example.com/路径>) prints as \bookgenurl: one
-- monospaced face, no CJK–Latin spacing, breaking at the same points.
local LONG_WORD = 16
local SEPARATORS = "_/%.%-?=&"  -- a Lua pattern set: _ / . - ? = &
local function break_points(text, make)
  local pieces = pandoc.Inlines({})
  for word, space in text:gmatch("([^ ]*)( ?)") do
    if utf8.len(word) >= LONG_WORD and word:find("[" .. SEPARATORS .. "]") then
      for part, sep in word:gmatch("([^" .. SEPARATORS .. "]*)([" .. SEPARATORS .. "]*)") do
        if part .. sep ~= "" then
          pieces:insert(make(part .. sep))
          if sep ~= "" then pieces:insert(pandoc.RawInline("latex", "\\bookgenbreak{}")) end
        end
      end
    elseif word ~= "" then
      pieces:insert(make(word))
    end
    if space ~= "" then pieces:insert(make(space)) end
  end
  return pieces
end
local function url_text(link)
  local text = pandoc.utils.stringify(link.content)
  if link.classes:includes("uri") and text:find("[\128-\255]") then
    link.content = pandoc.Inlines({ pandoc.RawInline("latex", "\\bookgenurl{") })
    link.content:extend(break_points(text, pandoc.Str))
    link.content:insert(pandoc.RawInline("latex", "}"))
  end
  return link
end
-- A Str right after raw TeX may be its argument (\openout\w=../x.tex): it stays whole. Headings
-- too (their text is also the PDF bookmark, which cannot hold a penalty).
local long_strings = {
  traverse = "topdown",
  Header = skip,
  Inlines = function(inlines)
    local result = pandoc.Inlines({})
    for i, inline in ipairs(inlines) do
      local after_tex = i > 1 and inlines[i - 1].t == "RawInline"
      if inline.t == "Str" and #inline.text >= LONG_WORD and not after_tex then
        result:extend(break_points(inline.text, pandoc.Str))
      elseif inline.t == "Code" and #inline.text >= LONG_WORD then
        result:extend(break_points(inline.text, function(text) return pandoc.Code(text) end))
      elseif inline.t == "Link" then
        result:insert(url_text(inline))
      else
        result:insert(inline)
      end
    end
    return result
  end,
}

-- Raw HTML with a typographic meaning, which pandoc's LaTeX writer drops. Pairs of tags within one list
-- of inlines become pandoc elements in both outputs (sub, sup, em, strong, u, s, mark, …) and <br> a line
-- break (the EPUB's XHTML could not hold a bare <br>). For LaTeX (given the ``unprinted`` list) also
-- preamble commands: <ruby> (pinyin above the character), <kbd>, <code>; any other tag is dropped and its
-- text kept, as before, and listed in ``unprinted`` for `bookgen check` to warn of. Comments (<!-- -->)
-- print in neither output and are not listed.
local HTML_ELEMENT = { sub = pandoc.Subscript, sup = pandoc.Superscript, em = pandoc.Emph, i = pandoc.Emph,
  strong = pandoc.Strong, b = pandoc.Strong, u = pandoc.Underline,
  mark = function(content) return pandoc.Span(content, { class = "mark" }) end, ins = pandoc.Underline,
  s = pandoc.Strikeout, del = pandoc.Strikeout, strike = pandoc.Strikeout, small = pandoc.SmallCaps }
local HTML_COMMAND = { kbd = "\\bookgenkbd", code = "\\texttt", samp = "\\texttt", tt = "\\texttt" }
local function html_tag(inline)
  if inline.t ~= "RawInline" or inline.format ~= "html" then return nil end
  local close, name = inline.text:match("^<(/?)(%a[%w]*)")
  if not name then return nil end
  return name:lower(), close == "/"
end
local function latex_wrapped(command, content)
  local result = pandoc.Inlines({ pandoc.RawInline("latex", command .. "{") })
  result:extend(content)
  result:insert(pandoc.RawInline("latex", "}"))
  return result
end
local function ruby(content)  -- base <rt>reading</rt> [base <rt>reading</rt> …]; <rp> dropped
  local result, base, reading, inside = pandoc.Inlines({}), pandoc.Inlines({}), pandoc.Inlines({}), nil
  for _, inline in ipairs(content) do
    local name, closing = html_tag(inline)
    if name == "rt" or name == "rp" then
      inside = not closing and name or nil
      if name == "rt" and closing then
        result:insert(pandoc.RawInline("latex", "\\bookgenruby{"))
        result:extend(base)
        result:extend(latex_wrapped("}", reading))
        base, reading = pandoc.Inlines({}), pandoc.Inlines({})
      end
    elseif inside == "rt" then
      reading:insert(inline)
    elseif inside == nil then
      base:insert(inline)
    end
  end
  result:extend(base)
  return result
end
local function html_inlines(unprinted)
  local function rewrite(inlines)
    local result = pandoc.Inlines({})
    local i = 1
    while i <= #inlines do
      local name, closing = html_tag(inlines[i])
      local close_at = nil
      local printed = HTML_ELEMENT[name] or (unprinted and (HTML_COMMAND[name] or name == "ruby"))
      if name and not closing and printed then
        for j = i + 1, #inlines do
          local other, other_closing = html_tag(inlines[j])
          if other == name and other_closing then close_at = j break end
        end
      end
      if close_at then
        local content = pandoc.Inlines({ table.unpack(inlines, i + 1, close_at - 1) })
        if name == "ruby" then
          result:extend(ruby(content))
        elseif HTML_ELEMENT[name] then
          result:insert(HTML_ELEMENT[name](rewrite(content)))
        else
          result:extend(latex_wrapped(HTML_COMMAND[name], rewrite(content)))
        end
        i = close_at + 1
      else
        if name == "br" then
          result:insert(pandoc.LineBreak())
        elseif unprinted and name and not closing then
          table.insert(unprinted, inlines[i].text)
        end
        if name ~= "br" then result:insert(inlines[i]) end
        i = i + 1
      end
    end
    return result
  end
  return {
    Inlines = rewrite,
    RawBlock = function(block)
      if unprinted and block.format == "html" and block.text:match("^%s*<%a") then table.insert(unprinted, block.text) end
    end,
  }
end

-- For LaTeX only: strikeout, underline and highlight ([文字]{.mark}, <mark>) as rules drawn by the
-- preamble's \bookgenst / \bookgenul / \bookgenmark around each CJK character and each Latin run, with
-- ruled glue (\bookgen…space) for spaces, so the marked text still breaks across lines (pandoc's writer
-- wants soul, which is not installed and fails on CJK). A line may break before an ideograph only.
local RULED = { Strikeout = "st", Underline = "ul" }
local function ruled(inlines, kind)
  local result = pandoc.Inlines({})
  local function piece(inline)
    result:insert(pandoc.RawInline("latex", "\\bookgen" .. kind .. "{"))
    result:insert(inline)
    result:insert(pandoc.RawInline("latex", "}"))
  end
  for _, inline in ipairs(inlines) do
    if inline.t == "Str" then
      local run = ""
      for _, code in utf8.codes(inline.text) do
        if wide(code) then
          if run ~= "" then piece(pandoc.Str(run)) run = "" end
          if ideograph(code) and #result > 0 then result:insert(pandoc.RawInline("latex", "\\allowbreak{}")) end
          piece(pandoc.Str(utf8.char(code)))
        else
          run = run .. utf8.char(code)
        end
      end
      if run ~= "" then piece(pandoc.Str(run)) end
    elseif inline.t == "Space" or inline.t == "SoftBreak" then
      result:insert(pandoc.RawInline("latex", "\\bookgen" .. kind .. "space{}"))
    elseif NESTED[inline.t] and inline.t ~= "Link" and inline.t ~= "Cite" then
      inline.content = ruled(inline.content, kind)
      result:insert(inline)
    else
      piece(inline)
    end
  end
  return result
end
local ruled_marks = {
  Inlines = function(inlines)
    local result = pandoc.Inlines({})
    for _, inline in ipairs(inlines) do
      local kind = RULED[inline.t] or (inline.t == "Span" and inline.classes:includes("mark") and "mark")
      if kind then result:extend(ruled(inline.content, kind)) else result:insert(inline) end
    end
    return result
  end,
}

-- For LaTeX only: a task list's boxes (- [ ] 待办, - [x] 完成), which pandoc writes as ☐ ☒, drawn by the
-- preamble (\bookgentodo, \bookgendone): the book's text faces have no glyph for them.
local TASK_BOX = { ["☐"] = "\\bookgentodo{}", ["☒"] = "\\bookgendone{}" }
local task_boxes = {
  Str = function(str)
    if TASK_BOX[str.text] then return pandoc.RawInline("latex", TASK_BOX[str.text]) end
  end,
}

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
  doc = doc:walk({ Math = text_in_math, Link = percent_encode }):walk(html_inlines(nil))
  doc = refs.mark(doc, item, request.reader)
  local xref = refs.summary(doc, item.xref_prefixes)
  doc, xref.index = index.mark(doc, item.key)
  local ast = pandoc.write(doc, "json")
  -- The LaTeX has no babel: a passage marked [text]{lang=en} keeps its language in the AST (the EPUB's
  -- lang attribute) and is plain text to LaTeX, which would otherwise call an undefined \foreignlanguage.
  local for_latex = index.latex(refs.latex(doc)):walk({ Span = function(span) span.attributes.lang = nil return span end })
  -- stranded lines before the page marks: the tie looks at a paragraph's last text, the lead-in at its first
  local unprinted = {}
  for_latex = for_latex:walk(html_inlines(unprinted)):walk(ruled_marks):walk(task_boxes)
  for_latex = mark_paragraphs(for_latex:walk(latex_quotes):walk(stranded_lines):walk(long_strings), item.key)
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
  return { latex = latex, ast = ast, plain = table.concat(plain, "\n"), images = images, xref = xref,
    unprinted = unprinted }
end

local out = {}
for _, item in ipairs(request.items) do
  local ok, result = pcall(convert, item)
  out[item.key] = ok and result or { error = tostring(result) }
end
io.write(pandoc.json.encode({ api = tostring(PANDOC_API_VERSION), items = out }))
