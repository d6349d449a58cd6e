"""`python -m bookgen`: the same as the bookgen command."""

from .cli import main

main()
