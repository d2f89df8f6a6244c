"""MLflow's filter grammar: every row of the search tables, aliases, quoting and errors."""

from __future__ import annotations

import pytest

from skiff.errors import SkiffException
from skiff.search.ast import Comparison, OrderBy
from skiff.search.parser import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
    parse_run_filter,
    parse_run_order_by,
)

NUMERIC_OPS = ["=", "!=", ">", ">=", "<", "<="]
STRING_OPS = ["=", "!=", "LIKE", "ILIKE"]


def one(parse, text) -> Comparison:
    [comparison] = parse(text)
    return comparison


def error(parse, text) -> str:
    with pytest.raises(SkiffException) as info:
        parse(text)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.http_status == 400
    return info.value.message


# ---------------------------------------------------------------- empty input


@pytest.mark.parametrize(
    "parse",
    [
        parse_run_filter,
        parse_experiment_filter,
        parse_registered_model_filter,
        parse_model_version_filter,
    ],
)
@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_filter_is_no_clauses(parse, text):
    assert parse(text) == []


def test_filter_must_be_a_string():
    assert "must be a string" in error(parse_run_filter, 5)


# ---------------------------------------------------------------- runs: metrics


@pytest.mark.parametrize("op", NUMERIC_OPS)
def test_metric_numeric_comparators(op):
    assert one(parse_run_filter, f"metrics.rmse {op} 0.5") == Comparison("metric", "rmse", op, 0.5)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("-1", -1.0),
        ("+2", 2.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
        ("-2e+2", -200.0),
        ("10.", 10.0),
    ],
)
def test_metric_number_literals_become_floats(literal, value):
    comparison = one(parse_run_filter, f"metrics.a >= {literal}")
    assert comparison.value == value
    assert type(comparison.value) is float


def test_numbers_need_no_spaces_around_comparators():
    assert parse_run_filter("metrics.a>=-1 and metrics.b!=2") == [
        Comparison("metric", "a", ">=", -1.0),
        Comparison("metric", "b", "!=", 2.0),
    ]


@pytest.mark.parametrize("op", ["LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL", "=="])
def test_metric_rejects_non_numeric_comparators(op):
    value = {"IN": " ('1')", "NOT IN": " ('1')", "IS NULL": "", "IS NOT NULL": ""}.get(op, " 1")
    message = error(parse_run_filter, f"metrics.a {op}{value}")
    assert f"Invalid comparator '{op}' not one of" in message


def test_metric_needs_numeric_value():
    message = error(parse_run_filter, "metrics.a = 'x'")
    assert "Expected numeric value type for metric" in message
    assert "'x'" in message


# ---------------------------------------------------------------- runs: params and tags


@pytest.mark.parametrize("entity", ["params", "param", "parameters", "parameter"])
@pytest.mark.parametrize("op", STRING_OPS)
def test_param_string_comparators(entity, op):
    assert one(parse_run_filter, f"{entity}.model {op} 'rf'") == Comparison(
        "param", "model", op, "rf"
    )


@pytest.mark.parametrize("entity", ["tags", "tag"])
@pytest.mark.parametrize("op", STRING_OPS)
def test_tag_string_comparators(entity, op):
    assert one(parse_run_filter, f"{entity}.team {op} 'ml%'") == Comparison(
        "tag", "team", op, "ml%"
    )


@pytest.mark.parametrize("entity", ["params", "tags"])
def test_null_checks(entity):
    kind = entity[:-1]
    assert one(parse_run_filter, f"{entity}.x IS NULL") == Comparison(kind, "x", "IS NULL")
    assert one(parse_run_filter, f"{entity}.x is not null") == Comparison(kind, "x", "IS NOT NULL")


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "IN", "NOT IN"])
def test_params_reject_numeric_and_set_comparators(op):
    value = " ('a')" if "IN" in op else " 'a'"
    assert f"Invalid comparator '{op}'" in error(parse_run_filter, f"params.a {op}{value}")


def test_string_entities_need_quoted_values():
    assert "Expected a quoted string value for param 'lr'" in error(
        parse_run_filter, "params.lr = 0.1"
    )
    assert "IS NULL" in error(parse_run_filter, "tags.a = NULL")


def test_comparators_are_case_insensitive_and_stored_upper_cased():
    assert parse_run_filter("params.a like 'x' AND tags.b iLiKe 'y' and run_id not in ('r')") == [
        Comparison("param", "a", "LIKE", "x"),
        Comparison("tag", "b", "ILIKE", "y"),
        Comparison("attribute", "run_id", "NOT IN", ("r",)),
    ]


# ---------------------------------------------------------------- runs: attributes


@pytest.mark.parametrize("prefix", ["", "attributes.", "attribute.", "attr.", "run."])
@pytest.mark.parametrize("key", ["run_id", "run_name", "status", "user_id", "artifact_uri"])
@pytest.mark.parametrize("op", STRING_OPS)
def test_string_attributes(prefix, key, op):
    assert one(parse_run_filter, f"{prefix}{key} {op} 'v'") == Comparison("attribute", key, op, "v")


@pytest.mark.parametrize("op", ["IN", "NOT IN"])
def test_run_id_in_lists(op):
    assert one(parse_run_filter, f"attributes.run_id {op} ('a1', \"b2\" ,'c3')") == Comparison(
        "attribute", "run_id", op, ("a1", "b2", "c3")
    )


@pytest.mark.parametrize("key", ["run_name", "status", "user_id", "artifact_uri"])
def test_in_only_for_run_id(key):
    assert "Invalid comparator 'IN'" in error(parse_run_filter, f"{key} IN ('a')")


@pytest.mark.parametrize("key", ["start_time", "end_time"])
@pytest.mark.parametrize("op", NUMERIC_OPS)
def test_numeric_attributes(key, op):
    comparison = one(parse_run_filter, f"attributes.{key} {op} 1700000000123")
    assert comparison == Comparison("attribute", key, op, 1700000000123)
    assert type(comparison.value) is int


def test_numeric_attribute_values():
    assert one(parse_run_filter, "start_time > 1.7e12").value == 1700000000000
    # A fraction is kept (MLflow compares it as written); whole numbers become ints.
    assert one(parse_run_filter, "start_time > 1.5").value == 1.5
    assert type(one(parse_run_filter, "end_time < 2.0").value) is int
    assert "Expected numeric value type for attribute 'end_time'" in error(
        parse_run_filter, "end_time > '5'"
    )
    assert "Invalid comparator 'LIKE'" in error(parse_run_filter, "start_time LIKE '5'")


@pytest.mark.parametrize(
    "alias", ["`run name`", "`Run name`", "`Run Name`", '"Run Name"', "attributes.`Run name`"]
)
def test_run_name_aliases(alias):
    assert one(parse_run_filter, f"{alias} LIKE 'base%'") == Comparison(
        "attribute", "run_name", "LIKE", "base%"
    )


@pytest.mark.parametrize("alias", ["created", "Created", "attributes.created"])
def test_created_alias(alias):
    assert one(parse_run_filter, f"{alias} >= 10") == Comparison(
        "attribute", "start_time", ">=", 10
    )


@pytest.mark.parametrize("key", ["lifecycle_stage", "experiment_id"])
def test_unfilterable_run_attributes(key):
    message = error(parse_run_filter, f"{key} = 'x'")
    assert f"Invalid attribute key '{key}'" in message
    assert "run_id" in message and "start_time" in message  # lists the valid ones


def test_unknown_attribute_lists_valid_keys():
    message = error(parse_run_filter, "attributes.foo = 'x'")
    assert "Invalid attribute key 'foo'" in message
    for key in ["run_id", "run_name", "status", "user_id", "artifact_uri", "start_time"]:
        assert key in message


# ---------------------------------------------------------------- runs: datasets


@pytest.mark.parametrize("entity", ["datasets", "dataset"])
@pytest.mark.parametrize("key", ["name", "digest", "context"])
@pytest.mark.parametrize("op", STRING_OPS)
def test_dataset_string_comparators(entity, key, op):
    assert one(parse_run_filter, f"{entity}.{key} {op} 'd'") == Comparison("dataset", key, op, "d")


@pytest.mark.parametrize("op", ["IN", "NOT IN"])
def test_dataset_in_lists(op):
    assert one(parse_run_filter, f"datasets.context {op} ('train', 'eval')") == Comparison(
        "dataset", "context", op, ("train", "eval")
    )


def test_dataset_errors():
    assert "Invalid dataset key 'source'" in error(parse_run_filter, "datasets.source = 'x'")
    assert "Invalid comparator 'IS NULL'" in error(parse_run_filter, "datasets.name IS NULL")


# ---------------------------------------------------------------- identifiers and quoting


def test_keys_quoted_with_backticks_or_double_quotes():
    assert parse_run_filter(
        "metrics.`my metric` > 1 and tags.\"mlflow.runName\" = 'x' and params.`a``b` = 'y'"
    ) == [
        Comparison("metric", "my metric", ">", 1.0),
        Comparison("tag", "mlflow.runName", "=", "x"),
        Comparison("param", "a`b", "=", "y"),
    ]


def test_unquoted_keys_may_hold_dots_and_key_characters():
    assert parse_run_filter("tags.mlflow.runName = 'x' and metrics.val-loss/x:y < 2") == [
        Comparison("tag", "mlflow.runName", "=", "x"),
        Comparison("metric", "val-loss/x:y", "<", 2.0),
    ]


def test_entity_prefix_is_case_insensitive():
    assert one(parse_run_filter, "METRICS.a > 1") == Comparison("metric", "a", ">", 1.0)


def test_key_with_space_needs_quotes():
    message = error(parse_run_filter, "metrics.my metric > 1")
    assert "Expected a comparator" in message and "backticks" in message
    assert "position 11" in message


def test_unknown_entity():
    message = error(parse_run_filter, "foo.bar = 'x'")
    assert "Invalid entity type 'foo'" in message and "metrics" in message


def test_missing_key_after_entity():
    assert "Missing key after 'metrics.'" in error(parse_run_filter, "metrics. > 1")


def test_single_quoted_key_after_entity():
    assert one(parse_run_filter, "tags.'my key' = 'b'") == Comparison("tag", "my key", "=", "b")


def test_single_quoted_identifier_rejected():
    assert "Expected an identifier" in error(parse_run_filter, "'status' = 'x'")


# ---------------------------------------------------------------- values and strings


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("''", ""),
        ("'it''s'", "it's"),
        (r"'it\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'a\_b%'", r"a\_b%"),
        ("'  spaced and AND or '", "  spaced and AND or "),
        ("'ünï'", "ünï"),
    ],
)
def test_string_literals(literal, value):
    assert one(parse_run_filter, f"params.p = {literal}").value == value


def test_unterminated_string():
    message = error(parse_run_filter, "params.a = 'abc")
    assert "Unterminated" in message and "position 11" in message


def test_in_list_errors():
    assert "must not be empty" in error(parse_run_filter, "run_id IN ()")
    assert "Expected a parenthesised list" in error(parse_run_filter, "run_id IN 'a'")
    assert "Expected ',' or ')'" in error(parse_run_filter, "run_id IN ('a' 'b')")
    assert "Expected a quoted string value" in error(parse_run_filter, "run_id IN ('a', 1)")
    assert "Expected a quoted string value" in error(parse_run_filter, "run_id IN ('a',)")
    assert "Expected ',' or ')'" in error(parse_run_filter, "run_id IN ('a'")


# ---------------------------------------------------------------- conjunctions and errors


@pytest.mark.parametrize(
    "text",
    [
        "metrics.a > 1 and",
        "and metrics.a > 1",
        "AND metrics.a > 1 AND and metrics.b > 2 AND  ",
    ],
)
def test_stray_ands_are_ignored_as_mlflow_does(text):
    parsed = parse_run_filter(text)
    assert parsed[0] == Comparison("metric", "a", ">", 1.0)
    assert len(parsed) == text.count("metrics.")


def test_only_ands_is_no_clauses():
    assert parse_run_filter("AND") == []
    assert parse_run_filter(" and AND ") == []


def test_and_inside_a_key_or_value_is_not_a_conjunction():
    assert parse_run_filter("tags.and = 'x and y' and params.`AND` = 'z'") == [
        Comparison("tag", "and", "=", "x and y"),
        Comparison("param", "AND", "=", "z"),
    ]


def test_conjunction_keyword_case_insensitive():
    assert (
        len(
            parse_run_filter("metrics.a > 1 and metrics.b > 2 AND metrics.c > 3 aNd params.d = 'e'")
        )
        == 4
    )


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("metrics.a > 1 OR metrics.b > 2", "OR"),
        ("metrics.a > 1 or metrics.b > 2", "or"),
        ("NOT metrics.a > 1", "NOT"),
        ("metrics.a > 1 AND NOT params.b = 'x'", "NOT"),
    ],
)
def test_or_and_not_rejected(text, word):
    assert f"Invalid clause(s) in filter string: '{word}'" in error(parse_run_filter, text)


@pytest.mark.parametrize(
    "text",
    ["(metrics.a > 1)", "metrics.a > 1 AND (params.b = 'x' AND params.c = 'y')", "metrics.a > 1 )"],
)
def test_parentheses_rejected(text):
    assert "Invalid clause(s) in filter string" in error(parse_run_filter, text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "metrics.a >> 1",
            "Invalid comparator '>>' not one of '{'=', '!=', '>', '>=', '<', '<='}'",
        ),
        ("metrics.a <> 1", "Invalid comparator '<>'"),
        ("params.a NOT LIKE 'x'", "Invalid comparator 'NOT LIKE'"),
        ("metrics.a > 1 metrics.b > 2", "Expected 'AND' between clauses"),
        ("metrics.a", "Expected a comparator"),
        ("metrics.a >", "Expected numeric value type"),
        ("params.a IS 5", "Expected NULL or NOT NULL after IS"),
        ("params.a = 'x' || params.b = 'y'", "Unexpected character '|'"),
        ("params.a = 'x'; drop", "Unexpected character ';'"),
    ],
)
def test_syntax_errors(text, fragment):
    assert fragment in error(parse_run_filter, text)


def test_errors_name_the_position():
    message = error(parse_run_filter, "metrics.a > 1 and params.b ~ 'x'")
    assert "Unexpected character '~'" in message
    assert "position 27" in message


# ---------------------------------------------------------------- runs: order_by


def test_run_order_by():
    assert parse_run_order_by(
        [
            "metrics.rmse",
            "params.lr DESC",
            "tags.`a b` asc",
            "attributes.start_time desc",
            "run_name",
            "Created DESC",
            "`Run name`",
            "tags.mlflow.runName DESC",
            'metric."m 1" ASC',
            "attr.end_time",
            "status",
            "user_id",
            "artifact_uri",
            "run_id",
        ]
    ) == [
        OrderBy("metric", "rmse", True),
        OrderBy("param", "lr", False),
        OrderBy("tag", "a b", True),
        OrderBy("attribute", "start_time", False),
        OrderBy("attribute", "run_name", True),
        OrderBy("attribute", "start_time", False),
        OrderBy("attribute", "run_name", True),
        OrderBy("tag", "mlflow.runName", False),
        OrderBy("metric", "m 1", True),
        OrderBy("attribute", "end_time", True),
        OrderBy("attribute", "status", True),
        OrderBy("attribute", "user_id", True),
        OrderBy("attribute", "artifact_uri", True),
        OrderBy("attribute", "run_id", True),
    ]


@pytest.mark.parametrize(
    "parse",
    [
        parse_run_order_by,
        parse_experiment_order_by,
        parse_registered_model_order_by,
        parse_model_version_order_by,
    ],
)
def test_order_by_empty(parse):
    assert parse(None) == []
    assert parse([]) == []


def test_order_by_accepts_a_single_string():
    assert parse_run_order_by("metrics.a DESC") == [OrderBy("metric", "a", False)]


@pytest.mark.parametrize(
    ("clause", "fragment"),
    [
        ("metrics.a DESC x", "expected ASC or DESC"),
        ("metrics.a UP", "expected ASC or DESC"),
        ("foo", "Invalid order_by attribute 'foo'"),
        ("lifecycle_stage", "Invalid order_by"),
        ("datasets.name", "Invalid entity type 'datasets'"),
        ("", "Invalid order_by clause"),
        ("DESC", "expected an identifier"),
        ("metrics.`a", "Unterminated"),
        ("bogus.a", "Invalid entity type 'bogus'"),
    ],
)
def test_run_order_by_errors(clause, fragment):
    assert fragment in error(parse_run_order_by, [clause])


# ---------------------------------------------------------------- experiments


@pytest.mark.parametrize("op", STRING_OPS)
def test_experiment_name(op):
    assert parse_experiment_filter(f"name {op} 'exp%' and attributes.name {op} 'b'") == [
        Comparison("attribute", "name", op, "exp%"),
        Comparison("attribute", "name", op, "b"),
    ]


def test_experiment_id():
    assert parse_experiment_filter(
        "experiment_id = '1' and experiment_id != 2 and experiment_id IN ('3', 4) "
        "and experiment_id NOT IN ('5')"
    ) == [
        Comparison("attribute", "experiment_id", "=", "1"),
        Comparison("attribute", "experiment_id", "!=", "2"),
        Comparison("attribute", "experiment_id", "IN", ("3", "4")),
        Comparison("attribute", "experiment_id", "NOT IN", ("5",)),
    ]
    assert "Invalid comparator 'LIKE'" in error(parse_experiment_filter, "experiment_id LIKE '1'")


@pytest.mark.parametrize("key", ["creation_time", "last_update_time"])
@pytest.mark.parametrize("op", NUMERIC_OPS)
def test_experiment_times(key, op):
    assert one(parse_experiment_filter, f"{key} {op} 5") == Comparison("attribute", key, op, 5)


@pytest.mark.parametrize("op", STRING_OPS + ["IS NULL", "IS NOT NULL"])
def test_experiment_tags(op):
    value = None if "NULL" in op else "v"
    text = f"tags.`k 1` {op}" + ("" if value is None else " 'v'")
    assert one(parse_experiment_filter, text) == Comparison("tag", "k 1", op, value)


def test_experiment_filter_errors():
    assert "Invalid comparator 'IN'" in error(parse_experiment_filter, "name IN ('a')")
    assert "Invalid entity type 'metrics'" in error(parse_experiment_filter, "metrics.a > 1")
    assert "Invalid attribute key 'status'" in error(parse_experiment_filter, "status = 'x'")
    assert "Expected numeric value type" in error(parse_experiment_filter, "creation_time > 'x'")


def test_experiment_order_by():
    assert parse_experiment_order_by(
        ["name", "attributes.experiment_id DESC", "creation_time desc", "last_update_time ASC"]
    ) == [
        OrderBy("attribute", "name", True),
        OrderBy("attribute", "experiment_id", False),
        OrderBy("attribute", "creation_time", False),
        OrderBy("attribute", "last_update_time", True),
    ]
    assert "Invalid entity type 'tags'" in error(parse_experiment_order_by, ["tags.a"])
    assert "Invalid order_by attribute 'foo'" in error(parse_experiment_order_by, ["foo"])


# ---------------------------------------------------------------- registered models


@pytest.mark.parametrize("op", STRING_OPS)
def test_registered_model_name_and_tags(op):
    assert parse_registered_model_filter(f"name {op} 'm%' and tags.t {op} 'x'") == [
        Comparison("attribute", "name", op, "m%"),
        Comparison("tag", "t", op, "x"),
    ]


@pytest.mark.parametrize("op", ["IN", "NOT IN"])
def test_registered_model_name_lists(op):
    assert one(parse_registered_model_filter, f"name {op} ('a', 'b')") == Comparison(
        "attribute", "name", op, ("a", "b")
    )


def test_registered_model_errors():
    assert "Invalid comparator 'IS NULL'" in error(parse_registered_model_filter, "tags.t IS NULL")
    assert "Invalid attribute key 'run_id'" in error(parse_registered_model_filter, "run_id = 'x'")
    assert "Invalid entity type 'params'" in error(parse_registered_model_filter, "params.a = 'x'")


def test_registered_model_order_by():
    assert parse_registered_model_order_by(
        ["name DESC", "creation_timestamp", "last_updated_timestamp desc", "timestamp"]
    ) == [
        OrderBy("attribute", "name", False),
        OrderBy("attribute", "creation_timestamp", True),
        OrderBy("attribute", "last_updated_timestamp", False),
        OrderBy("attribute", "creation_timestamp", True),
    ]
    assert "Invalid order_by attribute 'version_number'" in error(
        parse_registered_model_order_by, ["version_number"]
    )


# ---------------------------------------------------------------- model versions


@pytest.mark.parametrize("key", ["name", "run_id"])
@pytest.mark.parametrize("op", STRING_OPS + ["IN", "NOT IN"])
def test_model_version_string_attributes(key, op):
    value, expected = ("('a', 'b')", ("a", "b")) if "IN" in op else ("'a'", "a")
    assert one(parse_model_version_filter, f"{key} {op} {value}") == Comparison(
        "attribute", key, op, expected
    )


@pytest.mark.parametrize("op", STRING_OPS)
def test_model_version_source_path_and_tags(op):
    assert parse_model_version_filter(f"source_path {op} 's3://%' and tags.t {op} 'x'") == [
        Comparison("attribute", "source_path", op, "s3://%"),
        Comparison("tag", "t", op, "x"),
    ]
    assert "Invalid comparator 'IN'" in error(parse_model_version_filter, "source_path IN ('a')")


@pytest.mark.parametrize("op", NUMERIC_OPS)
def test_model_version_number(op):
    assert one(parse_model_version_filter, f"version_number {op} 3") == Comparison(
        "attribute", "version_number", op, 3
    )
    # MLflow takes a quoted number for version_number too.
    assert one(parse_model_version_filter, f"version_number {op} '3'").value == 3
    assert "Expected numeric value type" in error(
        parse_model_version_filter, "version_number = 'three'"
    )


def test_model_version_order_by():
    assert parse_model_version_order_by(
        ["name", "version_number DESC", "creation_timestamp", "last_updated_timestamp DESC"]
    ) == [
        OrderBy("attribute", "name", True),
        OrderBy("attribute", "version_number", False),
        OrderBy("attribute", "creation_timestamp", True),
        OrderBy("attribute", "last_updated_timestamp", False),
    ]
    assert "Invalid order_by attribute 'run_id'" in error(parse_model_version_order_by, ["run_id"])


def test_filter_and_order_by_sizes_are_bounded():
    # each comparison or order_by key is a join for SQL stores: a few dozen is the most a
    # statement can hold everywhere (SQLite: 64 tables), so more is a clear 400
    from skiff.search.parser import (
        MAX_COMPARISONS,
        MAX_ORDER_BY,
        parse_run_filter,
        parse_run_order_by,
    )

    def filter_of(n):
        return " and ".join(f"params.p{i} = 'x'" for i in range(n))

    assert len(parse_run_filter(filter_of(MAX_COMPARISONS))) == MAX_COMPARISONS
    assert len(parse_run_order_by([f"metrics.m{i}" for i in range(MAX_ORDER_BY)])) == 20
    with pytest.raises(SkiffException) as err:
        parse_run_filter(filter_of(MAX_COMPARISONS + 1))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE" and "at most 40" in str(err.value)
    with pytest.raises(SkiffException) as err:
        parse_run_order_by([f"metrics.m{i}" for i in range(MAX_ORDER_BY + 1)])
    assert "at most 20" in str(err.value)
