"""Parse MLflow's search filter strings and order-by clauses.

Filter grammar (keywords case-insensitive)::

    filter     := clause ( AND clause )*
    clause     := identifier comparator value
                | identifier IN list | identifier NOT IN list
                | identifier IS NULL | identifier IS NOT NULL
    identifier := [entity "."] key          (no entity: an attribute)
    key        := word | `quoted` | "quoted"
    list       := "(" value ( "," value )* ")"

OR, NOT (other than NOT IN) and parentheses for grouping are rejected. Each search kind
(runs, experiments, registered models, model versions) has its own table of keys,
comparators and value types in :mod:`skiff.search.grammars`.
"""

from __future__ import annotations

import attrs

from skiff.errors import SkiffException
from skiff.search import grammars
from skiff.search._lexer import (
    BACKTICK,
    COMMA,
    END,
    LPAREN,
    NUMBER,
    NUMBER_RE,
    OP,
    RPAREN,
    STRING,
    WORD,
    Token,
    TokenStream,
)
from skiff.search.ast import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, Comparison, OrderBy
from skiff.search.grammars import Field, Grammar

__all__ = [
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_model_version_filter",
    "parse_model_version_order_by",
    "parse_order_by",
    "parse_registered_model_filter",
    "parse_registered_model_order_by",
    "parse_run_filter",
    "parse_run_order_by",
]

_ENTITY_WORDS = {
    METRIC: "metric",
    PARAM: "param",
    TAG: "tag",
    ATTRIBUTE: "attribute",
    DATASET: "dataset field",
}
_REJECTED_CLAUSE_WORDS = ("OR", "NOT")


def _describe(entity: str, key: str) -> str:
    return f"{_ENTITY_WORDS[entity]} '{key}'"


def _set_text(items) -> str:
    return "{" + ", ".join(repr(item) for item in items) + "}"


def _invalid(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


# ---------------------------------------------------------------- identifiers


def _read_identifier(stream: TokenStream) -> tuple[str | None, str, Token]:
    """Read ``[entity.]key``; returns (entity prefix as written or None, key, first token)."""
    token = stream.next()
    if token.kind == BACKTICK or (token.kind == STRING and token.quote == '"'):
        return None, token.text, token
    if token.kind == STRING:
        raise stream.error(
            f"Expected an identifier, found string {token.describe()}; quote keys with "
            "backticks or double quotes",
            token,
        )
    if token.kind != WORD:
        raise stream.error(f"Expected an identifier, found {token.describe()!r}", token)
    if "." not in token.text:
        return None, token.text, token
    prefix, key = token.text.split(".", 1)
    if not key:
        quoted = stream.peek()
        # MLflow also takes a single-quoted key here (tags.'my key').
        if quoted.pos == token.end and quoted.kind in (BACKTICK, STRING):
            stream.next()
            key = quoted.text
        else:
            raise stream.error(f"Missing key after '{token.text}'", quoted)
    return prefix, key, token


def _entity_of(stream: TokenStream, prefix: str | None, allowed, kind: str, token: Token):
    if prefix is None:
        return ATTRIBUTE
    entity = grammars.ENTITY_ALIASES.get(prefix.lower())
    if entity is None:
        raise stream.error(
            f"Invalid entity type '{prefix}'. Valid values are {sorted(grammars.ENTITY_ALIASES)}",
            token,
        )
    if entity not in allowed:
        raise stream.error(
            f"Invalid entity type '{prefix}' for {kind} search. Valid values are "
            f"{sorted(_ENTITY_WORDS[e].split()[0] for e in allowed)}",
            token,
        )
    return entity


def _canonical_attribute(key: str, valid, aliases) -> str | None:
    if key in valid:
        return key
    return aliases.get(key.lower())


# ---------------------------------------------------------------- filters


def _read_comparator(stream: TokenStream, subject: str) -> tuple[str, Token]:
    token = stream.next()
    if token.kind == OP:
        return token.text, token
    keyword = token.keyword
    if keyword in ("LIKE", "ILIKE", "IN"):
        return keyword, token
    if keyword == "NOT":
        following = stream.next()
        if following.keyword == "IN":
            return "NOT IN", token
        shown = following.text.upper() if following.kind == WORD else following.describe()
        return f"NOT {shown}".strip(), token
    if keyword == "IS":
        following = stream.next()
        if following.keyword == "NULL":
            return "IS NULL", token
        if following.keyword == "NOT" and stream.peek().keyword == "NULL":
            stream.next()
            return "IS NOT NULL", token
        raise stream.error("Expected NULL or NOT NULL after IS", following)
    raise stream.error(
        f"Expected a comparator after {subject}, found {token.describe()!r} (quote keys "
        "that contain spaces with backticks)",
        token,
    )


def _read_scalar(stream: TokenStream, field: Field, subject: str):
    token = stream.next()
    value_type = field.value_type
    if value_type in (grammars.FLOAT, grammars.INTEGER):
        if field.quoted_numbers and token.kind == STRING and NUMBER_RE.fullmatch(token.text):
            token = attrs.evolve(token, kind=NUMBER)
        if token.kind != NUMBER:
            raise stream.error(
                f"Expected numeric value type for {subject}. Found {token.describe()}", token
            )
        number = float(token.text)
        if value_type == grammars.FLOAT:
            return number
        if not number.is_integer():
            return number  # start_time > 1.5 is a fair question; keep the fraction
        return int(number) if any(c in token.text for c in ".eE") else int(token.text)
    if token.kind == STRING:
        return token.text
    if value_type == grammars.ID and token.kind == NUMBER:
        return token.text
    hint = " (use IS NULL / IS NOT NULL for missing values)" if token.keyword == "NULL" else ""
    raise stream.error(
        f"Expected a quoted string value for {subject}. Found {token.describe()}{hint}", token
    )


def _read_list(stream: TokenStream, field: Field, subject: str, comparator: str) -> tuple:
    opening = stream.next()
    if opening.kind != LPAREN:
        raise stream.error(
            f"Expected a parenthesised list of quoted strings after {comparator}, found "
            f"{opening.describe()}",
            opening,
        )
    if stream.peek().kind == RPAREN:
        raise stream.error(f"The list after {comparator} must not be empty", stream.peek())
    values = []
    while True:
        values.append(_read_scalar(stream, field, subject))
        separator = stream.next()
        if separator.kind == RPAREN:
            return tuple(values)
        if separator.kind != COMMA:
            raise stream.error(
                f"Expected ',' or ')' in the list after {comparator}, found {separator.describe()}",
                separator,
            )


def _field_for(stream: TokenStream, grammar: Grammar, entity: str, key: str, token: Token):
    """The Field for ``entity.key`` and the canonical key, or raise."""
    if entity == ATTRIBUTE:
        canonical = _canonical_attribute(key, grammar.attributes, grammar.attribute_aliases)
        if canonical is None:
            hint = grammar.attribute_hints.get(key)
            raise stream.error(
                f"Invalid attribute key '{key}' specified. Valid keys are "
                f"{sorted(grammar.attributes)}" + (f"; {hint}" if hint else ""),
                token,
            )
        return grammar.attributes[canonical], canonical
    if entity == DATASET:
        if key not in grammar.dataset_fields:
            raise stream.error(
                f"Invalid dataset key '{key}' specified. Valid keys are "
                f"{sorted(grammar.dataset_fields)}",
                token,
            )
        return grammar.dataset_fields[key], key
    if not key:
        raise stream.error(f"Missing key for {_ENTITY_WORDS[entity]}", token)
    return grammar.entity_fields[entity], key


def _read_clause(stream: TokenStream, grammar: Grammar) -> Comparison:
    start = stream.peek()
    if start.kind == LPAREN:
        raise stream.error(
            "Invalid clause(s) in filter string: '('; grouping with parentheses is not supported",
            start,
        )
    if start.keyword in _REJECTED_CLAUSE_WORDS:
        raise stream.error(
            f"Invalid clause(s) in filter string: '{start.text}'; only AND is supported",
            start,
        )
    if start.kind == END:
        raise stream.error("Expected a clause, found end of filter string", start)
    if start.keyword is not None:
        raise stream.error(f"Expected an identifier, found keyword '{start.text}'", start)
    prefix, key, token = _read_identifier(stream)
    entity = _entity_of(stream, prefix, grammar.entities, grammar.kind, token)
    field, key = _field_for(stream, grammar, entity, key, token)
    subject = _describe(entity, key)
    comparator, comparator_token = _read_comparator(stream, subject)
    if comparator not in field.comparators:
        raise stream.error(
            f"Invalid comparator '{comparator}' not one of '{_set_text(field.comparators)}' "
            f"for {subject}",
            comparator_token,
        )
    if comparator in ("IS NULL", "IS NOT NULL"):
        value = None
    elif comparator in ("IN", "NOT IN"):
        value = _read_list(stream, field, subject, comparator)
    else:
        value = _read_scalar(stream, field, subject)
    return Comparison(entity, key, comparator, value)


# Each comparison and each order_by key becomes a join or a subquery: beyond these, SQLite
# refuses the statement (64 tables a join), PostgreSQL spends minutes planning it and
# SQLAlchemy's compiler runs out of stack. No search a person writes comes near.
MAX_COMPARISONS = 40
MAX_ORDER_BY = 20


def parse_filter(filter_string: str | None, grammar: Grammar) -> list[Comparison]:
    """Parse ``filter_string`` under ``grammar``; an empty or None filter gives []."""
    if filter_string is None:
        return []
    if not isinstance(filter_string, str):
        raise _invalid(f"Filter string must be a string, got {type(filter_string).__name__}")
    if not filter_string.strip():
        return []
    stream = TokenStream(filter_string)
    comparisons = []
    # MLflow ignores stray ANDs (leading, doubled, trailing); so do we.
    _skip_ands(stream)
    while stream.peek().kind != END:
        comparisons.append(_read_clause(stream, grammar))
        if len(comparisons) > MAX_COMPARISONS:
            raise _invalid(f"A filter may hold at most {MAX_COMPARISONS} comparisons "
                           "joined by AND")
        token = stream.peek()
        if token.kind == END:
            break
        if token.keyword == "AND":
            _skip_ands(stream)
            continue
        stream.next()
        if token.keyword in _REJECTED_CLAUSE_WORDS or token.kind in (LPAREN, RPAREN):
            raise stream.error(
                f"Invalid clause(s) in filter string: '{token.text}'; only AND is supported",
                token,
            )
        raise stream.error(f"Expected 'AND' between clauses, found {token.describe()!r}", token)
    return comparisons


def _skip_ands(stream: TokenStream) -> None:
    while stream.peek().keyword == "AND":
        stream.next()


# ---------------------------------------------------------------- order_by


def _parse_order_by_clause(clause, grammar: Grammar) -> OrderBy:
    if not isinstance(clause, str):
        raise _invalid(f"Invalid order_by clause {clause!r}: expected a string")
    if not clause.strip():
        raise _invalid("Invalid order_by clause '': expected '<identifier> [ASC|DESC]'")
    stream = TokenStream(clause)
    if stream.peek().keyword is not None:
        raise stream.error(f"Invalid order_by clause {clause!r}: expected an identifier")
    prefix, key, token = _read_identifier(stream)
    allowed = (ATTRIBUTE, *grammar.order_by_entities)
    entity = _entity_of(stream, prefix, allowed, grammar.kind, token)
    if entity == ATTRIBUTE:
        canonical = _canonical_attribute(key, grammar.order_by_attributes, grammar.order_by_aliases)
        if canonical is None:
            raise stream.error(
                f"Invalid order_by attribute '{key}'. Valid keys are "
                f"{sorted(grammar.order_by_attributes)}",
                token,
            )
        key = canonical
    elif not key:
        raise stream.error(f"Invalid order_by clause {clause!r}: missing key", token)
    ascending = True
    direction = stream.next()
    if direction.keyword in ("ASC", "DESC"):
        ascending = direction.keyword == "ASC"
        direction = stream.next()
    if direction.kind != END:
        raise stream.error(
            f"Invalid order_by clause {clause!r}: expected ASC or DESC, found "
            f"{direction.describe()!r}",
            direction,
        )
    return OrderBy(entity, key, ascending)


def parse_order_by(order_by, grammar: Grammar) -> list[OrderBy]:
    """Parse a list of ``"<identifier> [ASC|DESC]"`` clauses; None or [] gives []."""
    if order_by is None:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    if len(order_by) > MAX_ORDER_BY:
        raise _invalid(f"order_by may hold at most {MAX_ORDER_BY} clauses, got {len(order_by)}")
    return [_parse_order_by_clause(clause, grammar) for clause in order_by]


# ---------------------------------------------------------------- per search kind


def parse_run_filter(filter_string: str | None) -> list[Comparison]:
    return parse_filter(filter_string, grammars.RUN)


def parse_run_order_by(order_by: list[str] | None) -> list[OrderBy]:
    return parse_order_by(order_by, grammars.RUN)


def parse_experiment_filter(filter_string: str | None) -> list[Comparison]:
    return parse_filter(filter_string, grammars.EXPERIMENT)


def parse_experiment_order_by(order_by: list[str] | None) -> list[OrderBy]:
    return parse_order_by(order_by, grammars.EXPERIMENT)


def parse_registered_model_filter(filter_string: str | None) -> list[Comparison]:
    return parse_filter(filter_string, grammars.REGISTERED_MODEL)


def parse_registered_model_order_by(order_by: list[str] | None) -> list[OrderBy]:
    return parse_order_by(order_by, grammars.REGISTERED_MODEL)


def parse_model_version_filter(filter_string: str | None) -> list[Comparison]:
    return parse_filter(filter_string, grammars.MODEL_VERSION)


def parse_model_version_order_by(order_by: list[str] | None) -> list[OrderBy]:
    return parse_order_by(order_by, grammars.MODEL_VERSION)
