"""Cross-references (issue 15): labels, references, and the book-wide table every output reads.

refs.lua (sources/pandoc) recognises references and labelled objects in each section as
placeholders; ``table`` numbers everything book-wide; ``latex`` and ``ast`` fill the placeholders
for the PDF and the EPUB; ``places`` finds them in the author's files for messages.
"""
