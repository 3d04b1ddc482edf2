"""Every exception class pyjwt and pyseto define is translated to a specific ``TokenError``
(``formats._translate``), so a library upgrade that adds one fails here instead of leaking a 500."""

from __future__ import annotations

import inspect
from types import ModuleType

import jwt.exceptions
import pyseto.exceptions
import pytest

from formats import TokenError
from formats._translate import PYJWT_ERRORS, PYSETO_ERRORS, library_errors, translate


def exception_classes(module: ModuleType) -> list[type[Exception]]:
    """Exception classes defined by the library (not re-exported builtins), found by inspection."""
    package = module.__name__.split(".")[0]
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__.split(".")[0] == package
    ]


PYJWT = exception_classes(jwt.exceptions)
PYSETO = exception_classes(pyseto.exceptions)
ALL = [(cls, PYJWT_ERRORS) for cls in PYJWT] + [(cls, PYSETO_ERRORS) for cls in PYSETO]


def test_inspection_finds_the_libraries_exception_trees() -> None:
    assert {
        jwt.exceptions.PyJWTError,
        jwt.exceptions.InvalidSignatureError,
        jwt.exceptions.DecodeError,
    } <= set(PYJWT)
    assert {
        pyseto.exceptions.PysetoError,
        pyseto.exceptions.VerifyError,
        pyseto.exceptions.DecryptError,
    } <= set(PYSETO)
    assert len(PYJWT) >= 19
    assert len(PYSETO) >= 6


@pytest.mark.parametrize(("cls", "table"), ALL, ids=[f"{c.__module__}.{c.__name__}" for c, _ in ALL])
def test_library_exception_class_maps_to_a_specific_token_error(
    cls: type[Exception], table: dict[type[Exception], type[TokenError]]
) -> None:
    target = table.get(cls)
    assert target is not None, f"{cls.__module__}.{cls.__name__} has no entry in formats._translate"
    assert issubclass(target, TokenError)
    assert target is not TokenError
    assert target.code.startswith("token_")


@pytest.mark.parametrize(("cls", "table"), ALL, ids=[f"{c.__module__}.{c.__name__}" for c, _ in ALL])
def test_raised_library_exception_comes_out_as_its_token_error(
    cls: type[Exception], table: dict[type[Exception], type[TokenError]]
) -> None:
    with pytest.raises(TokenError) as caught, library_errors():
        raise cls("from the library")
    assert type(caught.value) is table[cls]
    assert isinstance(caught.value.__cause__, cls)
    assert type(translate(cls("again"))) is table[cls]


@pytest.mark.parametrize(
    "exc", [ValueError("x"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), TypeError("x")]
)
def test_bare_parse_errors_pyseto_leaks_come_out_as_malformed(exc: Exception) -> None:
    with pytest.raises(TokenError) as caught, library_errors():
        raise exc
    assert caught.value.code == "token_malformed"
