"""Tokenizer for MLflow's SQL-like filter strings.

Hand-written (no sqlparse) so that every error can name the character position where the
input stopped making sense.
"""

from __future__ import annotations

import re

import attrs

from skiff.errors import SkiffException

# Token kinds.
WORD = "word"  # identifier or keyword; may contain dots (tags.mlflow.runName)
STRING = "string"  # '...' or "..." (the quote character is kept in Token.quote)
BACKTICK = "backtick"  # `...`, a quoted identifier or key
NUMBER = "number"
OP = "op"  # a run of comparison characters: = != < <= > >= (and invalid ones like >>)
LPAREN = "("
RPAREN = ")"
COMMA = ","
END = "end"

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})

# Unquoted keys may hold the characters MLflow allows in keys, except spaces.
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/:]*")
NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OP_RE = re.compile(r"[<>=!]+")
_SPACE_RE = re.compile(r"\s+")


@attrs.frozen
class Token:
    kind: str
    text: str  # the value: unescaped content for quoted tokens, source text otherwise
    pos: int  # index of the token's first character in the input
    end: int  # index just past the token
    quote: str = ""

    @property
    def keyword(self) -> str | None:
        """The upper-cased keyword this token spells, or None."""
        if self.kind == WORD and self.text.upper() in KEYWORDS:
            return self.text.upper()
        return None

    def describe(self) -> str:
        if self.kind == END:
            return "end of input"
        if self.kind in (STRING, BACKTICK):
            return f"{self.quote}{self.text}{self.quote}"
        return self.text


def syntax_error(message: str, pos: int, source: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(f"{message} (at position {pos} in {source!r})")


def _read_quoted(source: str, start: int) -> tuple[str, int]:
    """Content of the quoted token opening at ``start`` and the index past it.

    The quote is escaped by doubling it (SQL style) or with a backslash; a backslash also
    escapes itself. Any other backslash is kept as written (LIKE patterns use it).
    """
    quote = source[start]
    out = []
    i = start + 1
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in (quote, "\\"):
            out.append(source[i + 1])
            i += 2
        elif ch == quote:
            if i + 1 < n and source[i + 1] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise syntax_error(f"Unterminated quoted text (opened with {quote})", start, source)


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with one END token."""
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        space = _SPACE_RE.match(source, i)
        if space:
            i = space.end()
            continue
        if ch in "'\"`":
            text, end = _read_quoted(source, i)
            kind = BACKTICK if ch == "`" else STRING
            tokens.append(Token(kind, text, i, end, quote=ch))
            i = end
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, i, i + 1))
            i += 1
            continue
        for kind, regex in ((NUMBER, NUMBER_RE), (WORD, _WORD_RE), (OP, _OP_RE)):
            match = regex.match(source, i)
            if match:
                tokens.append(Token(kind, match.group(), i, match.end()))
                i = match.end()
                break
        else:
            raise syntax_error(f"Unexpected character {ch!r}", i, source)
    tokens.append(Token(END, "", n, n))
    return tokens


class TokenStream:
    """A cursor over the tokens of one string."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        if token.kind != END:
            self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> SkiffException:
        token = token or self.peek()
        return syntax_error(message, token.pos, self.source)
