-- Write many pages of the web edition as HTML5 fragments in one pandoc process.
-- stdin:  {"pages": {name: "<pandoc JSON document>"}}
-- stdout: {name: "<html fragment>"}
-- Math as MathML, code highlighted (pandoc's classes; colours in the site's CSS), footnotes after
-- the block that cites them (with back-links), a "#" anchor link at the end of every heading.
-- Run by bookgen.html.render as `pandoc lua fragments.lua`; it reads and writes nothing else.

local request = pandoc.json.decode(io.read("a"), false)
local options = {
  html_math_method = "mathml",
  highlight_method = "default",
  reference_location = "block",
  wrap_text = "none",
  section_divs = false,
}

local function anchor(header)
  if header.identifier ~= "" then
    header.content:insert(pandoc.RawInline("html",
      '<a class="anchor" href="#' .. header.identifier .. '" aria-label="本节链接"></a>'))
  end
  return header
end

local reply = {}
for name, text in pairs(request.pages) do
  local doc = pandoc.read(text, "json")
  doc = doc:walk({ Header = anchor })
  reply[name] = pandoc.write(doc, "html5", options)
end
io.write(pandoc.json.encode(reply))
