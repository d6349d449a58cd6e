-- Cross-references (issue 15), recognised in a section's AST; loaded by convert.lua.
--
-- A reference is `@prefix-label` where prefix is one of the kinds bookgen passes in (fig, tbl, eq,
-- lst, sec): a pandoc Cite, or, where pandoc makes none (between Chinese characters: 如@fig-arch所示),
-- a run inside a Str. A label is ASCII letters, digits, '-', '_' and ':' and ends at the first other
-- character; a trailing '-' or ':' is not part of it. An '@' after a letter, digit or one of ._%+-
-- is an e-mail address, not a reference; ids without a known prefix are left to the bibliography.
--
-- Each reference (or group [@a; @b]) becomes a placeholder that depends on no other section:
--   AST:   Span("", {"xref"}, {ref = "fig-a fig-b", form = "normal" | "bare"}) with no content
--   LaTeX: \bookgenref{fig-a,fig-b}{normal}, replaced by bookgen (bookgen.xref) before TeX runs.
-- Labelled objects keep their label as id: Figure, Table, Header; display math followed by {#eq-x}
-- becomes Span("eq-x", {"equation"}) around the Math; a code block with a caption becomes
-- Div(label, {"listing"}, {Plain(caption), CodeBlock}). summary() lists targets and references in
-- document order for bookgen's book-wide numbering.
--
-- Citations (issue 17), when the book has a bibliography (item.citations): a Cite whose ids have no
-- cross-reference prefix, or `@key` inside a Str (张伯伟@zhang2002认为), becomes
--   AST:   Span("", {"cite"}, {n = "3", keys = "a b", mode = "paren" | "narrative" | "suppress-author",
--          locators = JSON list, one per key ("288" or "")}) with no content
--   LaTeX: \bookgencite{3}, n numbering the section's citations; bookgen (bookgen.bibliography.citing)
--          prints the citation there from the book-wide numbering.
-- A key is ASCII letters, digits and '_' with internal punctuation (:.#$%&+?<>~/-), as pandoc's; a
-- Chinese character ends it.

local M = {}

local LABEL_CHAR = "[%w_:%-]"
local KEY_PUNCTUATION = "[:%.#%$%%&%+%?<>~/%-]"
local MODES = { AuthorInText = "narrative", SuppressAuthor = "suppress-author", NormalCitation = "paren" }

-- prefixes: list of reference prefixes ("fig", …) → a set.
local function prefix_set(prefixes)
  local set = {}
  for _, prefix in ipairs(prefixes or {}) do
    set[prefix] = true
  end
  return set
end

-- The label at the start of `text` if it is one (prefix known, something after "prefix-"), and its length.
local function label_at(text, prefixes)
  local prefix = text:match("^(%a+)%-")
  if not prefix or not prefixes[prefix] then
    return nil
  end
  local run = text:match("^" .. LABEL_CHAR .. "+")
  local label = run:gsub("[%-:]+$", "")
  if #label <= #prefix + 1 then
    return nil
  end
  return label, #label
end

local function placeholder(labels, form)
  return pandoc.Span({}, pandoc.Attr("", { "xref" }, { ref = table.concat(labels, " "), form = form }))
end

-- The citation key at the start of `text` and its length, or nil.
local function key_at(text)
  local run = text:match("^[%w_][%w_:%.#%$%%&%+%?<>~/%-]*")
  if not run then
    return nil
  end
  local key = run:gsub(KEY_PUNCTUATION .. "+$", "")
  return key, #key
end

-- state: {citations = whether to recognise them, count = citations so far in this section}.
local function cite_placeholder(state, keys, mode, locators)
  state.count = state.count + 1
  return pandoc.Span({}, pandoc.Attr("", { "cite" }, {
    n = tostring(state.count), keys = table.concat(keys, " "), mode = mode, locators = pandoc.json.encode(locators) }))
end

-- The labels of a placeholder Span, in order.
local function placeholder_labels(span)
  local labels = {}
  for label in span.attributes.ref:gmatch("%S+") do
    table.insert(labels, label)
  end
  return labels
end

-- A Str split at its references (and citations): a list of inlines, or nil when it holds none.
local function split_str(text, prefixes, state)
  local out, start, position, found = pandoc.Inlines({}), 1, 1, false
  while true do
    local at = text:find("@", position, true)
    if not at then
      break
    end
    local before = at > 1 and text:sub(at - 1, at - 1) or ""
    local label, length, key = nil, 0, nil
    if not before:match("[%w%._%%%+%-]") then
      label, length = label_at(text:sub(at + 1), prefixes)
      if not label and state.citations then
        key, length = key_at(text:sub(at + 1))
      end
    end
    if label or key then
      if at > start then
        out:insert(pandoc.Str(text:sub(start, at - 1)))
      end
      out:insert(label and placeholder({ label }, "normal") or cite_placeholder(state, { key }, "narrative", { "" }))
      found = true
      start = at + 1 + length
      position = start
    else
      position = at + 1
    end
  end
  if not found then
    return nil
  end
  if start <= #text then
    out:insert(pandoc.Str(text:sub(start)))
  end
  return out
end

-- A Cite split into a cross-reference placeholder (its ids with a known prefix, prefix and suffix
-- text kept) and a citation placeholder (the other ids, their suffixes as locators), or, when the
-- book has no bibliography, a Cite of the other ids.
local function cite(element, prefixes, state)
  local labels, rest, tail = {}, {}, pandoc.Inlines({})
  local keys, locators = {}, {}
  local form = "normal"
  for _, citation in ipairs(element.citations) do
    local label, length = label_at(citation.id, prefixes)
    local key, key_length = nil, 0
    if not label and state.citations then
      key, key_length = key_at(citation.id)
    end
    if key then
      table.insert(keys, key)
      table.insert(locators, (pandoc.utils.stringify(citation.suffix):gsub("^[%s,]+", ""):gsub("%s+$", "")))
      if key_length < #citation.id then
        tail:insert(pandoc.Str(citation.id:sub(key_length + 1)))
      end
    elseif label then
      table.insert(labels, label)
      if citation.mode == "SuppressAuthor" then
        form = "bare"
      end
      if length < #citation.id then
        tail:insert(pandoc.Str(citation.id:sub(length + 1)))
      end
      tail:extend(citation.suffix)
    else
      table.insert(rest, citation)
    end
  end
  if #labels == 0 and #keys == 0 then
    return nil
  end
  local out = pandoc.Inlines(element.citations[1].prefix)
  if #labels > 0 then
    out:insert(placeholder(labels, form))
  end
  if #keys > 0 then
    out:insert(cite_placeholder(state, keys, MODES[element.citations[1].mode] or "paren", locators))
  end
  out:extend(tail)
  if #rest > 0 then
    local ids = {}
    for _, citation in ipairs(rest) do
      table.insert(ids, "@" .. citation.id)
    end
    out:insert(pandoc.Cite(pandoc.Inlines({ pandoc.Str("[" .. table.concat(ids, "; ") .. "]") }), rest))
  end
  return out
end

-- The citations of a bracketed group's text ("见@zhang2002, 第3章; @yu2012"), as pandoc.Citation
-- values, or nil unless every ';'-separated part holds a key (or a cross-reference label) after an
-- '@' that no letter, digit or e-mail character precedes.
local function group_citations(inner, prefixes)
  local citations = {}
  for part in (inner .. ";"):gmatch("([^;]*);") do
    local at, key, length = 1, nil, 0
    while true do
      at = part:find("@", at, true)
      if not at then
        return nil
      end
      local before = at > 1 and part:sub(at - 1, at - 1) or ""
      if not before:match("[%w%._%%%+]") then
        key, length = label_at(part:sub(at + 1), prefixes)
        if not key then
          key, length = key_at(part:sub(at + 1))
        end
        if key then
          break
        end
      end
      at = at + 1
    end
    local prefix = part:sub(1, at - 1)
    local mode = "NormalCitation"
    if prefix:sub(-1) == "-" then
      prefix, mode = prefix:sub(1, -2), "SuppressAuthor"
    end
    prefix = prefix:gsub("^%s+", ""):gsub("%s+$", "")
    local suffix = part:sub(at + 1 + length):gsub("%s+$", "")
    table.insert(citations, pandoc.Citation(key, mode,
      prefix ~= "" and pandoc.Inlines({ pandoc.Str(prefix) }) or pandoc.Inlines({}),
      suffix ~= "" and pandoc.Inlines({ pandoc.Str(suffix) }) or pandoc.Inlines({})))
  end
  return #citations > 0 and citations or nil
end

-- Bracketed citations pandoc leaves as text because the prefix touches the '@' (between Chinese
-- characters nobody types a space: [见@zhang2002, 第3章]) become the Cite pandoc makes of
-- [见 @zhang2002, 第3章]: a bracketed citation with a prefix and a locator, not a narrative one in
-- brackets. Only Str, Space, SoftBreak and pandoc's narrative Cites (@key after a space) may lie
-- between the '[' and the ']'.
local function bracketed_citations(inlines, prefixes)
  local i = 1
  while i <= #inlines do
    local element = inlines[i]
    local replaced = false
    local search = 1
    while element.t == "Str" and not replaced do
      local open = element.text:find("[", search, true)
      if not open then
        break
      end
      local parts, j = { element.text:sub(open + 1) }, i
      while not parts[#parts]:find("]", 1, true) do
        local following = inlines[j + 1]
        if following and following.t == "Str" then
          table.insert(parts, following.text)
        elseif following and (following.t == "Space" or following.t == "SoftBreak") then
          table.insert(parts, " ")
        elseif following and following.t == "Cite" and following.citations[1].mode == "AuthorInText" then
          table.insert(parts, pandoc.utils.stringify(following.content)) -- "; @ding2000, 288]": pandoc's @ding2000
        else
          break
        end
        j = j + 1
      end
      local text = table.concat(parts)
      local close = text:find("]", 1, true)
      local inner = close and text:sub(1, close - 1)
      local citations = inner and not inner:find("[", 1, true) and group_citations(inner, prefixes)
      if citations then
        local replacement = pandoc.Inlines({})
        if open > 1 then
          replacement:insert(pandoc.Str(element.text:sub(1, open - 1)))
        end
        replacement:insert(pandoc.Cite(pandoc.Inlines({ pandoc.Str("[" .. inner .. "]") }), citations))
        if close < #text then
          replacement:insert(pandoc.Str(text:sub(close + 1)))
        end
        for _ = i, j do
          inlines:remove(i)
        end
        for k = #replacement, 1, -1 do
          inlines:insert(i, replacement[k])
        end
        i = i + #replacement - (close < #text and 2 or 1) -- text after the ']' is looked at again
        replaced = true
      else
        search = open + 1
      end
    end
    i = i + 1
  end
  return inlines
end

-- Display math followed by {#label}: the math wrapped in an "equation" Span carrying the label.
local function equations(inlines)
  local i = 1
  while i <= #inlines do
    local element = inlines[i]
    if element.t == "Math" and element.mathtype == "DisplayMath" then
      local j = i + 1
      if inlines[j] and (inlines[j].t == "Space" or inlines[j].t == "SoftBreak") then
        j = j + 1
      end
      local after = inlines[j]
      local label, rest = nil, nil
      if after and after.t == "Str" then
        label, rest = after.text:match("^{#([^}%s]+)}(.*)$")
      end
      if label then
        inlines[i] = pandoc.Span({ element }, pandoc.Attr(label, { "equation" }))
        for _ = i + 1, j do
          inlines:remove(i + 1)
        end
        if rest ~= "" then
          inlines:insert(i + 1, pandoc.Str(rest))
        end
      end
    end
    i = i + 1
  end
  return inlines
end

-- item: the conversion request's item (prefix: the section's id prefix convert.lua put on header ids;
-- xref_prefixes: the reference kinds). Returns the document with placeholders and labelled objects.
function M.mark(doc, item, reader)
  local prefixes = prefix_set(item.xref_prefixes)
  local state = { citations = item.citations == true, count = 0 }
  local function unprefixed(id)
    local bare = id:sub(1, #item.prefix) == item.prefix and id:sub(#item.prefix + 1) or nil
    if bare and bare:match("^(%a+)%-") and prefixes[bare:match("^(%a+)%-")] then
      return bare
    end
    return id
  end
  if state.citations then
    doc = doc:walk({ Inlines = function(inlines) return bracketed_citations(inlines, prefixes) end })
  end
  return doc:walk({
    Str = function(str)
      return split_str(str.text, prefixes, state)
    end,
    Cite = function(element)
      return cite(element, prefixes, state)
    end,
    Inlines = equations,
    Header = function(header)
      header.identifier = unprefixed(header.identifier)
      return header
    end,
    Link = function(link)
      if link.target:sub(1, 1) == "#" then
        link.target = "#" .. unprefixed(link.target:sub(2))
      end
      return link
    end,
    CodeBlock = function(code)
      local caption = code.attributes.caption
      if not caption then
        return nil
      end
      code.attributes.caption = nil
      local label = code.identifier
      code.identifier = ""
      local parsed = pandoc.read(caption, reader).blocks[1]
      local inlines = parsed and parsed.content or pandoc.Inlines({})
      local marked = pandoc.Pandoc({ pandoc.Plain(inlines) }):walk({
        Str = function(str) return split_str(str.text, prefixes, state) end,
        Cite = function(element) return cite(element, prefixes, state) end,
      })
      return pandoc.Div({ marked.blocks[1], code }, pandoc.Attr(label, { "listing" }))
    end,
  })
end

-- What bookgen numbers, in document order: targets {kind, label, caption, level, numbered; "other":
-- element, a labelled element bookgen does not number}, references {labels, form} and citations
-- {n, keys, mode, locators}.
function M.summary(doc, prefixes_list)
  local prefixes = prefix_set(prefixes_list)
  local targets, references, citations = {}, {}, {}
  local function labelled(id)
    local prefix = id:match("^(%a+)%-")
    return prefix ~= nil and prefixes[prefix] == true
  end
  local function add(kind, id, extra)
    local target = extra or {}
    target.kind = kind
    target.label = labelled(id) and id or ""
    table.insert(targets, target)
  end
  local function other(element)
    if element.identifier and element.identifier ~= "" and labelled(element.identifier) then
      add("other", element.identifier, { element = element.t })
    end
  end
  doc:walk({
    traverse = "topdown",
    Figure = function(figure)
      add("figure", figure.identifier, { caption = #figure.caption.long > 0 })
    end,
    Table = function(tbl)
      add("table", tbl.identifier, { caption = #tbl.caption.long > 0 })
    end,
    Header = function(header)
      add("heading", header.identifier, { level = header.level, numbered = not header.classes:includes("unnumbered") })
    end,
    Div = function(div)
      if div.classes:includes("listing") then
        add("listing", div.identifier, { caption = #div.content[1].content > 0 })
      else
        other(div)
      end
    end,
    Span = function(span)
      if span.classes:includes("xref") then
        table.insert(references, { labels = placeholder_labels(span), form = span.attributes.form })
      elseif span.classes:includes("cite") then
        local keys = {}
        for key in span.attributes.keys:gmatch("%S+") do
          table.insert(keys, key)
        end
        table.insert(citations, { n = tonumber(span.attributes.n), keys = keys, mode = span.attributes.mode,
                                  locators = pandoc.json.decode(span.attributes.locators) })
      elseif span.classes:includes("equation") then
        add("equation", span.identifier)
      else
        other(span)
      end
    end,
    CodeBlock = other,
    Image = other,
  })
  return { targets = targets, references = references, citations = citations }
end

-- The document as the LaTeX writer should see it: placeholders and equations as raw TeX, listings
-- with their caption above the code.
function M.latex(doc)
  return doc:walk({
    Span = function(span)
      if span.classes:includes("cite") then
        return pandoc.RawInline("latex", "\\bookgencite{" .. span.attributes.n .. "}")
      elseif span.classes:includes("xref") then
        local labels = table.concat(placeholder_labels(span), ",")
        return pandoc.RawInline("latex", "\\bookgenref{" .. labels .. "}{" .. span.attributes.form .. "}")
      elseif span.classes:includes("equation") then
        local anchor = span.identifier ~= "" and "\\bookgenanchor{" .. span.identifier .. "}" or ""
        return pandoc.RawInline("latex", "\\begin{equation}" .. anchor .. span.content[1].text .. "\\end{equation}")
      end
    end,
    Div = function(div)
      if not div.classes:includes("listing") then
        return nil
      end
      local anchor = div.identifier ~= "" and "\\bookgenanchor{" .. div.identifier .. "}" or ""
      local caption = pandoc.write(pandoc.Pandoc({ div.content[1] }), "latex", { wrap_text = "none" })
      return { pandoc.RawBlock("latex", "\\bookgencodecaption{" .. anchor .. "}{" .. caption .. "}"), div.content[2] }
    end,
  })
end

-- LaTeX from the writer with its \label{…} of labelled figures, tables and headings turned into
-- bookgen's anchors (named destinations that need no .aux file).
function M.anchors(latex, summary)
  for _, target in ipairs(summary.targets) do
    if target.label ~= "" then
      local escaped = target.label:gsub("%p", "%%%0")
      latex = latex:gsub("\\label{" .. escaped .. "}", function() return "\\bookgenanchor{" .. target.label .. "}" end)
    end
  end
  return latex
end

return M
