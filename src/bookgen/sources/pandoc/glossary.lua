-- The glossary's definitions (Markdown) in both target forms, in one pandoc process (bookgen.index.glossary).
-- stdin:  {"reader": "...", "items": {key: markdown}}
-- stdout: {key: {"latex", "ast" (pandoc JSON blocks), "plain"}}

local request = pandoc.json.decode(io.read("a"), false)
local out = {}
for key, text in pairs(request.items) do
  local doc = pandoc.read(text, request.reader)
  out[key] = {
    latex = pandoc.write(doc, "latex-smart", { wrap_text = "none" }),
    ast = pandoc.write(doc, "json"),
    plain = pandoc.utils.stringify(doc),
  }
end
io.write(pandoc.json.encode(out))
