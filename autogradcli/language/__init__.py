"""The expression language: text to graph (lexer, parser, literals, claims,
`--at` values, the whole-file parser) and graphs back to agrad syntax."""
