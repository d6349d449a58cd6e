-- Which formulas pandoc can turn into MathML (for the EPUB); the others would show as raw TeX.
-- stdin: {"formulas": [{"display": bool, "tex": "..."}]}   stdout: [true|false, ...]
local request = pandoc.json.decode(io.read("a"), false)
local results = {}
for _, formula in ipairs(request.formulas) do
  local kind = formula.display and "DisplayMath" or "InlineMath"
  local doc = pandoc.Pandoc({ pandoc.Plain({ pandoc.Math(kind, formula.tex) }) })
  local html = pandoc.write(doc, "html5", { html_math_method = "mathml" })
  table.insert(results, html:find("<math") ~= nil)
end
io.write(pandoc.json.encode(results))
