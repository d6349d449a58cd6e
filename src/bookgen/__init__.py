"""bookgen: a publishing pipeline for Chinese books.

The pipeline reads as its stages, one module each:
``manuscript`` (load book.yaml) → ``sources`` (read sections) → ``convert`` (pandoc)
→ ``render`` (Jinja LaTeX) → ``typeset`` (latexmk) / ``epub`` (package) → ``verify``.
``build`` strings them together; ``cli`` turns errors into exit codes.
"""

__version__ = "0.1.0"
