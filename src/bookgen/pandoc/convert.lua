-- Convert many Markdown sections in one pandoc process, each parsed on its own.
-- stdin:  {"reader": "...", "items": [{"key", "text", "base", "shift", "unnumbered", "prefix"}]}
-- stdout: {"api": "1.23.1", "items": {key: {"latex", "ast" (pandoc JSON), "plain", "images"}}}
-- Run by bookgen.convert as `pandoc lua convert.lua`; it reads and writes nothing else.

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

local function convert(item)
  local doc = pandoc.read(item.text, request.reader)
  local images = {}
  local prefix = item.prefix
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
  local latex = pandoc.write(doc, "latex", { wrap_text = "preserve" })
  return { latex = latex, ast = pandoc.write(doc, "json"), plain = pandoc.write(doc, "plain", { wrap_text = "none" }), images = images }
end

local out = {}
for _, item in ipairs(request.items) do
  local ok, result = pcall(convert, item)
  out[item.key] = ok and result or { error = tostring(result) }
end
io.write(pandoc.json.encode({ api = tostring(PANDOC_API_VERSION), items = out }))
