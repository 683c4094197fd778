"""The one way several outcomes combine into an exit code (DESIGN.md's CLI contract), which a
plan's steps and any command reporting several items use."""

from __future__ import annotations

import itertools

from evidencekit.errors import (
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    PartialReadError,
    UsageError,
    worst_exit_code,
)


def test_exit_code_order() -> None:
    assert worst_exit_code() == 0
    assert worst_exit_code(0, 0) == 0
    assert worst_exit_code(0, 1) == 1
    assert worst_exit_code(1, 4) == 4
    assert worst_exit_code(4, 3, 1) == 3
    assert worst_exit_code(3, 2) == 2


def test_the_order_holds_whatever_order_the_codes_come_in() -> None:
    order = [0, 1, 4, 3, 2]  # weakest first
    for codes in itertools.permutations(order, 3):
        assert worst_exit_code(*codes) == max(codes, key=order.index)


def test_a_code_outside_the_contract_counts_as_operational() -> None:
    assert worst_exit_code(0, 7) == 7
    assert worst_exit_code(7, 4) == 4
    assert worst_exit_code(1, 7) == 1  # the first of equals


def test_the_error_classes_codes_are_the_ones_ranked() -> None:
    assert EvidenceKitError.exit_code == CustodyError.exit_code == 1
    assert (UsageError.exit_code, IntegrityError.exit_code, PartialReadError.exit_code) == (2, 3, 4)
